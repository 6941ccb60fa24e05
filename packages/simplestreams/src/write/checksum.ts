import { CHECKSUM_ALGORITHMS, Digester, type ChecksumAlgorithm, type FileDigest } from '@meph/http';
import { createReadStream, promises as fsp } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { ChecksumMismatchError, FormatError, MissingFileError, SizeMismatchError } from '../errors.js';
import type { Item } from '../model.js';
import { fsyncDir, tempPathFor, writeAll } from './atomic.js';

export type { ChecksumAlgorithm, FileDigest } from '@meph/http';
export { CHECKSUM_ALGORITHMS } from '@meph/http';

const READ_CHUNK = 1 << 20;

function missingAware(err: unknown, file: string): unknown {
  return (err as NodeJS.ErrnoException).code === 'ENOENT' ? new MissingFileError(file) : err;
}

/** Size and checksums of a file in one streaming pass (never reads the file into memory). */
export async function hashFile(file: string, algorithms: readonly ChecksumAlgorithm[] = ['sha256']): Promise<FileDigest> {
  const d = new Digester(algorithms);
  try {
    for await (const chunk of createReadStream(file, { highWaterMark: READ_CHUNK })) d.update(chunk as Buffer);
  } catch (err) {
    throw missingAware(err, file);
  }
  return d.digest();
}

/** The checksum algorithms an item carries. */
export function itemAlgorithms(expected: Item): ChecksumAlgorithm[] {
  return CHECKSUM_ALGORITHMS.filter((a) => typeof expected[a] === 'string' && expected[a] !== '');
}

function expectedSize(expected: Item, file: string): number | undefined {
  const raw = expected.size as unknown;
  if (raw === undefined || raw === null) return undefined;
  const n = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : raw;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw new FormatError(file, `item size ${JSON.stringify(raw)} is not a non-negative integer`);
  return n;
}

/** Throws the first mismatch between a computed digest and what the item says. */
export function assertDigestMatches(file: string, digest: FileDigest, expected: Item): void {
  const size = expectedSize(expected, file);
  if (size !== undefined && digest.size !== size) throw new SizeMismatchError(file, size, digest.size);
  for (const a of itemAlgorithms(expected)) {
    const want = String(expected[a]).toLowerCase();
    const got = digest[a];
    if (got !== undefined && got !== want) throw new ChecksumMismatchError(file, a, want, got);
  }
}

function requireSomethingToVerify(file: string, expected: Item): ChecksumAlgorithm[] {
  const algorithms = itemAlgorithms(expected);
  if (algorithms.length === 0 && expectedSize(expected, file) === undefined)
    throw new FormatError(file, 'the item has neither a size nor a checksum (sha256/sha512/md5) to verify the file against');
  return algorithms;
}

/**
 * Checks a file against an item: its size and every checksum the item carries (sha256, sha512,
 * md5), in one streaming pass. Throws SizeMismatchError / ChecksumMismatchError /
 * MissingFileError.
 */
export async function verifyFile(file: string, expected: Item): Promise<void> {
  const algorithms = requireSomethingToVerify(file, expected);
  const size = expectedSize(expected, file);
  if (size !== undefined) {
    // cheap pre-check: a wrong size fails without reading the file
    const st = await fsp.stat(file).catch((err: unknown) => {
      throw missingAware(err, file);
    });
    if (st.size !== size) throw new SizeMismatchError(file, size, st.size);
  }
  assertDigestMatches(file, await hashFile(file, algorithms), expected);
}

/**
 * Copies `from` (a file path or a stream) to `to`, hashing while writing: temp file in the
 * destination directory, fsync, verify size and every checksum of `expected`, then rename.
 * A mismatch leaves `to` untouched (and no temp file) and throws.
 */
export async function copyFileVerified(from: string | Readable, to: string, expected: Item): Promise<void> {
  const algorithms = requireSomethingToVerify(typeof from === 'string' ? from : to, expected);
  const dir = path.dirname(to);
  await fsp.mkdir(dir, { recursive: true });
  let source: Readable;
  if (typeof from === 'string') {
    const input = await fsp.open(from, 'r').catch((err: unknown) => {
      throw missingAware(err, from);
    });
    source = input.createReadStream({ highWaterMark: READ_CHUNK }); // closes the handle when done
  } else source = from;
  const tmp = tempPathFor(to);
  const handle = await fsp.open(tmp, 'wx', 0o644).catch((err: unknown) => {
    source.destroy();
    throw err;
  });
  let closed = false;
  try {
    const d = new Digester(algorithms);
    try {
      for await (const chunk of source) {
        const buf: Uint8Array = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Uint8Array);
        d.update(buf);
        await writeAll(handle, buf);
      }
    } catch (err) {
      throw typeof from === 'string' ? missingAware(err, from) : err;
    }
    await handle.sync();
    await handle.close();
    closed = true;
    assertDigestMatches(typeof from === 'string' ? from : to, d.digest(), expected);
    await fsp.rename(tmp, to);
  } catch (err) {
    if (!closed) await handle.close().catch(() => {});
    source.destroy();
    await fsp.rm(tmp, { force: true }).catch(() => {});
    throw err;
  }
  await fsyncDir(dir);
}
