import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { resolveStreamLocation } from '@meph/simplestreams';
import { collectReferences, pickRead, type References, type StreamReadOptions, type StreamToRead } from './references.js';
import { ioError, LayoutError, NoStreamsError } from './errors.js';
import { walkPool, type PoolEntry } from './walk.js';

export interface PoolScan {
  realDataDir: string;
  references: References;
  entries: PoolEntry[];
  /** Pool paths that must stay: referenced ones plus the targets of referenced symlinks. */
  live: Set<string>;
  /** Streams found inside the data directory (absolute roots), read besides those given. */
  discovered: string[];
}

export interface ScanOptions extends StreamReadOptions {
  /** Absolute paths never listed (the orphans file and its sidecar). */
  exclude?: readonly string[];
  /** Go on although a stream's paths mostly name no file of the pool (or none at all). */
  force?: boolean;
  /** Orphans file, named when no stream is known at all. */
  orphansFile?: string;
}

/** A stream counts as laid out right when at least this share of its paths exist in the pool. */
export const LAYOUT_MAJORITY = 2 / 3;

/** Real mirror root of a local stream argument (a root, an index or a products file). */
async function localRoot(stream: string): Promise<string | undefined> {
  const loc = await resolveStreamLocation(stream);
  if (loc.isUrl) return undefined;
  const root = path.resolve(loc.root);
  return fsp.realpath(root).catch(() => root);
}

/**
 * Reads the streams, walks the data directory and works out which files are in use. Besides the
 * streams given, every stream found inside the data directory is read too (with no stream given,
 * the data directory's own one with the caller's signature checks; otherwise unchecked: they only
 * add references).
 * A referenced symlink keeps its target alive too (when the target is inside the pool). Refuses
 * (LayoutError) when a stream's paths mostly name no file of the pool, unless `force`.
 */
export async function scanPool(dataDir: string, streams: readonly string[], options: ScanOptions = {}): Promise<PoolScan> {
  const realDataDir = await fsp.realpath(dataDir).catch(ioError(dataDir, 'open the data directory'));
  const exclude = new Set<string>();
  for (const e of options.exclude ?? []) {
    const abs = path.resolve(e);
    exclude.add(path.join(await fsp.realpath(path.dirname(abs)).catch(() => path.dirname(abs)), path.basename(abs)));
  }
  const { entries, dirs, streamRoots } = await walkPool(realDataDir, exclude);

  const givenRoots = new Set<string>();
  for (const s of streams) {
    const r = await localRoot(s);
    if (r !== undefined) givenRoots.add(r);
  }
  const toRead: StreamToRead[] = streams.map((stream) => ({ stream }));
  const discovered: string[] = [];
  for (const rel of streamRoots) {
    const abs = rel === '' ? realDataDir : path.join(realDataDir, rel);
    if (givenRoots.has(abs)) continue;
    discovered.push(abs);
    // DATA_DIR's own stream is "the" stream when none is given (checked like one); otherwise a
    // stream found in the pool only adds references and is read unchecked
    toRead.push(rel === '' && streams.length === 0 ? { stream: abs } : { stream: abs, discovered: true });
  }
  if (toRead.length === 0) throw new NoStreamsError(dataDir, options.orphansFile);

  const files = new Set(entries.map((e) => e.rel));
  const references = await collectReferences(toRead, realDataDir, { ...pickRead(options), ...(options.force ? { force: true } : {}) }, { dirs, files });
  if (!options.force) {
    for (const s of references.perStream) {
      if (s.referenced > 0 && s.present < s.referenced * LAYOUT_MAJORITY) throw new LayoutError(s.stream, dataDir, s.referenced, s.present);
    }
  }
  const live = new Set(references.paths);
  for (const e of entries) {
    if (!e.symlink || !live.has(e.rel)) continue;
    const target = await fsp.realpath(path.join(realDataDir, e.rel)).catch(() => undefined);
    if (target === undefined) continue;
    const rel = path.relative(realDataDir, target);
    if (rel !== '' && rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel)) live.add(rel.split(path.sep).join('/'));
  }
  return { realDataDir, references, entries, live, discovered };
}
