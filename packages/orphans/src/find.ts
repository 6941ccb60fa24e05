import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { formatUpdated } from '@meph/simplestreams';
import { NoStreamsError } from './errors.js';
import { formatOrphansFile, readOrphansFile, writeOrphansFile, type OrphansFile } from './orphans-file.js';
import { normalizeStreamArg, pickRead, type StreamReadOptions } from './references.js';
import { scanPool } from './pool.js';

export type OrphanEvent =
  | { type: 'orphan-found'; path: string; firstSeen: string; new: boolean }
  | { type: 'orphan-dropped'; path: string; reason: 'referenced' | 'gone' }
  | { type: 'orphan-reaped'; path: string; firstSeen: string; bytes: number; dryRun: boolean }
  | { type: 'orphan-kept'; path: string; firstSeen: string; reason: 'referenced' | 'too-recent' | 'not-a-file' | 'outside-data-dir' }
  | { type: 'warning'; message: string }
  | { type: 'progress'; step: string; done: number; total?: number; unit?: string };

export interface FindOrphansOptions extends StreamReadOptions {
  /** Orphans file to update; `-` means "start empty and return the text only". */
  orphansFile: string;
  dataDir: string;
  /**
   * Streams sharing the data directory. Empty → those recorded in the orphans file by the
   * previous run, else the data directory itself when it has streams/v1.
   */
  streams?: readonly string[];
  /** "Now" for new entries (tests). */
  now?: Date;
  cwd?: string;
  onEvent?: (event: OrphanEvent) => void;
}

export interface FindOrphansResult {
  /** The new orphans file content. */
  file: OrphansFile;
  /** Its text (what was written, or what to print for `-`). */
  text: string;
  added: string[];
  dropped: string[];
  /** Files walked / referenced paths seen in the streams. */
  files: number;
  referenced: number;
}

/** The streams to use: those given, else the data directory itself if it is a stream. */
export async function defaultStreams(dataDir: string, streams: readonly string[] | undefined, cwd: string, orphansFile?: string): Promise<string[]> {
  if (streams && streams.length) return streams.map((s) => normalizeStreamArg(s, cwd));
  const abs = path.resolve(cwd, dataDir);
  const st = await fsp.stat(path.join(abs, 'streams/v1')).catch(() => undefined);
  if (st?.isDirectory()) return [abs];
  throw new NoStreamsError(dataDir, orphansFile);
}

/**
 * The original's find-orphans: every file of the data directory that no stream references
 * is an orphan, recorded with the time it was first seen orphaned. Earlier timestamps are kept
 * across runs; entries referenced again (or whose file is gone) are dropped. The streams used
 * are recorded in the file, so reap-orphans can re-check them before deleting anything.
 * Non-destructive: only the orphans file is (atomically) rewritten.
 */
export async function findOrphans(options: FindOrphansOptions): Promise<FindOrphansResult> {
  const cwd = options.cwd ?? process.cwd();
  const emit = options.onEvent ?? (() => {});
  const toStdout = options.orphansFile === '-';
  const orphansPath = toStdout ? undefined : path.resolve(cwd, options.orphansFile);
  const previous: OrphansFile = orphansPath ? await readOrphansFile(orphansPath) : { entries: new Map<string, string>() };
  // streams given > streams recorded by the previous run > the data directory itself
  const streams = !options.streams?.length && previous.streams?.length ? previous.streams : await defaultStreams(options.dataDir, options.streams, cwd);
  const now = formatUpdated(options.now ?? new Date());

  const scan = await scanPool(path.resolve(cwd, options.dataDir), streams, { ...pickRead(options), exclude: orphansPath ? [orphansPath] : [] });
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
    emit({ type: 'orphan-dropped', path: p, reason: scan.live.has(p) ? 'referenced' : 'gone' });
  }
  const file: OrphansFile = { entries, streams };
  const text = formatOrphansFile(file);
  if (orphansPath) await writeOrphansFile(orphansPath, file);
  return { file, text, added, dropped, files: scan.entries.length, referenced: scan.references.total };
}
