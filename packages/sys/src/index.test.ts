import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fsyncDir, fsyncFile, pidAlive, renameDurably, syncAndRename } from './index.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'meph-sys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('pidAlive', () => {
  it('is true for a running process and false once it has exited', async () => {
    expect(pidAlive(process.pid)).toBe(true);
    const child = spawn('sleep', ['30']);
    const pid = child.pid!;
    expect(pidAlive(pid)).toBe(true);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(pidAlive(pid)).toBe(false);
  });
});

describe('durable rename', () => {
  it('renameDurably replaces the destination', async () => {
    writeFileSync(path.join(dir, 'a.tmp'), 'new');
    writeFileSync(path.join(dir, 'a'), 'old');
    await renameDurably(path.join(dir, 'a.tmp'), path.join(dir, 'a'));
    expect(readFileSync(path.join(dir, 'a'), 'utf8')).toBe('new');
    expect(existsSync(path.join(dir, 'a.tmp'))).toBe(false);
  });

  it('syncAndRename closes the handle and puts the file in place', async () => {
    const tmp = path.join(dir, 'b.tmp');
    const handle = await open(tmp, 'w');
    await handle.writeFile('written');
    await syncAndRename(handle, tmp, path.join(dir, 'b'));
    expect(readFileSync(path.join(dir, 'b'), 'utf8')).toBe('written');
    await expect(handle.stat()).rejects.toThrow(/closed/);
  });

  it('fsyncDir and fsyncFile fail for what does not exist', async () => {
    await fsyncDir(dir);
    writeFileSync(path.join(dir, 'c'), 'c');
    await fsyncFile(path.join(dir, 'c'));
    await expect(fsyncFile(path.join(dir, 'nope'))).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(fsyncDir(path.join(dir, 'nope'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
