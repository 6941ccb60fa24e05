import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeRootImageGz, makeRootTgz } from './rootimage.js';

let dir: string;
const sh = (cmd: string) => execFileSync('bash', ['-euo', 'pipefail', '-c', cmd], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'meph-rootimage-'));
  sh(`mkdir -p tree/etc tree/dev scratch out && echo bookworm > tree/etc/issue && chown 1234:5678 tree/etc/issue && mknod tree/dev/null c 1 3`);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('root-image.gz and root-tgz', () => {
  it('root-image.gz is a gzipped ext4 labelled cloudimg-rootfs holding the tree with owners', async () => {
    await makeRootImageGz(path.join(dir, 'tree'), path.join(dir, 'out/root-image.gz'), path.join(dir, 'scratch'));
    sh('gzip -dc out/root-image.gz > root.img');
    expect(sh('blkid -o value -s LABEL root.img').trim()).toBe('cloudimg-rootfs');
    expect(sh('debugfs -R "cat /etc/issue" root.img 2>/dev/null')).toBe('bookworm\n');
    expect(sh('debugfs -R "stat /etc/issue" root.img 2>/dev/null')).toMatch(/User:\s+1234\s+Group:\s+5678/);
    expect(readdirSync(path.join(dir, 'scratch'))).toEqual([]);
    expect(readdirSync(path.join(dir, 'out'))).toEqual(['root-image.gz']);
  }, 180_000);

  it('root-tgz keeps numeric owners and device nodes', async () => {
    await makeRootTgz(path.join(dir, 'tree'), path.join(dir, 'out/root.tar.gz'));
    const listing = sh('tar -tvzf out/root.tar.gz --numeric-owner');
    expect(listing).toMatch(/1234\/5678 .* \.\/etc\/issue/);
    expect(listing).toMatch(/^c.* \.\/dev\/null/m);
  });
});
