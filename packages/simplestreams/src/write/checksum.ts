import { CHECKSUM_ALGORITHMS, Digester, digestFile, type ChecksumAlgorithm, type FileDigest } from '@meph/http';
import { constants as fsc, promises as fsp, linkSync, lstatSync, realpathSync, renameSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { ChecksumMismatchError, FormatError, MissingFileError, SizeMismatchError } from '../errors.js';
import type { Item } from '../model.js';
import { renameDurably } from '@meph/sys';
import { FILE_MODE, mkdirPublic, openTemp, syncAndRename, tempPathFor, writeAll } from './atomic.js';

export type { ChecksumAlgorithm, FileDigest } from '@meph/http';
export { CHECKSUM_ALGORITHMS } from '@meph/http';

const READ_CHUNK = 1 << 20;

function missingAware(err: unknown, file: string): unknown {
  return (err as NodeJS.ErrnoException).code === 'ENOENT' ? new MissingFileError(file) : err;
}

/** Size and checksums of a file (@meph/http's digestFile: small files from one read, larger ones streamed). */
export async function hashFile(file: string, algorithms: readonly ChecksumAlgorithm[] = ['sha256']): Promise<FileDigest> {
  return digestFile(file, algorithms).catch((err: unknown) => {
    throw missingAware(err, file);
  });
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

/** How {@link copyFileVerified} placed a file. */
export type PlacedBy = 'link' | 'reflink' | 'copy';

/** Errors of link(2)/FICLONE meaning "not here, copy instead" (other device, not supported, link count). */
const FALL_BACK = new Set(['EXDEV', 'EPERM', 'EMLINK', 'ENOTSUP', 'EOPNOTSUPP', 'EINVAL', 'ENOSYS', 'EACCES']);

function fallsBack(err: unknown): boolean {
  return FALL_BACK.has((err as NodeJS.ErrnoException).code ?? '');
}

/**
 * Places `from` at `tmp` without copying bytes when the filesystem allows it: a hard link when
 * both are on one filesystem (as the original does; published files never change, so sharing
 * the inode is safe) and the source is world-readable, else a reflink (copy-on-write clone).
 * Returns undefined when neither works here.
 */
async function placeWithoutCopy(from: string, tmp: string): Promise<PlacedBy | undefined> {
  // lstat and link are synchronous: microseconds each, where a thread-pool round trip
  // costs several times that, and an insert places hundreds of files this way.
  let real = from;
  let st;
  try {
    st = lstatSync(from);
    // link(2) would link a symlink itself: link what it leads to
    if (st.isSymbolicLink()) st = statSync((real = realpathSync.native(from)));
  } catch (err) {
    throw missingAware(err, from);
  }
  if (!st.isFile()) throw new FormatError(from, 'is not a regular file');
  if ((st.mode & 0o444) === 0o444) {
    try {
      linkSync(real, tmp);
      return 'link';
    } catch (err) {
      if (!fallsBack(err)) throw err;
    }
  }
  try {
    await fsp.copyFile(real, tmp, fsc.COPYFILE_EXCL | fsc.COPYFILE_FICLONE_FORCE);
    await fsp.chmod(tmp, FILE_MODE);
    return 'reflink';
  } catch (err) {
    await fsp.rm(tmp, { force: true }).catch(() => {});
    if (!fallsBack(err)) throw err;
    return undefined;
  }
}

export interface CopyOptions {
  /**
   * fsync the destination's directory after the rename, so the new name survives a power loss
   * (default true). A caller placing many files may fsync each directory once itself instead,
   * as long as it does so before anything refers to them (commitStreamUpdate does).
   */
  syncDir?: boolean;
}

/**
 * Puts the file `from` (a local path or a stream) at `to`, verified against `expected` (size
 * and every checksum) before it becomes visible: into a temp file in the destination
 * directory, then renamed over `to`. A local file is hard-linked when source and destination
 * share a filesystem, reflinked where the filesystem can, and copied otherwise (EXDEV, EPERM,
 * …); the placed file is hashed either way. A mismatch leaves `to` untouched (and no temp
 * file) and throws.
 */
export async function copyFileVerified(from: string | Readable, to: string, expected: Item, options: CopyOptions = {}): Promise<PlacedBy> {
  const syncDir = options.syncDir ?? true;
  const rename = async (tmp: string): Promise<void> => (syncDir ? renameDurably(tmp, to) : renameSync(tmp, to));
  const algorithms = requireSomethingToVerify(typeof from === 'string' ? from : to, expected);
  await mkdirPublic(path.dirname(to));
  const tmp = tempPathFor(to);
  if (typeof from === 'string') {
    const how = await placeWithoutCopy(from, tmp);
    if (how) {
      try {
        assertDigestMatches(from, await hashFile(tmp, algorithms), expected);
        await rename(tmp);
      } catch (err) {
        await fsp.rm(tmp, { force: true }).catch(() => {});
        throw err;
      }
      return how;
    }
  }
  let source: Readable;
  if (typeof from === 'string') {
    const input = await fsp.open(from, 'r').catch((err: unknown) => {
      throw missingAware(err, from);
    });
    source = input.createReadStream({ highWaterMark: READ_CHUNK }); // closes the handle when done
  } else source = from;
  const handle = await openTemp(tmp).catch((err: unknown) => {
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
    assertDigestMatches(typeof from === 'string' ? from : to, d.digest(), expected);
    closed = true;
    if (syncDir) await syncAndRename(handle, tmp, to);
    else {
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(tmp);
    }
  } catch (err) {
    if (!closed) await handle.close().catch(() => {});
    source.destroy();
    await fsp.rm(tmp, { force: true }).catch(() => {});
    throw err;
  }
  return 'copy';
}
