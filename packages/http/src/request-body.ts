import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';

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
 * The body for one attempt as sendOnce takes it, and its length when known. A small file is
 * read into memory: headers and body then go out in a single write instead of a header packet
 * followed by the file's chunks (for many small objects, that second round of writes is most of
 * the per-request overhead a store sees). A larger file is streamed from disk.
 */
export async function bodyForAttempt(body: RequestBody, wholeBytes: number): Promise<{ payload: Buffer | (() => Readable); length?: number }> {
  if (!isFileBody(body)) return { payload: body, ...(Buffer.isBuffer(body) ? { length: body.length } : {}) };
  const size = body.size ?? (await stat(body.file)).size;
  if (size <= wholeBytes) {
    const bytes = await readFile(body.file);
    return { payload: bytes, length: bytes.length };
  }
  return { payload: () => createReadStream(body.file, { highWaterMark: 1 << 20 }), length: size };
}
