import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { LOCK_FILE } from '@meph/simplestreams';

/** Top-level entries of a data directory that are never data files (metadata, mirror state). */
export const SKIPPED_TOP_LEVEL: readonly string[] = ['streams', '.data', LOCK_FILE];

/** File name endings of signatures, never data. */
const SIGNATURE_SUFFIXES: readonly string[] = ['.sjson', '.gpg'];

/**
 * True for a pool path that is never data, wherever it comes from (a walk or an orphans file):
 * top-level `streams/`, `.data/` and the lock; any stream's metadata (`…/streams/v1/…`, a stream
 * nested in the pool); signatures (`.sjson`, `.gpg`) and stream lock files at any depth.
 */
export function isNotData(rel: string): boolean {
  const parts = rel.split('/');
  if (SKIPPED_TOP_LEVEL.includes(parts[0]!)) return true;
  const base = parts[parts.length - 1]!;
  if (base === LOCK_FILE || SIGNATURE_SUFFIXES.some((s) => base.endsWith(s))) return true;
  for (let i = 0; i + 1 < parts.length; i++) if (parts[i] === 'streams' && parts[i + 1] === 'v1') return true;
  return false;
}

export interface PoolEntry {
  /** Path relative to the data directory, `/`-separated. */
  rel: string;
  /** A symlink (to a file, or dangling); never followed. */
  symlink: boolean;
}

export interface PoolWalk {
  entries: PoolEntry[];
  /** Every directory walked (relative, `''` for the top): all real directories. */
  dirs: Set<string>;
  /** Directories (relative, `''` for the data directory itself) holding a stream (`streams/v1/`). */
  streamRoots: string[];
}

/**
 * Lists the files of a data directory, like the original's walk: top-level `streams/` and
 * `.data/` (and the stream lock) are skipped, directories are not followed through symlinks
 * (a symlink to a directory is neither walked nor listed), a symlink to a file or a dangling
 * one is listed as itself. Beyond the original, anything {@link isNotData} says is metadata is
 * never listed, and a `streams/v1` directory at any depth marks a stream nested in the pool
 * (its parent is returned in `streamRoots`, its metadata is not walked). `exclude` holds
 * absolute paths to leave out (the orphans file and its sidecar).
 */
export async function walkPool(realDataDir: string, exclude: ReadonlySet<string> = new Set()): Promise<PoolWalk> {
  const out: PoolEntry[] = [];
  const dirs = new Set<string>();
  const streamRoots: string[] = [];
  const walk = async (absDir: string, relDir: string): Promise<void> => {
    dirs.add(relDir);
    const dirents = await fsp.readdir(absDir, { withFileTypes: true });
    for (const d of dirents) {
      const abs = path.join(absDir, d.name);
      const rel = relDir === '' ? d.name : `${relDir}/${d.name}`;
      if (d.isDirectory() && d.name === 'streams') {
        const v1 = await fsp.lstat(path.join(abs, 'v1')).catch(() => undefined);
        if (v1?.isDirectory()) streamRoots.push(relDir);
      }
      if (isNotData(rel)) continue;
      if (d.isDirectory()) await walk(abs, rel);
      else if (d.isFile()) {
        if (!exclude.has(abs)) out.push({ rel, symlink: false });
      } else if (d.isSymbolicLink()) {
        const target = await fsp.stat(abs).catch(() => undefined);
        if (!target?.isDirectory() && !exclude.has(abs)) out.push({ rel, symlink: true });
      }
    }
  };
  await walk(realDataDir, '');
  return { entries: out, dirs, streamRoots };
}
