import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { formatUpdated } from '@meph/simplestreams';
import { DataDirMismatchError, ioError } from './errors.js';
import { formatOrphansFile, readOrphansFile, sidecarPath, writeOrphansFile, type OrphansFile } from './orphans-file.js';
import { normalizeStreamArg, pickRead, type StreamReadOptions, type StreamReferences } from './references.js';
import { scanPool } from './pool.js';
import { isNotData } from './walk.js';

export type OrphanEvent =
  | { type: 'orphan-found'; path: string; firstSeen: string; new: boolean }
  | { type: 'orphan-dropped'; path: string; reason: 'referenced' | 'gone' | 'not-data' }
  | { type: 'orphan-reaped'; path: string; firstSeen: string; bytes: number; dryRun: boolean }
  | { type: 'orphan-kept'; path: string; firstSeen: string; reason: 'referenced' | 'too-recent' | 'not-a-file' | 'outside-data-dir' | 'not-data' }
  | { type: 'orphan-references'; streams: StreamReferences[]; referenced: number; present: number; missing: number }
  | { type: 'warning'; message: string }
  | { type: 'progress'; step: string; done: number; total?: number; unit?: string };

export interface FindOrphansOptions extends StreamReadOptions {
  /** Orphans file to update; `-` means "start empty and return the text only". */
  orphansFile: string;
  dataDir: string;
  /**
   * Streams sharing the data directory. Empty → those recorded beside the orphans file by the
   * previous run. Streams found inside the data directory (its own, nested ones) are always read too.
   */
  streams?: readonly string[];
  /** Go on although a stream's paths mostly (or all) name no file of the data directory. */
  force?: boolean;
  /** "Now" for new entries (tests). */
  now?: Date;
  cwd?: string;
  onEvent?: (event: OrphanEvent) => void;
}

export interface FindOrphansResult {
  /** The new orphans file content (entries; streams and data directory as recorded in the sidecar). */
  file: OrphansFile;
  /** The orphans file's text (what was written, or what to print for `-`). */
  text: string;
  added: string[];
  dropped: string[];
  /** Files walked. */
  files: number;
  /** Item paths seen in the streams, how many name a file of the data directory, how many do not. */
  referenced: number;
  present: number;
  missing: number;
  /** Streams read: given or recorded, plus those found inside the data directory. */
  streams: string[];
}

/** The data directory's real path (what the sidecar records). */
export async function realDataDirOf(dataDir: string): Promise<string> {
  return fsp.realpath(dataDir).catch(ioError(dataDir, 'open the data directory'));
}

/** Absolute paths of the files find/reap keep beside the pool (never pool entries). */
export function bookkeepingFiles(orphansPath: string | undefined): string[] {
  return orphansPath ? [orphansPath, sidecarPath(orphansPath)] : [];
}

/**
 * The original's find-orphans: every file of the data directory that no stream references
 * is an orphan, recorded with the time it was first seen orphaned. Earlier timestamps are kept
 * across runs; entries referenced again (or whose file is gone) are dropped. The orphans file
 * keeps the original's format; the data directory and the streams used are recorded in a
 * sidecar beside it, so reap-orphans can refuse another data directory and re-check the same
 * streams. Item paths count against both layouts (see collectReferences); a stream whose paths
 * mostly name no file of the pool is refused (LayoutError) unless `force`.
 * Non-destructive: only the orphans file and its sidecar are (atomically) rewritten.
 */
export async function findOrphans(options: FindOrphansOptions): Promise<FindOrphansResult> {
  const cwd = options.cwd ?? process.cwd();
  const emit = options.onEvent ?? (() => {});
  const toStdout = options.orphansFile === '-';
  const orphansPath = toStdout ? undefined : path.resolve(cwd, options.orphansFile);
  const previous: OrphansFile = orphansPath ? await readOrphansFile(orphansPath) : { entries: new Map<string, string>() };
  // streams given > streams recorded by the previous run; those inside DATA_DIR always
  const given = options.streams?.length ? options.streams.map((s) => normalizeStreamArg(s, cwd)) : (previous.streams ?? []);
  const now = formatUpdated(options.now ?? new Date());
  const realDataDir = await realDataDirOf(path.resolve(cwd, options.dataDir));
  if (orphansPath && previous.dataDir !== undefined && previous.dataDir !== realDataDir) throw new DataDirMismatchError(options.orphansFile, previous.dataDir, realDataDir);

  const scan = await scanPool(path.resolve(cwd, options.dataDir), given, {
    ...pickRead(options),
    exclude: bookkeepingFiles(orphansPath),
    ...(options.force ? { force: true } : {}),
    ...(orphansPath ? { orphansFile: options.orphansFile } : {}),
  });
  const refs = scan.references;
  emit({ type: 'orphan-references', streams: refs.perStream, referenced: refs.total, present: refs.present, missing: refs.missing });
  emit({ type: 'progress', step: 'find-orphans: files checked', done: scan.entries.length, total: scan.entries.length, unit: 'files' });

  const entries = new Map<string, string>();
  const added: string[] = [];
  for (const e of scan.entries) {
    if (scan.live.has(e.rel)) continue;
    const before = previous.entries.get(e.rel);
    entries.set(e.rel, before ?? now);
    if (before === undefined) added.push(e.rel);
    emit({ type: 'orphan-found', path: e.rel, firstSeen: before ?? now, new: before === undefined });
  }
  const dropped: string[] = [];
  for (const p of previous.entries.keys()) {
    if (entries.has(p)) continue;
    dropped.push(p);
    emit({ type: 'orphan-dropped', path: p, reason: scan.live.has(p) ? 'referenced' : isNotData(p) ? 'not-data' : 'gone' });
  }
  const file: OrphansFile = { entries, streams: given, dataDir: scan.realDataDir };
  const text = formatOrphansFile(file);
  if (orphansPath) await writeOrphansFile(orphansPath, file);
  return { file, text, added, dropped, files: scan.entries.length, referenced: refs.total, present: refs.present, missing: refs.missing, streams: refs.streams };
}
