import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { resolveInside, resolveStreamLocation, withStreamLock } from '@meph/simplestreams';
import { DataDirMismatchError, ioError, OrphansFileError, OrphansFileMissingError } from './errors.js';
import { bookkeepingFiles, realDataDirOf, type OrphanEvent } from './find.js';
import { orphansFileExists, readOrphansFile, writeOrphansFile } from './orphans-file.js';
import { scanPool } from './pool.js';
import { normalizeStreamArg, pickRead, type StreamReadOptions } from './references.js';
import { isNotData, walkPool } from './walk.js';
import { parseRfc2822 } from './timestamp.js';

export interface ReapOrphansOptions extends StreamReadOptions {
  orphansFile: string;
  dataDir: string;
  /** Grace period in ms: entries first seen more than this long ago are reaped (default 3 days). */
  olderThanMs?: number;
  /** Reap every entry regardless of age (`--now`). */
  all?: boolean;
  /** Report only; delete nothing and leave the orphans file unchanged. */
  dryRun?: boolean;
  /**
   * Streams to re-check against. Default: those recorded beside the orphans file by
   * find-orphans. Streams found inside the data directory are always re-checked too.
   */
  streams?: readonly string[];
  /** Go on although a stream's paths mostly (or all) name no file of the data directory. */
  force?: boolean;
  now?: Date;
  cwd?: string;
  onEvent?: (event: OrphanEvent) => void;
}

export interface ReapOrphansResult {
  reaped: Array<{ path: string; bytes: number; firstSeen: string }>;
  /** Bytes freed (sizes of the regular files removed; links count their own size). */
  bytes: number;
  /** Entries left for later (too recent). */
  kept: string[];
  /** Entries dropped because a stream references them again. */
  referencedAgain: string[];
  /** Entries whose file was already gone. */
  gone: string[];
  /** Entries refused because they point outside the data directory or name stream metadata (kept in the file). */
  refused: string[];
  /** What the re-check found: item paths referenced, present in the data directory, missing. */
  referenced: number;
  present: number;
  missing: number;
  dryRun: boolean;
}

export const DEFAULT_GRACE_MS = 3 * 86_400_000;

/**
 * Runs fn holding the writer lock of every local stream root (sorted, so two reapers cannot
 * deadlock). A stream directory we may not write to cannot be locked; it is read unlocked
 * and reported through `warn`.
 */
async function withLocks<T>(roots: readonly string[], fn: () => Promise<T>, warn: (message: string) => void): Promise<T> {
  const [first, ...rest] = [...new Set(roots)].sort();
  if (first === undefined) return fn();
  const inner = (): Promise<T> => withLocks(rest, fn, warn);
  let entered = false;
  try {
    return await withStreamLock(
      first,
      () => {
        entered = true;
        return inner();
      },
      { wait: true },
    );
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (entered || (code !== 'EACCES' && code !== 'EROFS' && code !== 'EPERM')) throw err;
    warn(`cannot lock ${first} (${code}); re-checking it without the writer lock`);
    return inner();
  }
}

/**
 * Deletes orphans older than the grace period. Before deleting anything it takes the writer
 * lock of every local stream and re-reads the streams, and skips (and forgets) any entry that
 * is referenced again. Deletion never leaves the data directory: entries that escape it
 * lexically or through a symlinked directory are refused, and a symlink is removed as a link,
 * never followed. Directories emptied by the deletions are removed up to, not including, the
 * data directory. The orphans file is rewritten without the entries handled.
 */
