import { randomBytes } from 'node:crypto';
import { promises as fsp, constants as fsc } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { serializeJson } from './serialize.js';

/**
 * Suffix of every temporary file meph writes. It deliberately does not end in `.json`, so a
 * temp file left by a crash is never mistaken for a products file by `regenerateIndex` or a
 * reader scanning `streams/v1/`.
 */
export const TEMP_SUFFIX = '.meph-tmp';

/** A fresh temp path in the same directory as `target` (so the final rename is atomic). */
export function tempPathFor(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}${TEMP_SUFFIX}`);
}

/** True for names produced by {@link tempPathFor}. */
export function isTempName(name: string): boolean {
  return name.startsWith('.') && name.endsWith(TEMP_SUFFIX);
}

/** The pid embedded in a temp file name by {@link tempPathFor}, if `name` is one. */
export function tempWriterPid(name: string): number | undefined {
  if (!isTempName(name)) return undefined;
  const m = /\.(\d+)\.[0-9a-f]{8}\.meph-tmp$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** Whether a process with this pid exists (EPERM means it exists but is not ours). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** fsyncs a directory so a rename inside it survives a power loss. */
export async function fsyncDir(dir: string): Promise<void> {
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(dir, fsc.O_RDONLY | fsc.O_DIRECTORY);
    await handle.sync();
  } catch (err) {
    // Some filesystems refuse fsync on directories; the rename is still atomic there.
    if ((err as NodeJS.ErrnoException).code !== 'EINVAL' && (err as NodeJS.ErrnoException).code !== 'EISDIR') throw err;
  } finally {
    await handle?.close();
  }
}

/**
 * Writes `data` to `file` so that readers see either the old content or the complete new
 * content, never a partial file: temp file in the same directory, write (streamed for a
 * Readable), fsync, rename over `file`, fsync the directory. Parent directories are created.
 * On failure the temp file is removed and the original file is untouched.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array | Readable): Promise<void> {
  const dir = path.dirname(file);
  await fsp.mkdir(dir, { recursive: true });
  const tmp = tempPathFor(file);
  const handle = await fsp.open(tmp, 'wx', 0o644);
  let closed = false;
  try {
    if (typeof data === 'string' || data instanceof Uint8Array) {
      await handle.writeFile(data);
    } else {
      for await (const chunk of data) {
        const buf: Uint8Array = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Uint8Array);
        await writeAll(handle, buf);
      }
    }
    await handle.sync();
    await handle.close();
    closed = true;
    await fsp.rename(tmp, file);
  } catch (err) {
    if (!closed) await handle.close().catch(() => {});
    await fsp.rm(tmp, { force: true }).catch(() => {});
    throw err;
  }
  await fsyncDir(dir);
}

/** Writes every byte of `buf` at the handle's current position. */
export async function writeAll(handle: fsp.FileHandle, buf: Uint8Array): Promise<void> {
  let off = 0;
  while (off < buf.length) {
    const { bytesWritten } = await handle.write(buf, off, buf.length - off);
    off += bytesWritten;
  }
}

/** {@link writeFileAtomic} of {@link serializeJson}(value): sorted keys, indent 1, newline. */
export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  await writeFileAtomic(file, serializeJson(value));
}
