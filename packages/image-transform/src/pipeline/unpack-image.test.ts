import { execFileSync } from 'node:child_process';
import { lstatSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NoRootFilesystemError } from '../errors.js';
import { mountsUnder } from './cleanup.js';
import { detectSourceType } from './detect.js';
import { LoopRegistry } from './loop.js';
import { unpackSource } from './unpack.js';

let dir: string;
const sh = (cmd: string) => execFileSync('bash', ['-euo', 'pipefail', '-c', cmd], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const loopsOn = (file: string) => sh(`losetup -n -O NAME -j ${file}`).trim();

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'meph-unpack-image-'));
  sh(`mkdir -p tree/etc tree/dev tree/sbin
      echo rootfs > tree/etc/hostname && chown 4321:99 tree/etc/hostname && chmod 600 tree/etc/hostname
      mknod tree/dev/console c 5 1
      ln -s /lib/systemd/systemd tree/sbin/init
      mkfs.ext4 -q -F -L cloudimg-rootfs -d tree root.ext4 32M
      mkfs.ext4 -q -F -L boot boot.ext4 8M
      truncate -s 48M disk.raw
      printf 'label: gpt\\nstart=2048, size=16384, name=boot\\nstart=18432, size=65536, name=root\\n' | sfdisk -q disk.raw
      dd if=boot.ext4 of=disk.raw bs=512 seek=2048 conv=notrunc status=none
      dd if=root.ext4 of=disk.raw bs=512 seek=18432 conv=notrunc status=none
      qemu-img convert -O qcow2 disk.raw disk.qcow2
      gzip -1 -c disk.raw > disk.raw.gz
      cp --sparse=always disk.raw bookworm.img && tar -czSf images.tar.gz bookworm.img && rm bookworm.img
      truncate -s 8M empty.raw && printf 'label: dos\\nstart=2048, type=83\\n' | sfdisk -q empty.raw`);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('unpackSource from disk images', () => {
  it.each([
    ['disk.raw', 'root-image'],
    ['disk.qcow2', 'root-image'],
    ['root.ext4', 'root-image'],
    ['disk.raw.gz', 'root-image-gz'],
    ['images.tar.gz', 'img-tar'],
  ])('%s (%s): copies the cloudimg-rootfs partition out and releases every loop device', async (name, format) => {
    const file = path.join(dir, name);
    const type = await detectSourceType(file);
    expect(type.format).toBe(format);
    const scratch = mkdtempSync(path.join(dir, 'scratch-'));
    const loops = new LoopRegistry();
    const dest = path.join(scratch, 'tree');
    await unpackSource(file, type, dest, { scratch, loops });
    const st = statSync(path.join(dest, 'etc/hostname'));
    expect([st.uid, st.gid, st.mode & 0o777]).toEqual([4321, 99, 0o600]);
    expect(readFileSync(path.join(dest, 'etc/hostname'), 'utf8')).toBe('rootfs\n');
    expect(lstatSync(path.join(dest, 'dev/console')).isCharacterDevice()).toBe(true);
    expect(lstatSync(path.join(dest, 'sbin/init')).isSymbolicLink()).toBe(true);
    expect(loops.active.size).toBe(0);
    expect(loopsOn(file)).toBe('');
    expect(await mountsUnder(scratch)).toEqual([]);
  });

  it('an image without a Linux file system is a NoRootFilesystemError, with no loop device left', async () => {
    const file = path.join(dir, 'empty.raw');
    const loops = new LoopRegistry();
    const err = await unpackSource(file, await detectSourceType(file), path.join(dir, 'empty-tree'), { scratch: dir, loops }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NoRootFilesystemError);
    expect((err as Error).message).toMatch(/empty\.raw: no root file system found/);
    expect(loopsOn(file)).toBe('');
  });
});
