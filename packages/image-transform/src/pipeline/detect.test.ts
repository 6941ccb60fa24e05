import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SourceFormatError } from '../errors.js';
import { byName, detectSourceType } from './detect.js';

let dir: string;
const sh = (cmd: string) => execFileSync('bash', ['-euo', 'pipefail', '-c', cmd], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'meph-detect-'));
  mkdirSync(path.join(dir, 'tree/etc'), { recursive: true });
  writeFileSync(path.join(dir, 'tree/etc/hostname'), 'x\n');
  sh('tar -C tree -cf - . | xz -1 > root.bin');                      // root tarball, misleading name
  sh('truncate -s 8M disk.img && mkfs.ext4 -q -F disk.img');
  sh('tar -czf images.bin disk.img');                                // img-tar
  sh('gzip -c disk.img > disk.bin');                                 // gzipped ext4
  sh('mksquashfs tree fs.bin -noappend -quiet -no-progress >/dev/null');
  sh('qemu-img create -q -f qcow2 vm.bin 16M');
  sh('truncate -s 4M parted.bin; echo "label: gpt" | sfdisk -q parted.bin');
  writeFileSync(path.join(dir, 'noise-root.tar.xz'), 'not an archive at all');
  writeFileSync(path.join(dir, 'empty.img'), '');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('detectSourceType (from content, not names)', () => {
  it.each([
    ['root.bin', { format: 'root-tar', compression: 'xz' }],
    ['images.bin', { format: 'img-tar', compression: 'gzip' }],
    ['disk.bin', { format: 'root-image-gz', compression: 'gzip' }],
    ['disk.img', { format: 'root-image', compression: 'none', container: 'raw' }],
    ['parted.bin', { format: 'root-image', container: 'raw' }],
    ['vm.bin', { format: 'root-image', container: 'qcow2' }],
    ['fs.bin', { format: 'squashfs-image', compression: 'none' }],
  ])('%s', async (name, expected) => {
    const t = await detectSourceType(path.join(dir, name));
    expect(t).toMatchObject({ ...expected, detectedBy: 'content' });
  });

  it('falls back to the name when the content proves nothing', async () => {
    await expect(detectSourceType(path.join(dir, 'noise-root.tar.xz'))).resolves.toMatchObject({ format: 'root-tar', detectedBy: 'name' });
  });

  it('refuses an empty file and a missing one with the file named', async () => {
    await expect(detectSourceType(path.join(dir, 'empty.img'))).rejects.toThrow(/empty\.img: is empty/);
    await expect(detectSourceType(path.join(dir, 'nope'))).rejects.toBeInstanceOf(SourceFormatError);
  });
});

describe('byName (the original fallback table)', () => {
  it.each([
    ['noble-server-cloudimg-amd64-root.tar.xz', 'root-tar'],
    ['x-root.tgz', 'root-tar'],
    ['noble.tar.gz', 'img-tar'],
    ['disk.gz', 'root-image-gz'],
    ['noble.squashfs', 'squashfs-image'],
    ['disk.img', 'root-image'],
  ])('%s → %s', (name, format) => {
    expect(byName(name).format).toBe(format);
  });
  it('names what it cannot recognise', () => {
    expect(() => byName('/x/photo.jpeg')).toThrow(/photo\.jpeg: is not a recognised source image/);
  });
});
