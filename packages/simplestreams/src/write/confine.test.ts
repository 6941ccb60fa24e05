import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UnsafePathError } from '../errors.js';
import { TargetConfinement } from './confine.js';

let dir: string;
beforeEach(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'meph-confine-'));
});
afterEach(async () => {
  await fsp.rm(dir, { recursive: true, force: true });
});

describe('TargetConfinement', () => {
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
