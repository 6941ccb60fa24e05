import { promises as fsp } from 'node:fs';
import { parseJsonObject, serializeJson, writeFileAtomic } from '@meph/simplestreams';
import { ioError, OrphansFileError } from './errors.js';
import { parseRfc2822 } from './timestamp.js';

/**
 * Key under which meph before the sidecar recorded the streams inside the orphans file itself.
 * The original's reap-orphans chokes on it, so it is only read (and dropped on rewrite).
 */
export const LEGACY_STREAMS_KEY = '/meph:streams';

/** Format tag of the sidecar file. */
export const SIDECAR_FORMAT = 'meph-orphans-sidecar:1';

export interface OrphansFile {
  /** Relative path (inside the data directory) → RFC 2822 time it was first seen orphaned. */
  entries: Map<string, string>;
  /** Streams (absolute paths or URLs) the entries were computed against, when recorded. */
  streams?: string[];
  /** Real path of the data directory the entries are relative to, when recorded. */
  dataDir?: string;
}

/**
 * Where meph keeps what the original's format has no room for (the data directory and the
 * streams), beside the orphans file, so that the orphans file itself stays exactly the
 * original's format and both tools can share it.
 */
export function sidecarPath(orphansFile: string): string {
  return `${orphansFile}.meph.json`;
}

async function readText(file: string): Promise<string | undefined> {
  try {
    return await fsp.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    return ioError(file, 'read')(err);
  }
}

/** True when the orphans file exists (reap-orphans refuses a missing one). */
export async function orphansFileExists(file: string): Promise<boolean> {
  return (await fsp.lstat(file).catch(() => undefined)) !== undefined;
}

/**
 * Reads an orphans file and its sidecar; a missing orphans file is an empty one. Anything
 * malformed is an error. A file written by an older meph (streams under "/meph:streams") is
 * read too; the key is never taken for an entry.
 */
export async function readOrphansFile(file: string): Promise<OrphansFile> {
  const text = await readText(file);
  const result: OrphansFile = text === undefined ? { entries: new Map() } : parseOrphansFile(text, file);
  const side = sidecarPath(file);
  const sideText = await readText(side);
  if (sideText !== undefined) Object.assign(result, parseSidecar(sideText, side));
  return result;
}

export function parseOrphansFile(text: string, file: string): OrphansFile {
  const value = parseJsonObject(text, file, (detail, cause) => new OrphansFileError(file, detail, { cause }));
  const result: OrphansFile = { entries: new Map() };
  for (const [key, v] of Object.entries(value)) {
    if (key === LEGACY_STREAMS_KEY) {
      if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) throw new OrphansFileError(file, `${LEGACY_STREAMS_KEY} must be a list of stream paths or URLs`);
      result.streams = v;
      continue;
    }
    if (typeof v !== 'string' || parseRfc2822(v) === undefined) throw new OrphansFileError(file, `entry ${JSON.stringify(key)} has no RFC 2822 timestamp (got ${JSON.stringify(v)})`);
    result.entries.set(key, v);
  }
  return result;
}

function parseSidecar(text: string, file: string): Pick<OrphansFile, 'streams' | 'dataDir'> {
  const notSidecar = `is not a meph orphans sidecar (format ${SIDECAR_FORMAT})`;
  // JSON that is not an object (no cause) is "not a sidecar" like an object of another format
  const v = parseJsonObject(text, file, (detail, cause) => new OrphansFileError(file, cause ? detail : notSidecar, { cause }));
  if (v['format'] !== SIDECAR_FORMAT) throw new OrphansFileError(file, notSidecar);
  const streams = v['streams'];
  if (!Array.isArray(streams) || !streams.every((s) => typeof s === 'string')) throw new OrphansFileError(file, '"streams" must be a list of stream paths or URLs');
  if (typeof v['dataDir'] !== 'string' || v['dataDir'] === '') throw new OrphansFileError(file, '"dataDir" must be the data directory');
  return { streams: streams, dataDir: v['dataDir'] };
}

/** The orphans file's text, exactly the original's format: path → timestamp, indent 1, trailing newline. */
export function formatOrphansFile(data: Pick<OrphansFile, 'entries'>): string {
  return serializeJson(Object.fromEntries(data.entries));
}

/**
 * Writes the sidecar (when the data directory is known) and then the orphans file, each
 * atomically: a crash never leaves a truncated file, and an orphans file on disk always has a
 * sidecar at least as new as itself.
 */
export async function writeOrphansFile(file: string, data: OrphansFile): Promise<void> {
  if (data.dataDir !== undefined) {
    const side = sidecarPath(file);
    await writeFileAtomic(side, serializeJson({ format: SIDECAR_FORMAT, dataDir: data.dataDir, streams: data.streams ?? [] })).catch(ioError(side, 'write'));
  }
  await writeFileAtomic(file, formatOrphansFile(data)).catch(ioError(file, 'write'));
}
