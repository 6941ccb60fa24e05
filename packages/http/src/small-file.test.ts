import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readWholeFile, SYNC_READ_BYTES } from './small-file.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'meph-small-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const MiB = 1 << 20;

describe('readWholeFile', () => {
  it('gives the whole content of a regular file of 1..max bytes, undefined above max', async () => {
    for (const [n, max] of [[1, MiB], [SYNC_READ_BYTES, MiB], [SYNC_READ_BYTES + 1, MiB], [MiB, MiB], [100, 100]] as const) {
      const b = randomBytes(n);
      const f = path.join(dir, `f${n}-${max}`);
      writeFileSync(f, b);
      expect((await readWholeFile(f, max))?.equals(b)).toBe(true);
    }
    writeFileSync(path.join(dir, 'over'), randomBytes(MiB + 1));
    expect(await readWholeFile(path.join(dir, 'over'), MiB)).toBeUndefined();
    writeFileSync(path.join(dir, 'over-small'), randomBytes(101));
    expect(await readWholeFile(path.join(dir, 'over-small'), 100)).toBeUndefined();
  });

  it('leaves files whose stat does not tell their size to the caller: empty, FIFO (without opening it), directory', async () => {
    writeFileSync(path.join(dir, 'empty'), '');
    expect(await readWholeFile(path.join(dir, 'empty'), MiB)).toBeUndefined();
    // no writer: opening it for reading would wait forever
    execFileSync('mkfifo', [path.join(dir, 'fifo')]);
    expect(await readWholeFile(path.join(dir, 'fifo'), MiB)).toBeUndefined();
    mkdirSync(path.join(dir, 'sub'));
    expect(await readWholeFile(path.join(dir, 'sub'), MiB)).toBeUndefined();
  });

  it('fails for a missing file with its error', async () => {
    await expect(readWholeFile(path.join(dir, 'nope'), MiB)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it(`reads up to ${SYNC_READ_BYTES} bytes before it returns (synchronously), larger files later (through the thread pool)`, async () => {
    for (const [n, sync] of [[SYNC_READ_BYTES, true], [SYNC_READ_BYTES + 1, false]] as const) {
      const f = path.join(dir, `swap${n}`);
      const before = randomBytes(n);
      const after = randomBytes(n);
      writeFileSync(f, before);
      const reading = readWholeFile(f, MiB);
      // same size, new bytes, before the promise had any chance to run
      writeFileSync(f, after);
      expect((await reading)?.equals(sync ? before : after)).toBe(true);
    }
  });
});
