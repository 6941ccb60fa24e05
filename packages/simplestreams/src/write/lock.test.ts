import { spawn } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTempDir } from '@meph/test-support';
import { LockedError } from '../errors.js';
import { LOCK_FILE, withStreamLock, type StreamLockHold } from './lock.js';

const dir = useTempDir('meph-lock-');

/** A real other process that stays alive until killed. */
function sleeper(): { pid: number; kill: () => Promise<void> } {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return {
    pid: child.pid!,
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

describe('withStreamLock', () => {
  it('holds a lock file with our pid while fn runs and removes it afterwards (also on error)', async () => {
    const seen = await withStreamLock(dir.path, async () => fsp.readFile(path.join(dir.path, LOCK_FILE), 'utf8'));
    expect(seen.split(' ')[0]).toBe(String(process.pid));
    await expect(fsp.access(path.join(dir.path, LOCK_FILE))).rejects.toThrow();
    await expect(withStreamLock(dir.path, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(fsp.access(path.join(dir.path, LOCK_FILE))).rejects.toThrow();
  });

  it('is re-entrant for nested calls given the hold, and excludes every other call', async () => {
    await withStreamLock(dir.path, async (held) => {
      expect(await withStreamLock(dir.path, () => 'nested', { held })).toBe('nested');
      // without the hold, even this process is excluded
      await expect(withStreamLock(dir.path, () => 'unheld')).rejects.toMatchObject({ name: 'LockedError', holderPid: process.pid });
    });
    // a hold once released lets nothing in without the lock
    let stale: StreamLockHold | undefined;
    await withStreamLock(dir.path, (held) => (stale = held));
    await withStreamLock(dir.path, async () => {
      await expect(withStreamLock(dir.path, () => 'late', { held: stale! })).rejects.toMatchObject({ name: 'LockedError' });
    });
    let release!: () => void;
    const first = withStreamLock(dir.path, () => new Promise<void>((r) => (release = r)));
    await new Promise((r) => setTimeout(r, 50));
    await expect(withStreamLock(dir.path, () => 'second')).rejects.toMatchObject({ name: 'LockedError', holderPid: process.pid });
    release();
    await first;
  });

  it('fails naming the live holder, or waits for it with {wait: true}', async () => {
    const other = sleeper();
    try {
      await fsp.writeFile(path.join(dir.path, LOCK_FILE), `${other.pid} ${os.hostname()}\n`);
      const err = await withStreamLock(dir.path, () => 'x').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LockedError);
      expect((err as LockedError).message).toContain(`pid ${other.pid}`);
      await expect(withStreamLock(dir.path, () => 'x', { wait: true, timeoutMs: 300, pollMs: 50 })).rejects.toBeInstanceOf(LockedError);
      const waited = withStreamLock(dir.path, () => 'got it', { wait: true, pollMs: 50 });
      setTimeout(() => void fsp.rm(path.join(dir.path, LOCK_FILE)), 200);
      expect(await waited).toBe('got it');
    } finally {
      await other.kill();
    }
  });

  it('takes over a lock left by a dead process', async () => {
    const other = sleeper();
    const deadPid = other.pid;
    await other.kill();
    await fsp.writeFile(path.join(dir.path, LOCK_FILE), `${deadPid} ${os.hostname()}\n`);
    expect(await withStreamLock(dir.path, () => 'taken over')).toBe('taken over');
    expect(await fsp.readdir(dir.path)).toEqual([]);
  });
});
