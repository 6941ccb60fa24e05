import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { LOCK_FILE } from '@meph/simplestreams';

/** Top-level entries of a data directory that are never data files (metadata, mirror state). */
export const SKIPPED_TOP_LEVEL: readonly string[] = ['streams', '.data', LOCK_FILE];

export interface PoolEntry {
  /** Path relative to the data directory, `/`-separated. */
  rel: string;
  /** A symlink (to a file, or dangling); never followed. */
  symlink: boolean;
}

/**
 * Lists the files of a data directory, like the original's walk: top-level `streams/` and
 * `.data/` (and the stream lock) are skipped, directories are not followed through symlinks
 * (a symlink to a directory is neither walked nor listed), a symlink to a file or a dangling
 * one is listed as itself. `exclude` holds absolute paths to leave out (the orphans file).
 * Also returns every directory walked (relative, `''` for the top): all real directories.
 */
export async function walkPool(realDataDir: string, exclude: ReadonlySet<string> = new Set()): Promise<{ entries: PoolEntry[]; dirs: Set<string> }> {
  const out: PoolEntry[] = [];
  const dirs = new Set<string>();
  const walk = async (absDir: string, relDir: string): Promise<void> => {
    dirs.add(relDir);
    const dirents = await fsp.readdir(absDir, { withFileTypes: true });
    for (const d of dirents) {
      if (relDir === '' && SKIPPED_TOP_LEVEL.includes(d.name)) continue;
      const abs = path.join(absDir, d.name);
      const rel = relDir === '' ? d.name : `${relDir}/${d.name}`;
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
  return { entries: out, dirs };
}
