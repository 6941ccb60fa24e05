import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { collectReferences, pickRead, type References, type StreamReadOptions } from './references.js';
import { ioError } from './errors.js';
import { walkPool, type PoolEntry } from './walk.js';

export interface PoolScan {
  realDataDir: string;
  references: References;
  entries: PoolEntry[];
  /** Pool paths that must stay: referenced ones plus the targets of referenced symlinks. */
  live: Set<string>;
}

/**
 * Reads the streams, walks the data directory and works out which files are in use. A
 * referenced symlink keeps its target alive too (when the target is inside the pool).
 */
export async function scanPool(dataDir: string, streams: readonly string[], options: StreamReadOptions & { exclude?: readonly string[] } = {}): Promise<PoolScan> {
  const realDataDir = await fsp.realpath(dataDir).catch(ioError(dataDir, 'open the data directory'));
  const exclude = new Set<string>();
  for (const e of options.exclude ?? []) {
    const abs = path.resolve(e);
    exclude.add(path.join(await fsp.realpath(path.dirname(abs)).catch(() => path.dirname(abs)), path.basename(abs)));
  }
  const { entries, dirs } = await walkPool(realDataDir, exclude);
  const references = await collectReferences(streams, realDataDir, pickRead(options), dirs);
  const live = new Set(references.paths);
  for (const e of entries) {
    if (!e.symlink || !live.has(e.rel)) continue;
    const target = await fsp.realpath(path.join(realDataDir, e.rel)).catch(() => undefined);
    if (target === undefined) continue;
    const rel = path.relative(realDataDir, target);
    if (rel !== '' && rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel)) live.add(rel.split(path.sep).join('/'));
  }
  return { realDataDir, references, entries, live };
}
