import { randomBytes } from 'node:crypto';
import { chmodSync, promises as fsp, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { fsyncDir, pidAlive, syncAndRename } from '@meph/sys';
import { serializeJson } from './serialize.js';

// The durable-rename and pid primitives live in @meph/sys; re-exported for this package's writers.
export { fsyncDir, pidAlive, syncAndRename };

/**
 * Suffix of every temporary file meph writes. It deliberately does not end in `.json`, so a
 * temp file left by a crash is never mistaken for a products file by `regenerateIndex` or a
 * reader scanning `streams/v1/`.
 */
export const TEMP_SUFFIX = '.meph-tmp';

/** A fresh temp path in the same directory as `target` (so the final rename is atomic). */
export function tempPathFor(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}${TEMP_SUFFIX}`);
}

/** True for names produced by {@link tempPathFor}. */
export function isTempName(name: string): boolean {
  return name.startsWith('.') && name.endsWith(TEMP_SUFFIX);
}

/** The pid embedded in a temp file name by {@link tempPathFor}, if `name` is one. */
export function tempWriterPid(name: string): number | undefined {
  if (!isTempName(name)) return undefined;
  const m = /\.(\d+)\.[0-9a-f]{8}\.meph-tmp$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

/**
 * Mode of every file and directory meph publishes, whatever the umask: a stream is served by a
 * web server to MAAS, so metadata and data are world-readable (0644) and directories 0755.
 */
export const FILE_MODE = 0o644;
export const DIR_MODE = 0o755;

/**
 * `mkdir -p` whose new directories are 0755 whatever the umask (existing ones are left alone).
 * The existence checks are synchronous (a writer calls this once per file it places, and a stat
 * costs microseconds, several times less than a thread-pool round trip); making a directory
 * stays asynchronous, as a mkdir can take a millisecond and parallel writers overlap them.
 */
export async function mkdirPublic(dir: string): Promise<void> {
  const missing: string[] = [];
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    // (a missing directory answered without an error: new version directories are the common case)
    const st = path.dirname(d) === d ? statSync(d) : statSync(d, { throwIfNoEntry: false });
    if (st) {
      if (missing.length === 0 && st.isDirectory()) return; // already there: one stat, nothing to make
      break;
    }
    missing.push(d);
  }
  if (missing.length === 0) await fsp.mkdir(dir); // a file where the directory should be: its EEXIST
  for (const d of missing.reverse()) await makePublicDir(d);
}

/**
 * Directories being made by this process: parallel writers placing files side by side (a
 * kernel and its initrd) wait for one mkdir instead of racing their own.
 */
const dirsInFlight = new Map<string, Promise<void>>();

/** One directory whose parent exists, 0755; one that appeared meanwhile (another writer) is fine. */
function makePublicDir(dir: string): Promise<void> {
  let made = dirsInFlight.get(dir);
  if (!made) {
    made = fsp.mkdir(dir, DIR_MODE).then(
      () => chmodSync(dir, DIR_MODE),
      (err: NodeJS.ErrnoException) => {
        if (err.code !== 'EEXIST' || !statSync(dir).isDirectory()) throw err;
      },
    );
    dirsInFlight.set(dir, made);
    void made.then(
      () => dirsInFlight.delete(dir),
      () => dirsInFlight.delete(dir),
    );
  }
  return made;
}

/** Creates a temp file for {@link tempPathFor} with mode 0644 regardless of the umask. */
export async function openTemp(tmp: string): Promise<fsp.FileHandle> {
  const handle = await fsp.open(tmp, 'wx', FILE_MODE);
  try {
    await handle.chmod(FILE_MODE);
  } catch (err) {
    await handle.close().catch(() => {});
    await fsp.rm(tmp, { force: true }).catch(() => {});
    throw err;
  }
  return handle;
}

/**
 * {@link syncAndRename} for a file already written and closed (e.g. by a converter): fsyncs
 * it, creates the destination's directories (0755) and renames it into place durably.
 */
export async function moveIntoPlace(from: string, to: string): Promise<void> {
  await mkdirPublic(path.dirname(to));
  await syncAndRename(await fsp.open(from, 'r'), from, to);
}

/**
 * Writes `data` to `file` so that readers see either the old content or the complete new
 * content, never a partial file: temp file in the same directory, write (streamed for a
 * Readable), fsync, rename over `file`, fsync the directory. Parent directories are created.
 * On failure the temp file is removed and the original file is untouched.
 */
export async function writeFileAtomic(file: string, data: FileData | Readable): Promise<void> {
  await mkdirPublic(path.dirname(file));
  const tmp = tempPathFor(file);
  const handle = await openTemp(tmp);
  let closed = false;
  try {
    await writeData(handle, data);
    closed = true;
    await syncAndRename(handle, tmp, file);
  } catch (err) {
    if (!closed) await handle.close().catch(() => {});
    await fsp.rm(tmp, { force: true }).catch(() => {});
    throw err;
  }
}

/** UTF-16 code units of text encoded per write: bounds the buffer a long string needs. */
const TEXT_SLICE = 1 << 20;

/**
 * Writes text as UTF-8 in slices of at most {@link TEXT_SLICE} code units through one reused
 * buffer: a 70 MB document needs neither a second 70 MB buffer nor a fresh buffer per slice
 * for the garbage collector (3× less CPU than encoding it whole). A slice never ends between
 * the two halves of a surrogate pair (each half alone would be encoded as U+FFFD).
 */
async function writeText(handle: fsp.FileHandle, text: string, buffer: () => Buffer): Promise<void> {
  for (let at = 0; at < text.length; ) {
    let end = Math.min(at + TEXT_SLICE, text.length);
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end--;
    const buf = buffer();
    // at most 3 bytes per UTF-16 code unit, so the slice always fits whole
    const n = buf.write(text.slice(at, end), 0, 'utf8');
    await writeAll(handle, buf.subarray(0, n));
    at = end;
  }
}

async function writeData(handle: fsp.FileHandle, data: FileData | Readable): Promise<void> {
  if (data instanceof Uint8Array) return writeAll(handle, data);
  if (typeof data === 'string' || Symbol.iterator in data) {
    let buf: Buffer | undefined;
    const buffer = (): Buffer => (buf ??= Buffer.allocUnsafe(3 * TEXT_SLICE));
    for (const piece of typeof data === 'string' ? [data] : (data as Iterable<string>)) await writeText(handle, piece, buffer);
    return;
  }
  for await (const chunk of data) {
    const buf: Uint8Array = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Uint8Array);
    await writeAll(handle, buf);
  }
}

/**
 * A file's new content: text (written as UTF-8), bytes, or text in pieces written as they
 * come (see serializeJsonChunks: never joined into one string; read once).
 */
export type FileData = string | Uint8Array | Iterable<string>;

/** New content for one file of a {@link replaceFilesTogether} group. */
export interface FileReplacement {
  path: string;
  data: FileData;
}

/**
 * One group of {@link prepareFiles}: its files, or a function making them when the group is
 * written (so a caller need not hold every document's text at once).
 */
export type FileGroup = readonly FileReplacement[] | (() => Promise<readonly FileReplacement[]>);

/** Suffix of the journal {@link replaceFilesTogether} leaves while it renames. */
export const JOURNAL_SUFFIX = '.meph-journal';

interface Journal {
  /** [temp, destination] pairs, relative to the journal's directory, in rename order. */
  renames: Array<[string, string]>;
}

/**
 * Prepared, not yet visible: every file written to a temp beside its destination and fsynced.
 * {@link PreparedFiles.commit} renames them; {@link PreparedFiles.discard} removes the temps.
 */
export interface PreparedFiles {
  /** Renames each group in order, calling `after(i)` once group `i` is in place. */
  commit(after?: (group: number) => void): Promise<void>;
  discard(): Promise<void>;
}

/**
 * Stage 1 of {@link replaceFilesTogether}: writes every file of every group to a temp file
 * (0644) and fsyncs it, one group after the other (a group given as a function is made when
 * its turn comes). Any failure (ENOSPC, EIO, a group's function throwing) removes every temp
 * and rethrows, so nothing visible has changed.
 */
export async function prepareFiles(groups: ReadonlyArray<FileGroup>): Promise<PreparedFiles> {
  const staged: Array<Array<[string, string]>> = [];
  const temps: string[] = [];
  const discard = async (): Promise<void> => {
    for (const t of temps) await fsp.rm(t, { force: true }).catch(() => {});
  };
  try {
    for (const entry of groups) {
      const pairs: Array<[string, string]> = [];
      const group = typeof entry === 'function' ? await entry() : entry;
      for (const f of group) {
        await mkdirPublic(path.dirname(f.path));
        const tmp = tempPathFor(f.path);
        const handle = await openTemp(tmp);
        temps.push(tmp);
        try {
          await writeData(handle, f.data);
          await handle.sync();
        } finally {
          await handle.close();
        }
        pairs.push([tmp, f.path]);
      }
      staged.push(pairs);
    }
  } catch (err) {
    await discard();
    throw err;
  }
  const all = staged.flat();
  return {
    discard,
    async commit(after) {
      if (!all.length) return;
      // A crash between two renames is completed by the next writer (rollForwardJournals), so
      // a document and its signatures never stay out of step.
      const dir = path.dirname(all[0]![1]);
      const journalFile = tempPathFor(path.join(dir, 'meph-commit')).slice(0, -TEMP_SUFFIX.length) + JOURNAL_SUFFIX;
      const journal: Journal = { renames: all.map(([t, d]) => [path.relative(dir, t), path.relative(dir, d)]) };
      try {
        await writeFileAtomic(journalFile, JSON.stringify(journal));
      } catch (err) {
        await discard();
        throw err;
      }
      // Past this point the commit is finished even if a callback throws (e.g. an abort):
      // stopping half-way would leave the rest to the next writer's roll-forward.
      let callbackError: { error: unknown } | undefined;
      const dirs = new Set<string>();
      for (const [i, pairs] of staged.entries()) {
        for (const [tmp, dest] of pairs) {
          await fsp.rename(tmp, dest);
          dirs.add(path.dirname(dest));
        }
        for (const d of dirs) await fsyncDir(d);
        dirs.clear();
        try {
          after?.(i);
        } catch (error) {
          callbackError ??= { error };
        }
      }
      await fsp.rm(journalFile, { force: true });
      if (callbackError) throw callbackError.error;
    },
  };
}

/**
 * Replaces several files as one unit — a metadata document with its `.sjson` and `.json.gpg`:
 * all new contents are written and fsynced first (a failure changes nothing), then renamed
 * into place one after the other under a journal, so a crash in between is finished by the
 * next writer's {@link rollForwardJournals}.
 */
export async function replaceFilesTogether(files: readonly FileReplacement[]): Promise<void> {
  await (await prepareFiles([files])).commit();
}

/** The pid embedded in a journal name, if `name` is one. */
function journalWriterPid(name: string): number | undefined {
  const m = /^\..*\.(\d+)\.[0-9a-f]{8}\.meph-journal$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

/**
 * Completes commits interrupted by a dead writer in `dir`: each journal's remaining temps are
 * renamed into place, then the journal is removed. Call it under the stream lock, before
 * removing stale temps (they may be named by a journal).
 */
export async function rollForwardJournals(dir: string): Promise<number> {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  const base = path.resolve(dir);
  let done = 0;
  for (const name of names) {
    const pid = journalWriterPid(name);
    if (pid === undefined || pid === process.pid || pidAlive(pid)) continue;
    const file = path.join(base, name);
    let journal: Journal | undefined;
    try {
      journal = JSON.parse(await fsp.readFile(file, 'utf8')) as Journal;
    } catch {
      journal = undefined; // written atomically, so unreadable means not ours: leave it
    }
    if (!journal || !Array.isArray(journal.renames)) continue;
    for (const [tmp, dest] of journal.renames) {
      const from = path.resolve(base, tmp);
      const to = path.resolve(base, dest);
      // names come from our own journal, but never follow one out of its directory tree
      if (!isTempName(path.basename(from)) || path.dirname(from) !== path.dirname(to) || !from.startsWith(base + path.sep)) continue;
      try {
        await fsp.rename(from, to);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err; // already renamed
      }
      await fsyncDir(path.dirname(to));
    }
    await fsp.rm(file, { force: true });
    done++;
  }
  return done;
}

/** Writes every byte of `buf` at the handle's current position. */
export async function writeAll(handle: fsp.FileHandle, buf: Uint8Array): Promise<void> {
  let off = 0;
  while (off < buf.length) {
    const { bytesWritten } = await handle.write(buf, off, buf.length - off);
    off += bytesWritten;
  }
}

/** {@link writeFileAtomic} of {@link serializeJson}(value): sorted keys, indent 1, newline. */
export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  await writeFileAtomic(file, serializeJson(value));
}
