import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { addAbortSignal } from 'node:stream';
import { ChecksumMismatchError, SizeMismatchError } from './errors.js';
import { readWholeFile } from './small-file.js';

export type ChecksumAlgorithm = 'sha256' | 'sha512' | 'md5';
export const CHECKSUM_ALGORITHMS: readonly ChecksumAlgorithm[] = ['sha256', 'sha512', 'md5'];

export interface FileDigest {
  size: number;
  sha256?: string;
  sha512?: string;
  md5?: string;
}

export type Checksums = Partial<Record<ChecksumAlgorithm, string>>;

/** Size and several checksums of a byte stream in one pass. */
export class Digester {
  private readonly hashes: Array<[ChecksumAlgorithm, Hash]>;
  size = 0;
  constructor(algorithms: readonly ChecksumAlgorithm[]) {
    this.hashes = [...new Set(algorithms)].map((a) => [a, createHash(a)]);
  }
  update(chunk: Uint8Array): void {
    this.size += chunk.length;
    for (const [, h] of this.hashes) h.update(chunk);
  }
  /** Feeds every chunk of a stream (a file's read stream, a response body) through {@link update}. */
  async updateFrom(source: AsyncIterable<Uint8Array | string>): Promise<this> {
    for await (const chunk of source) this.update(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    return this;
  }
  digest(): FileDigest {
    const out: FileDigest = { size: this.size };
    for (const [a, h] of this.hashes) out[a] = h.digest('hex');
    return out;
  }
}

const STREAM_CHUNK = 1 << 20;

/**
 * Size and checksums of a file in one pass: a file up to one read chunk (1 MiB) is read whole
 * into a buffer of its size (see small-file.ts), a larger one (or a FIFO, a /proc file) streamed
 * in 1 MiB chunks (never read into memory). A read stream allocates a whole chunk per read,
 * twice for a small file (the second read finds the end): for thousands of small files that
 * allocation, not the hashing, was the cost.
 */
export async function digestFile(file: string, algorithms: readonly ChecksumAlgorithm[], options: { signal?: AbortSignal } = {}): Promise<FileDigest> {
  options.signal?.throwIfAborted();
  const d = new Digester(algorithms);
  const whole = await readWholeFile(file, STREAM_CHUNK);
  if (whole) {
    options.signal?.throwIfAborted();
    d.update(whole);
    return d.digest();
  }
  const stream = createReadStream(file, { highWaterMark: STREAM_CHUNK });
  await d.updateFrom(options.signal ? addAbortSignal(options.signal, stream) : stream);
  return d.digest();
}

/** The algorithms of `checksums` that carry a value. */
export function algorithmsOf(checksums: Checksums | undefined): ChecksumAlgorithm[] {
  return CHECKSUM_ALGORITHMS.filter((a) => typeof checksums?.[a] === 'string' && checksums[a] !== '');
}

/** Throws the first difference between a digest and the expected size/checksums; `label` names the file or URL. */
export function assertDigest(label: string, digest: FileDigest, expected: { size?: number; checksums?: Checksums }): void {
  if (expected.size !== undefined && digest.size !== expected.size) throw new SizeMismatchError(label, expected.size, digest.size);
  for (const a of algorithmsOf(expected.checksums)) {
    const want = String(expected.checksums![a]).toLowerCase();
    const got = digest[a];
    if (got !== undefined && got !== want) throw new ChecksumMismatchError(label, a, want, got);
  }
}
