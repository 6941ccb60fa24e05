import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, stat, writeFile, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { NoSpaceError, SourceChecksumError, SourceDownloadError, SourceFormatError } from '../errors.js';
import type { PipelineEvent } from '../converter.js';

export interface AcquireOptions {
  /** Where http(s) sources are downloaded to (kept between runs). */
  cacheDir: string;
  /** Expected sha256 of the source (hex); checked for local files and downloads. */
  sha256?: string;
  signal?: AbortSignal;
  onEvent?: (e: PipelineEvent) => void;
  fetch?: typeof fetch;
}

export interface Acquired {
  /** Local path of the source. */
  file: string;
  size: number;
  sha256?: string;
  /** True when a download was (re)used from the cache without transferring bytes. */
  cached: boolean;
}

export function isUrl(source: string): boolean {
  return /^https?:\/\//i.test(source);
}

/**
 * Makes the source available as a local file: a local path (or file:// URL) is used in place;
 * an http(s) URL is streamed to `cacheDir/<hash>-<name>` through a `.part` file, resuming with
 * a Range request when a previous download was interrupted, then verified and renamed.
 */
export async function acquireSource(source: string, options: AcquireOptions): Promise<Acquired> {
  if (!isUrl(source)) {
    const file = source.startsWith('file://') ? new URL(source).pathname : source;
    let st;
    try {
      st = await stat(file);
    } catch (e) {
      throw new SourceFormatError(file, 'does not exist', { cause: e, hint: 'give an existing file or an http(s) URL as SOURCE' });
    }
    if (!st.isFile()) throw new SourceFormatError(file, 'is not a regular file');
    if (options.sha256) await checkSha256(file, options.sha256, options.signal);
    return { file, size: st.size, sha256: options.sha256, cached: true };
  }
  return download(source, options);
}

async function download(url: string, options: AcquireOptions): Promise<Acquired> {
  const doFetch = options.fetch ?? fetch;
  const name = path.basename(new URL(url).pathname) || 'source';
  const key = createHash('sha256').update(url).digest('hex').slice(0, 16);
  await mkdir(options.cacheDir, { recursive: true });
  const final = path.join(options.cacheDir, `${key}-${name}`);
  const part = `${final}.part`;
  const meta = `${final}.meta.json`;

  const known = await readMeta(meta);
  const done = await stat(final).catch(() => undefined);
  if (done && known?.complete && known.size === done.size && (!options.sha256 || known.sha256 === options.sha256)) {
    return { file: final, size: done.size, sha256: known.sha256, cached: true };
  }

  let offset = (await stat(part).catch(() => undefined))?.size ?? 0;
  const headers: Record<string, string> = {};
  if (offset > 0) {
    headers.Range = `bytes=${offset}-`;
    // Only resume the same object: the server must still have the version we started.
    if (known?.etag) headers['If-Range'] = known.etag;
    else if (known?.lastModified) headers['If-Range'] = known.lastModified;
  }
  let res: Response;
  try {
    res = await doFetch(url, { headers, signal: options.signal, redirect: 'follow' });
  } catch (e) {
    if (options.signal?.aborted) throw options.signal.reason;
    throw new SourceDownloadError(url, undefined, (e as Error).message, { cause: e });
  }
  if (res.status === 416 && offset > 0) {
    // The .part is already complete (or bigger than the object): start over.
    await rm(part, { force: true });
    await res.body?.cancel();
    return download(url, options);
  }
  if (!res.ok || !res.body) {
    await res.body?.cancel();
    throw new SourceDownloadError(url, res.status, `HTTP ${res.status} ${res.statusText}`.trim());
  }
  if (res.status !== 206) offset = 0;
  const length = Number(res.headers.get('content-length') ?? NaN);
  const total = Number.isFinite(length) ? offset + length : undefined;
  await writeFile(meta, JSON.stringify({ url, etag: res.headers.get('etag') ?? undefined, lastModified: res.headers.get('last-modified') ?? undefined, complete: false }));

  const hash = createHash('sha256');
  if (offset > 0) await pipeline(createReadStream(part, { end: offset - 1 }), new Transform({ transform(c, _e, cb) { hash.update(c); cb(); } }));
  let received = offset;
  let lastEmit = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      received += chunk.length;
      const now = Date.now();
      if (now - lastEmit > 500) {
        lastEmit = now;
        options.onEvent?.({ type: 'progress', step: 'download', done: received, total, unit: 'bytes' });
      }
      cb(null, chunk);
    },
  });
  try {
    await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), meter, createWriteStream(part, { flags: offset > 0 ? 'a' : 'w' }), { signal: options.signal });
  } catch (e) {
    if (options.signal?.aborted) throw options.signal.reason;
    if ((e as NodeJS.ErrnoException).code === 'ENOSPC') throw new NoSpaceError(options.cacheDir, 'download', { cause: e });
    // The .part stays: the next run resumes from where this one stopped.
    throw new SourceDownloadError(url, res.status, `transfer interrupted after ${received} bytes: ${(e as Error).message}`, { cause: e });
  }
  options.onEvent?.({ type: 'progress', step: 'download', done: received, total: total ?? received, unit: 'bytes' });
  if (total !== undefined && received !== total) throw new SourceDownloadError(url, res.status, `received ${received} of ${total} bytes`);
  const sha256 = hash.digest('hex');
  if (options.sha256 && sha256 !== options.sha256.toLowerCase()) {
    await rm(part, { force: true });
    throw new SourceChecksumError(url, options.sha256, sha256);
  }
  await rename(part, final);
  await writeFile(meta, JSON.stringify({ url, etag: res.headers.get('etag') ?? undefined, complete: true, size: received, sha256 }));
  return { file: final, size: received, sha256, cached: false };
}

interface Meta {
  etag?: string;
  lastModified?: string;
  complete?: boolean;
  size?: number;
  sha256?: string;
}

async function readMeta(file: string): Promise<Meta | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Meta;
  } catch {
    return undefined;
  }
}

async function checkSha256(file: string, expected: string, signal?: AbortSignal): Promise<void> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), new Transform({ transform(c, _e, cb) { hash.update(c); cb(); } }), { signal });
  const actual = hash.digest('hex');
  if (actual !== expected.toLowerCase()) throw new SourceChecksumError(file, expected, actual);
}
