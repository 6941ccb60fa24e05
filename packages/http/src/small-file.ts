import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';

/**
 * Files up to this size are read synchronously. Four thread-pool round trips (open, stat, read,
 * close) cost several times the CPU of the read itself; for thousands of small files (a
 * stream's data objects, its metadata) that was most of a publish's client-side work. A read
 * this small from the page cache takes microseconds, so the event loop is not held up.
 */
export const SYNC_READ_BYTES = 128 * 1024;

/** The whole content of a regular file of 1..min(max, SYNC_READ_BYTES) bytes, or undefined (larger, empty, not a regular file). */
export function readSmallFile(file: string, max = SYNC_READ_BYTES): Buffer | undefined {
  const limit = Math.min(max, SYNC_READ_BYTES);
  // by path first: opening a FIFO would block until a writer comes (and a /proc file says size 0
  // whatever it holds): those are left to a stream
  const pre = statSync(file);
  if (!pre.isFile() || pre.size === 0 || pre.size > limit) return undefined;
  const fd = openSync(file, 'r');
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.size === 0 || st.size > limit) return undefined;
    const buf = Buffer.allocUnsafe(st.size);
    let got = 0;
    while (got < buf.length) {
      const n = readSync(fd, buf, got, buf.length - got, got);
      if (n === 0) break;
      got += n;
    }
    return got === buf.length ? buf : buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}
