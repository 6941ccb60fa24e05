import { existsSync } from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTempDir, type TempDir } from './temp-dir.js';

const dir = useTempDir('meph-temp-dir-test-');
// Each test records its directory, so the next one can see what became of it.
const seen: string[] = [];

describe('useTempDir', () => {
  it('gives a test an empty directory of its own under os.tmpdir(), named with the prefix', async () => {
    expect(path.dirname(dir.path)).toBe(os.tmpdir());
    expect(path.basename(dir.path)).toMatch(/^meph-temp-dir-test-.+/);
    expect(await fsp.readdir(dir.path)).toEqual([]);
    seen.push(dir.path);
    await fsp.mkdir(path.join(dir.path, 'sub/deeper'), { recursive: true });
    await fsp.writeFile(path.join(dir.path, 'sub/deeper/file'), 'left behind');
  });

  it('removes it with its contents after the test, and gives the next test a different, empty one', async () => {
    expect(seen).toHaveLength(1);
    expect(existsSync(seen[0]!)).toBe(false);
    expect(dir.path).not.toBe(seen[0]);
    expect(await fsp.readdir(dir.path)).toEqual([]);
    seen.push(dir.path);
  });

  it.fails('removes it after a test that fails too', () => {
    seen.push(dir.path);
    throw new Error('this test fails on purpose');
  });

  it('(after the failed test) found its directory gone', () => {
    expect(seen).toHaveLength(3);
    expect(existsSync(seen[2]!)).toBe(false);
  });

  let inner: TempDir;
  describe('inside a describe', () => {
    inner = useTempDir('meph-temp-dir-inner-');
    it('gives the describe its own directory beside the outer one', () => {
      expect(path.basename(inner.path)).toMatch(/^meph-temp-dir-inner-/);
      expect(inner.path).not.toBe(dir.path);
      seen.push(inner.path);
    });
  });

  it('removes the describe\'s directory after its test, and refuses .path outside that describe\'s tests', () => {
    expect(existsSync(seen[3]!)).toBe(false);
    expect(() => inner.path).toThrow(/^useTempDir\('meph-temp-dir-inner-'\): \.path is only there while a test/);
  });
});