export async function reapOrphans(options: ReapOrphansOptions): Promise<ReapOrphansResult> {
  const cwd = options.cwd ?? process.cwd();
  const emit = options.onEvent ?? (() => {});
  const dryRun = Boolean(options.dryRun);
  if (options.orphansFile === '-') throw new OrphansFileError('-', 'reap-orphans needs the orphans file on disk (it rewrites it)');
  const orphansPath = path.resolve(cwd, options.orphansFile);
  const dataDir = path.resolve(cwd, options.dataDir);
  if (!(await orphansFileExists(orphansPath))) throw new OrphansFileMissingError(options.orphansFile);
  const file = await readOrphansFile(orphansPath);
  const realDataDir = await realDataDirOf(dataDir);
  if (file.dataDir !== undefined && file.dataDir !== realDataDir) throw new DataDirMismatchError(options.orphansFile, file.dataDir, realDataDir);
  // streams given > streams recorded by find-orphans; those inside DATA_DIR always (scanPool)
  const streams = options.streams?.length ? options.streams.map((s) => normalizeStreamArg(s, cwd)) : (file.streams ?? []);
  const now = (options.now ?? new Date()).getTime();
  const grace = options.olderThanMs ?? DEFAULT_GRACE_MS;

  const result: ReapOrphansResult = { reaped: [], bytes: 0, kept: [], referencedAgain: [], gone: [], refused: [], referenced: 0, present: 0, missing: 0, dryRun };
  const due: Array<[string, string]> = [];
  for (const [rel, firstSeen] of [...file.entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const seenAt = parseRfc2822(firstSeen)!; // validated by readOrphansFile
    if (options.all || seenAt + grace < now) due.push([rel, firstSeen]);
    else {
      result.kept.push(rel);
      emit({ type: 'orphan-kept', path: rel, firstSeen, reason: 'too-recent' });
    }
  }
  if (due.length === 0) return result;

  const reap = async (): Promise<void> => {
    // the re-check: current stream contents, read under the writers' locks
    const scan = await scanPool(dataDir, streams, {
      ...pickRead(options),
      exclude: bookkeepingFiles(orphansPath),
      orphansFile: options.orphansFile,
      ...(options.force ? { force: true } : {}),
    });
    const refs = scan.references;
    Object.assign(result, { referenced: refs.total, present: refs.present, missing: refs.missing });
    emit({ type: 'orphan-references', streams: refs.perStream, referenced: refs.total, present: refs.present, missing: refs.missing });
    const realData = scan.realDataDir;
    for (const [rel, firstSeen] of due) {
      if (isNotData(rel)) {
        result.refused.push(rel);
        emit({ type: 'orphan-kept', path: rel, firstSeen, reason: 'not-data' });
        continue;
      }
      if (scan.live.has(rel)) {
        result.referencedAgain.push(rel);
        emit({ type: 'orphan-kept', path: rel, firstSeen, reason: 'referenced' });
        continue;
      }
      const target = await safeTarget(realData, rel);
      if (target === OUTSIDE) {
        result.refused.push(rel);
        emit({ type: 'orphan-kept', path: rel, firstSeen, reason: 'outside-data-dir' });
        continue;
      }
      const st = target ? await fsp.lstat(target).catch(() => undefined) : undefined;
      if (!target || !st) {
        result.gone.push(rel);
        emit({ type: 'orphan-dropped', path: rel, reason: 'gone' });
        continue;
      }
      if (st.isDirectory()) {
        result.kept.push(rel);
        emit({ type: 'orphan-kept', path: rel, firstSeen, reason: 'not-a-file' });
        continue;
      }
      if (!dryRun) {
        await fsp.unlink(target).catch(ioError(target, 'delete')); // a symlink is unlinked itself, never followed
        await removeEmptyParents(path.dirname(target), realData);
      }
      result.reaped.push({ path: rel, bytes: st.size, firstSeen });
      result.bytes += st.size;
      emit({ type: 'orphan-reaped', path: rel, firstSeen, bytes: st.size, dryRun });
    }
    if (!dryRun) {
      const handled = new Set([...result.reaped.map((r) => r.path), ...result.referencedAgain, ...result.gone]);
      for (const rel of handled) file.entries.delete(rel);
      await writeOrphansFile(orphansPath, { entries: file.entries, streams, dataDir: realData });
    }
  };
  if (dryRun) await reap();
  else {
    const roots = [...(await localStreamRoots(streams)), ...(await walkPool(realDataDir, new Set(bookkeepingFiles(orphansPath)))).streamRoots.map((r) => path.join(realDataDir, r))];
    await withLocks(roots, reap, (message) => emit({ type: 'warning', message }));
  }
  return result;
}

/** Mirror roots of the local streams (what withStreamLock locks). */
async function localStreamRoots(streams: readonly string[]): Promise<string[]> {
  const roots: string[] = [];
  for (const s of streams) {
    const loc = await resolveStreamLocation(s);
    if (!loc.isUrl) roots.push(path.resolve(loc.root));
  }
  return roots;
}

const OUTSIDE = Symbol('outside the data directory');

/**
 * The absolute path to delete for an entry; OUTSIDE if it would leave the data directory:
 * lexically (absolute, `..`, NUL, backslash) or because a parent directory is a symlink
 * pointing out. The last component itself is not resolved (a symlink is removed as a link).
 */
async function safeTarget(realDataDir: string, rel: string): Promise<string | typeof OUTSIDE | undefined> {
  let lexical: string;
  try {
    lexical = resolveInside(realDataDir, rel, 'orphans file');
  } catch {
    return OUTSIDE;
  }
  const parent = await fsp.realpath(path.dirname(lexical)).catch(() => undefined);
  if (parent === undefined) return undefined; // parent directory gone: so is the file
  if (parent !== realDataDir && !parent.startsWith(realDataDir + path.sep)) return OUTSIDE;
  return path.join(parent, path.basename(lexical));
}

/** rmdir upwards while empty, stopping before the data directory itself. */
async function removeEmptyParents(dir: string, realDataDir: string): Promise<void> {
  let d = dir;
  while (d !== realDataDir && d.startsWith(realDataDir + path.sep)) {
    try {
      await fsp.rmdir(d);
    } catch {
      return; // not empty (or already gone)
    }
    d = path.dirname(d);
  }
}
