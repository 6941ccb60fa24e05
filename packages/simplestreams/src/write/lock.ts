import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LockedError, MissingFileError } from '../errors.js';
import { pidAlive } from './atomic.js';

/** Name of the writer lock file at the top of a stream (mirror root) directory. */
export const LOCK_FILE = '.meph-stream.lock';

export interface StreamLockOptions {
  /** Wait (polling) while another live process holds the lock, instead of failing at once. */
  wait?: boolean;
  /** With `wait`: give up with LockedError after this many milliseconds (default: never). */
  timeoutMs?: number;
  /** With `wait`: polling interval (default 200 ms). */
  pollMs?: number;
  /** Aborts a wait. */
  signal?: AbortSignal;
  /**
   * The caller already holds this stream's lock (the hold its own withStreamLock handed it):
   * run without taking it again. A hold of another stream, or one already released, is ignored.
   */
  held?: StreamLockHold;
}

/**
 * What {@link withStreamLock} hands its callback while the lock is held: passed on (as
 * `held`) to nested writers of the same stream, which then run inside the lock instead of
 * waiting for it. Explicit rather than carried by AsyncLocalStorage: on Node 20 an active
 * AsyncLocalStorage puts hooks on every promise the locked work makes (a mirror makes
 * hundreds of thousands).
 */
export interface StreamLockHold {
  /** The stream root, resolved (realpath). */
  readonly dir: string;
}

/** Holds of this process that are still held. */
const activeHolds = new WeakSet<StreamLockHold>();


interface Holder {
  pid: number | undefined;
  host: string | undefined;
}

async function readHolder(lockPath: string): Promise<Holder | 'gone'> {
  let text: string;
  try {
    text = await fsp.readFile(lockPath, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    throw err;
  }
  const [pidText, host] = text.trim().split(/\s+/);
  const pid = Number(pidText);
  return { pid: Number.isSafeInteger(pid) && pid > 0 ? pid : undefined, host };
}

/** A holder is stale when it is a dead process on this host (or the file is unreadable junk). */
function isStale(h: Holder): boolean {
  if (h.pid === undefined) return true;
  if (h.host !== undefined && h.host !== os.hostname()) return false;
  return !pidAlive(h.pid);
}

async function tryCreate(lockPath: string): Promise<boolean> {
  try {
    const fh = await fsp.open(lockPath, 'wx', 0o644);
    try {
      // not fsynced: a lock file a power loss empties reads as stale and is taken over
      await fh.writeFile(`${process.pid} ${os.hostname()}\n`);
    } finally {
      await fh.close();
    }
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

/**
 * Removes a stale lock. A second O_EXCL file guards the check-and-unlink, so two processes
 * taking over the same stale lock cannot remove each other's fresh one.
 */
async function takeOverStale(lockPath: string, stalePid: number | undefined): Promise<void> {
  const guard = `${lockPath}.takeover`;
  if (!(await tryCreate(guard))) {
    const g = await readHolder(guard);
    if (g !== 'gone' && isStale(g)) await fsp.rm(guard, { force: true });
    return; // someone else is taking over; the caller retries
  }
  try {
    const again = await readHolder(lockPath);
    if (again !== 'gone' && again.pid === stalePid && isStale(again)) await fsp.rm(lockPath, { force: true });
  } finally {
    await fsp.rm(guard, { force: true });
  }
}

async function acquire(lockPath: string, dir: string, options: StreamLockOptions): Promise<void> {
  const started = Date.now();
  for (;;) {
    if (await tryCreate(lockPath)) return;
    const holder = await readHolder(lockPath);
    if (holder === 'gone') continue;
    if (isStale(holder)) {
      await takeOverStale(lockPath, holder.pid);
      continue;
    }
    if (!options.wait || (options.timeoutMs !== undefined && Date.now() - started >= options.timeoutMs)) throw new LockedError(dir, holder.pid);
    await sleep(options.pollMs ?? 200, undefined, options.signal ? { signal: options.signal } : undefined);
  }
}

/**
 * Runs `fn` while holding the single-writer lock of a stream directory (which must exist): a file
 * `<rootDir>/.meph-stream.lock` created with O_EXCL that holds this process's pid. A lock
 * left by a dead process is taken over; a live holder makes this call fail with LockedError
 * naming its pid, or poll until it is released with `{ wait: true }`. Re-entrant through the
 * hold `fn` receives: a nested call given it as `held` just runs; any other call (even from
 * this process) is excluded like another process's.
 */
export async function withStreamLock<T>(rootDir: string, fn: (hold: StreamLockHold) => Promise<T> | T, options: StreamLockOptions = {}): Promise<T> {
  const dir = await fsp.realpath(rootDir).catch((err: unknown) => {
    throw (err as NodeJS.ErrnoException).code === 'ENOENT' ? new MissingFileError(rootDir) : err;
  });
  const held = options.held;
  if (held && held.dir === dir && activeHolds.has(held)) return await fn(held);
  const lockPath = path.join(dir, LOCK_FILE);
  await acquire(lockPath, rootDir, options);
  const hold: StreamLockHold = Object.freeze({ dir });
  activeHolds.add(hold);
  try {
    return await fn(hold);
  } finally {
    activeHolds.delete(hold);
    const holder = await readHolder(lockPath).catch(() => 'gone' as const);
    if (holder !== 'gone' && holder.pid === process.pid) await fsp.rm(lockPath, { force: true });
  }
}
