import { closeSync, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';

/**
 * Files up to this size are read synchronously. Four thread-pool round trips (open, stat, read,
 * close) cost several times the CPU of the read itself; for thousands of small files (a
 * stream's data objects, its metadata) that was most of a publish's client-side work. A read
 * this small from the page cache takes microseconds, so the event loop is not held up.
 */
export const SYNC_READ_BYTES = 128 * 1024;

/**
 * Whether a stat tells the whole size: a regular file of 1..max bytes. A FIFO, or a /proc file
 * (which says size 0 whatever it holds), is left to the caller to stream.
 */
function sizeKnown(st: Stats, max: number): boolean {
  return st.isFile() && st.size > 0 && st.size <= max;
}

/**
 * The whole content of a regular file of 1..max bytes, or undefined (larger, empty, not a regular
 * file: for the caller to stream or read to its end). Up to {@link SYNC_READ_BYTES} it is read
 * synchronously, above that through the thread pool; either way into one buffer of its size.
 */
export async function readWholeFile(file: string, max: number): Promise<Buffer | undefined> {
  // by path first: opening a FIFO would block until a writer comes
  const pre = statSync(file);
  if (!sizeKnown(pre, max)) return undefined;
  // (the synchronous read declines if the file grew past its limit since: then read as a larger one)
  const now = pre.size <= SYNC_READ_BYTES ? readNow(file, Math.min(max, SYNC_READ_BYTES)) : undefined;
  return now ?? (await readLater(file, max));
}

function readNow(file: string, limit: number): Buffer | undefined {
  const fd = openSync(file, 'r');
  try {
    const st = fstatSync(fd);
    if (!sizeKnown(st, limit)) return undefined;
    const buf = Buffer.allocUnsafe(st.size);
    let got = 0;
    while (got < buf.length) {
      const n = readSync(fd, buf, got, buf.length - got, got);
      if (n === 0) break;
      got += n;
    }
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

async function readLater(file: string, limit: number): Promise<Buffer | undefined> {
  const handle = await open(file, 'r');
  try {
    const st = await handle.stat();
    if (!sizeKnown(st, limit)) return undefined;
    const buf = Buffer.allocUnsafe(st.size);
    let got = 0;
    while (got < buf.length) {
      const { bytesRead } = await handle.read(buf, got, buf.length - got, got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return buf.subarray(0, got);
  } finally {
    await handle.close();
  }
}
