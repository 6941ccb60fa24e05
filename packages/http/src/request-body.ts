import { createReadStream, readFile } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { readWholeFile } from './small-file.js';

/** (for files whose stat does not tell their size; the callback readFile: fs/promises' reads in more, smaller steps and costs about twice the CPU) */
const readFileAsync = promisify(readFile);

/** A local file to send as a request body; `size` saves a stat when the caller knows it. */
export interface FileBody {
  file: string;
  size?: number;
}

/** What a request may carry: bytes, a fresh stream per attempt, or a file. */
export type RequestBody = Buffer | (() => Readable) | FileBody;

/** Files up to this size are read whole and leave in one write with the request headers. */
export const DEFAULT_WHOLE_BODY_BYTES = 1024 * 1024;

export function isFileBody(body: RequestBody): body is FileBody {
  return !Buffer.isBuffer(body) && typeof body !== 'function';
}

/**
 * The body for one attempt as sendOnce takes it, and its length when known. A file up to
 * `wholeBytes` is read into memory in one step (see small-file.ts) and leaves in one write with
 * the headers; a larger file is streamed from disk.
 */
export async function bodyForAttempt(body: RequestBody, wholeBytes: number): Promise<{ payload: Buffer | (() => Readable); length?: number }> {
  if (!isFileBody(body)) return { payload: body, ...(Buffer.isBuffer(body) ? { length: body.length } : {}) };
  if (body.size === undefined || body.size <= wholeBytes) {
    const bytes = await readWholeFile(body.file, wholeBytes);
    if (bytes) return { payload: bytes, length: bytes.length };
  }
  const size = body.size ?? (await stat(body.file)).size;
  // an empty file, or one whose stat does not tell its size (a FIFO, a /proc file): read to its end
  if (size <= wholeBytes) {
    const bytes = await readFileAsync(body.file);
    return { payload: bytes, length: bytes.length };
  }
  return { payload: () => createReadStream(body.file, { highWaterMark: 1 << 20 }), length: size };
}
