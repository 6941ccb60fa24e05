import { promises as fsp } from 'node:fs';
import { serializeJson, writeFileAtomic } from '@meph/simplestreams';
import { ioError, OrphansFileError } from './errors.js';
import { parseRfc2822 } from './timestamp.js';

/**
 * Key under which meph records the streams an orphans file was computed from. Orphan entries
 * are paths relative to the data directory, so a key starting with `/` can never clash with
 * one. Files written by the original tool simply lack it.
 */
export const STREAMS_KEY = '/meph:streams';

export interface OrphansFile {
  /** Relative path (inside the data directory) → RFC 2822 time it was first seen orphaned. */
  entries: Map<string, string>;
  /** Streams (absolute paths or URLs) the entries were computed against, when recorded. */
  streams?: string[];
}

/** Reads an orphans file; a missing file is an empty one. Anything malformed is an error. */
export async function readOrphansFile(file: string): Promise<OrphansFile> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { entries: new Map() };
    return ioError(file, 'read')(err);
  }
  return parseOrphansFile(text, file);
}

export function parseOrphansFile(text: string, file: string): OrphansFile {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new OrphansFileError(file, `not valid JSON (${(err as Error).message})`, { cause: err });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new OrphansFileError(file, 'is not a JSON object');
  const result: OrphansFile = { entries: new Map() };
  for (const [key, v] of Object.entries(value)) {
    if (key === STREAMS_KEY) {
      if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) throw new OrphansFileError(file, `${STREAMS_KEY} must be a list of stream paths or URLs`);
      result.streams = v as string[];
      continue;
    }
    if (typeof v !== 'string' || parseRfc2822(v) === undefined) throw new OrphansFileError(file, `entry ${JSON.stringify(key)} has no RFC 2822 timestamp (got ${JSON.stringify(v)})`);
    result.entries.set(key, v);
  }
  return result;
}

/** The file's text: sorted keys, indent 1, trailing newline (the original wrote indent 1 too). */
export function formatOrphansFile(data: OrphansFile): string {
  const obj: Record<string, unknown> = Object.fromEntries(data.entries);
  if (data.streams) obj[STREAMS_KEY] = data.streams;
  return serializeJson(obj);
}

/** Writes the file atomically (a crash never leaves a truncated orphans file). */
export async function writeOrphansFile(file: string, data: OrphansFile): Promise<void> {
  await writeFileAtomic(file, formatOrphansFile(data)).catch(ioError(file, 'write'));
}
