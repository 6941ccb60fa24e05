import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupStale, createRunDir, mountsUnder } from './cleanup.js';
import { backingFile } from './loop.js';

let dir: string;
const runDir = path.join(os.tmpdir(), `meph-cleanup-run-${process.pid}`);
const sh = (cmd: string) => execFileSync('bash', ['-euo', 'pipefail', '-c', cmd], { encoding: 'utf8' }).trim();
const deadPid = () => spawnSync('true').pid;

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'meph-cleanup-'));
  process.env['MEPH_RUN_DIR'] = runDir;
});
afterAll(() => {
  for (const m of sh(`grep -o ' ${dir}[^ ]*' /proc/self/mounts || true`).split('\n').filter(Boolean).reverse()) sh(`umount -l ${m}`);
  rmSync(dir, { recursive: true, force: true });
  rmSync(runDir, { recursive: true, force: true });
  delete process.env['MEPH_RUN_DIR'];
});

describe('cleanupStale (a rerun after a crash)', () => {
  it('unmounts and removes run directories of dead runs, leaves live ones alone', async () => {
    const stale = path.join(dir, 'meph-convert-crashed');
    mkdirSync(path.join(stale, 'tree/proc'), { recursive: true });
    writeFileSync(path.join(stale, 'owner.pid'), `${deadPid()}\n`);
    sh(`mount -t tmpfs meph-test ${stale}/tree/proc`);
    const live = await createRunDir(dir);
    const foreign = path.join(dir, 'meph-convert-other-live');
    mkdirSync(foreign);
    writeFileSync(path.join(foreign, 'owner.pid'), '1\n');

    expect(await mountsUnder(stale)).toEqual([`${stale}/tree/proc`]);
    const cleaned = await cleanupStale(dir);
    expect(cleaned).toEqual([stale]);
    expect(await mountsUnder(dir)).toEqual([]);
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(live)).toBe(true);
    expect(existsSync(foreign)).toBe(true);
  });

  it('detaches loop devices recorded by a dead run, but not a device reused by someone else', async () => {
    const img = path.join(dir, 'loop.img');
    const other = path.join(dir, 'other.img');
    sh(`truncate -s 1M ${img} ${other}`);
    const mine = sh(`losetup -f --show -r ${img}`);
    const reused = sh(`losetup -f --show -r ${other}`);
    try {
      mkdirSync(path.join(runDir, 'loops'), { recursive: true });
      writeFileSync(path.join(runDir, 'loops', path.basename(mine)), `${deadPid()}\n${img}\n`);
      // recorded for a file it no longer serves: must not be detached
      writeFileSync(path.join(runDir, 'loops', path.basename(reused)), `${deadPid()}\n${path.join(dir, 'gone.img')}\n`);
      const cleaned = await cleanupStale(dir);
      expect(cleaned).toEqual([mine]);
      expect(await backingFile(mine)).not.toBe(img);
      expect(await backingFile(reused)).toBe(other);
    } finally {
      sh(`losetup -d ${reused} || true; losetup -j ${img} -O NAME -n | xargs -r -n1 losetup -d`);
    }
  });
});
