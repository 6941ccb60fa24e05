import { closeSync, createReadStream, fsync, open as openFd, renameSync, statSync, writeSync } from 'node:fs';
import { mkdir, open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { fsyncFile, renameDurably } from '@meph/sys';
import type { ClientInternals } from './client.js';
import { algorithmsOf, assertDigest, Digester, type Checksums, type FileDigest } from './digest.js';
import { ChecksumMismatchError, HttpStatusError, SizeMismatchError } from './errors.js';
import { SYNC_READ_BYTES } from './small-file.js';
import type { SyncBatch } from './sync-batch.js';

export interface DownloadProgress {
  url: string;
  /** Bytes in the `.part` file so far (including what an earlier run left). */
  received: number;
  total?: number;
}

export interface DownloadOptions {
  /** Expected size: a different Content-Length fails before reading; checked again at the end. */
  size?: number;
  /** Expected checksums (hex), all verified in one streamed pass before the file appears at `dest`. */
  checksums?: Checksums;
  /** Keep `<dest>.part` after a failure and continue from it with Range (default true). */
  resume?: boolean;
  /** Default `<dest>.part`. */
  partPath?: string;
  /** ETag or Last-Modified the resumed bytes came from (sent as If-Range). */
  ifRange?: string;
  /** Called when the response headers arrive, before any byte is written (e.g. to record the ETag for a later If-Range). */
  onResponse?: (r: { status: number; etag?: string; lastModified?: string; resumeFrom: number }) => void | Promise<void>;
  /** Called at most every 250 ms and once at the end. */
  onProgress?: (p: DownloadProgress) => void;
  signal?: AbortSignal;
  /** File mode of `dest` (default 0o644, umask applies). */
  mode?: number;
  /**
   * Defer durability to a batch: the verified file is renamed into place without its own fsync
   * and directory fsync and handed to `syncBatch`, which the caller flushes before it commits
   * anything referencing the file. Without it each download fsyncs the file and its directory.
   */
  syncBatch?: SyncBatch;
}

export interface DownloadResult {
  path: string;
  /** Size and every checksum asked for (sha256 always). */
  digest: FileDigest;
  /** Bytes reused from an earlier `.part`. */
  resumedFrom: number;
  etag?: string;
  lastModified?: string;
}

/** Thrown inside an attempt when resumed bytes turned out not to belong to the object: start again from zero. */
class RestartFromZero extends Error {}

/** The `.part` file being written (classes, not object literals: nothing is allocated per call but the instance). */
interface PartFile {
  write(buf: Uint8Array): void | Promise<void>;
  sync(): Promise<void>;
  close(): void | Promise<void>;
}

class HandlePart implements PartFile {
  constructor(private readonly handle: FileHandle) {}
  async write(buf: Uint8Array): Promise<void> {
    let off = 0;
    while (off < buf.length) off += (await this.handle.write(buf, off, buf.length - off)).bytesWritten;
  }
  sync(): Promise<void> {
    return this.handle.sync();
  }
  close(): Promise<void> {
    return this.handle.close();
  }
}

/** A small file written with synchronous calls; only its fsync goes to the thread pool. */
class FdPart implements PartFile {
  constructor(private readonly fd: number) {}
  write(buf: Uint8Array): void {
    let off = 0;
    while (off < buf.length) off += writeSync(this.fd, buf, off, buf.length - off);
  }
  sync(): Promise<void> {
    return new Promise((resolve, reject) => fsync(this.fd, (err) => (err ? reject(err) : resolve())));
  }
  close(): void {
    closeSync(this.fd);
  }
}

/** A plain descriptor (no FileHandle) for {@link FdPart}, opened in the thread pool. */
function openPartFd(file: string, flags: string, mode: number): Promise<number> {
  return new Promise((resolve, reject) => openFd(file, flags, mode, (err, fd) => (err ? reject(err) : resolve(fd))));
}

async function hashPrefix(file: string, length: number, d: Digester): Promise<void> {
  if (length === 0) return;
  await d.updateFrom(createReadStream(file, { start: 0, end: length - 1 }));
}

export async function downloadFile(client: ClientInternals, url: string, dest: string, o: DownloadOptions): Promise<DownloadResult> {
  const signal = client.signal(o.signal);
  const part = o.partPath ?? `${dest}.part`;
  const resume = o.resume !== false;
  const algorithms = [...new Set(['sha256' as const, ...algorithmsOf(o.checksums)])];
  const expected = { ...(o.size !== undefined ? { size: o.size } : {}), ...(o.checksums ? { checksums: o.checksums } : {}) };
  // A small file's stat, write, close and rename are synchronous calls, as small-file.ts reads:
  // each takes a microsecond or two, where a thread-pool round trip costs 15–20 µs of CPU (and
  // a missing `.part` an exception with a stack trace); for thousands of small files that was
  // most of a mirror's client work. mkdir and open stay in the thread pool: they allocate
  // inodes, which some file systems make slow (ext4 without a journal scans past recently
  // freed ones), and the event loop must not wait for that. So does fsync.
  const small = o.size !== undefined && o.size <= SYNC_READ_BYTES;
  await mkdir(path.dirname(dest), { recursive: true });
  if (!resume) await rm(part, { force: true });
  let forceZero = false;
  let lastEmit = 0;
  let lastReported = -1;

  const finish = async (digest: FileDigest, resumedFrom: number, meta: { etag?: string; lastModified?: string }): Promise<DownloadResult> => {
    if (o.syncBatch) {
      if (small) renameSync(part, dest);
      else await rename(part, dest);
      o.syncBatch.add(dest);
    } else {
      await renameDurably(part, dest);
    }
    if (lastReported !== digest.size) o.onProgress?.({ url, received: digest.size, total: digest.size });
    return { path: dest, digest, resumedFrom, ...meta };
  };

  return client.retrying(url, signal, async (attempt) => {
    const partSize = forceZero ? undefined : small ? statSync(part, { throwIfNoEntry: false })?.size : (await stat(part).catch(() => undefined))?.size;
    let offset = partSize ?? 0;
    if (offset > 0 && o.size !== undefined && offset > o.size) offset = 0;
    if (offset === 0 && (forceZero || partSize !== undefined)) await rm(part, { force: true });
    const d = new Digester(algorithms);
    if (offset > 0 && o.size !== undefined && offset === o.size) {
      // an earlier run got every byte but stopped before the rename
      await hashPrefix(part, offset, d);
      const digest = d.digest();
      try {
        assertDigest(url, digest, expected);
        // the earlier run may have stopped before its fsync
        if (!o.syncBatch) await fsyncFile(part);
        return await finish(digest, offset, {});
      } catch (err) {
        if (!(err instanceof ChecksumMismatchError || err instanceof SizeMismatchError)) throw err;
        await rm(part, { force: true });
        forceZero = true;
        throw new RestartFromZero();
      }
    }
    let res;
    try {
      res = await client.attempt(url, { method: 'GET', ...(offset > 0 ? { range: { start: offset }, ...(o.ifRange ? { ifRange: o.ifRange } : {}) } : {}), ...(signal ? { signal } : {}) }, attempt);
    } catch (err) {
      if (err instanceof HttpStatusError && err.status === 416 && offset > 0) {
        await rm(part, { force: true });
        forceZero = true;
        throw new RestartFromZero();
      }
      throw err;
    }
    if (offset > 0 && (res.status !== 206 || res.range?.start !== offset)) {
      offset = 0; // the server sent the whole object (or another range): start the file again
    }
    const total = res.range?.total ?? (res.contentLength !== undefined ? offset + res.contentLength : undefined);
    if (o.size !== undefined && total !== undefined && total !== o.size) {
      res.body.destroy();
      await rm(part, { force: true });
      throw new SizeMismatchError(url, o.size, total);
    }
    const resumedFrom = offset;
    try {
      await o.onResponse?.({ status: res.status, resumeFrom: offset, ...(res.etag ? { etag: res.etag } : {}), ...(res.lastModified ? { lastModified: res.lastModified } : {}) });
    } catch (err) {
      res.body.destroy();
      throw err;
    }
    if (offset > 0) await hashPrefix(part, offset, d);
    const flags = offset > 0 ? 'a' : 'w';
    const file: PartFile = small ? new FdPart(await openPartFd(part, flags, o.mode ?? 0o644)) : new HandlePart(await open(part, flags, o.mode ?? 0o644));
    let received = offset;
    try {
      for await (const chunk of res.body) {
        const buf = chunk as Buffer;
        d.update(buf);
        await file.write(buf);
        received += buf.length;
        const now = Date.now();
        if (o.onProgress && now - lastEmit >= 250) {
          lastEmit = now;
          lastReported = received;
          o.onProgress({ url, received, ...(total !== undefined ? { total } : {}) });
        }
        if (o.size !== undefined && received > o.size) {
          res.body.destroy();
          throw new SizeMismatchError(url, o.size, received);
        }
      }
      if (!o.syncBatch) await file.sync();
    } catch (err) {
      res.body.destroy();
      try {
        await file.close();
      } catch {
        // the error that got us here is the one to report
      }
      if (!resume || err instanceof SizeMismatchError) await rm(part, { force: true });
      throw err;
    }
    await file.close();
    const digest = d.digest();
    try {
      assertDigest(url, digest, expected);
    } catch (err) {
      await rm(part, { force: true });
      if (resumedFrom > 0 && !forceZero) {
        // the bytes kept from before may belong to an older object: one clean try
        forceZero = true;
        throw new RestartFromZero();
      }
      throw err;
    }
    return finish(digest, resumedFrom, { ...(res.etag ? { etag: res.etag } : {}), ...(res.lastModified ? { lastModified: res.lastModified } : {}) });
  }).catch(async (err: unknown) => {
    if (err instanceof RestartFromZero) return downloadFile(client, url, dest, { ...o, resume: false });
    throw err;
  });
}
