import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandFailedError } from '../errors.js';
import { makeSquashfs } from './squashfs.js';

let dir: string;
const sh = (cmd: string) => execFileSync('bash', ['-euo', 'pipefail', '-c', cmd], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'meph-squashfs-'));
  sh(`mkdir -p tree/etc tree/usr/bin && echo hi > tree/etc/issue && chown 1234:5678 tree/etc/issue
      head -c 2000000 /dev/urandom > tree/usr/bin/blob && printf '#!/bin/sh\\n' > tree/usr/bin/ping && setcap cap_net_raw+ep tree/usr/bin/ping`);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('makeSquashfs', () => {
  it.each([
    ['xz', undefined, 131072],
    ['zstd', '1M', 1048576],
    ['gzip', '64K', 65536],
  ] as const)('%s, block size %s: readable, owners and xattrs kept, progress reported', async (comp, blockSize, bytes) => {
    const out = path.join(dir, `out-${comp}/squashfs`);
    const events: Array<{ step?: unknown; done?: unknown }> = [];
    await makeSquashfs(path.join(dir, 'tree'), out, { compression: comp, ...(blockSize ? { blockSize } : {}), onEvent: (e) => events.push(e as never) });
    const info = sh(`unsquashfs -s ${out}`);
    expect(info).toMatch(new RegExp(`Compression ${comp}`));
    expect(info).toMatch(new RegExp(`Block size ${bytes}`));
    expect(sh(`unsquashfs -lln ${out} | grep etc/issue`)).toMatch(/1234\/5678 /);
    sh(`unsquashfs -f -d x-${comp} ${out} >/dev/null`);
    expect(sh(`getcap x-${comp}/usr/bin/ping`)).toMatch(/cap_net_raw[=+]ep/);
    expect(events.at(-1)).toMatchObject({ step: 'squashfs', done: 100 });
    expect(readdirSync(path.dirname(out))).toEqual(['squashfs']);
  });

  it('leaves no partial file when mksquashfs fails', async () => {
    const out = path.join(dir, 'out-fail/squashfs');
    await expect(makeSquashfs(path.join(dir, 'no-such-tree'), out, { compression: 'xz' })).rejects.toBeInstanceOf(CommandFailedError);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(path.dirname(out))).toEqual([]);
  });
});
