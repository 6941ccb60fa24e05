import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { UnsafePathError } from '../errors.js';
import { TargetConfinement } from './confine.js';

let dir: string;
beforeEach(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'meph-confine-'));
});
afterEach(async () => {
  vi.restoreAllMocks();
  await fsp.rm(dir, { recursive: true, force: true });
});

describe('TargetConfinement', () => {
  it('looks no further below a directory it found missing: one lstat for a thousand new version directories', async () => {
    await fsp.mkdir(path.join(dir, 'streams/v1'), { recursive: true });
    const lstat = vi.spyOn(fsp, 'lstat');
    const confine = new TargetConfinement(dir);
    for (let i = 0; i < 1000; i++) await confine.resolve(`files/p${i % 10}/2026${i}/blob.bin`, 'data file');
    expect(lstat.mock.calls.map(([p]) => path.relative(dir, String(p)))).toEqual(['files']);
    // directories that exist are still walked (once per directory)
    await confine.resolve('streams/v1/a.json', 'products file');
    expect(lstat.mock.calls.map(([p]) => path.relative(dir, String(p)))).toEqual(['files', 'streams', 'streams/v1']);
  });

  it('still refuses a symlink out of the target beside a missing directory', async () => {
    const outside = await fsp.mkdtemp(path.join(os.tmpdir(), 'meph-confine-out-'));
    try {
      await fsp.mkdir(path.join(dir, 'streams'));
      await fsp.symlink(outside, path.join(dir, 'streams/v1'));
      const confine = new TargetConfinement(dir);
      await confine.resolve('files/a/b.bin', 'data file');
      await expect(confine.resolve('streams/v1/index.json', 'index')).rejects.toThrow(UnsafePathError);
    } finally {
      await fsp.rm(outside, { recursive: true, force: true });
    }
  });
});
