import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTempDir } from '@meph/test-support';
import { UnsafePathError } from '../errors.js';
import { TargetConfinement } from './confine.js';

const dir = useTempDir('meph-confine-');

describe('TargetConfinement', () => {
  it('still refuses a symlink out of the target beside a missing directory', async () => {
    const outside = await fsp.mkdtemp(path.join(os.tmpdir(), 'meph-confine-out-'));
    try {
      await fsp.mkdir(path.join(dir.path, 'streams'));
      await fsp.symlink(outside, path.join(dir.path, 'streams/v1'));
      const confine = new TargetConfinement(dir.path);
      await confine.resolve('files/a/b.bin', 'data file');
      await expect(confine.resolve('streams/v1/index.json', 'index')).rejects.toThrow(UnsafePathError);
    } finally {
      await fsp.rm(outside, { recursive: true, force: true });
    }
  });
});
