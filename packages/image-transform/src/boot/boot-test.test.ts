import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BootTestError, SourceFormatError } from '../errors.js';
import { bootTest } from './boot-test.js';

let dir: string;
const f = (name: string) => path.join(dir, name);

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'meph-boot-'));
  writeFileSync(f('kernel'), 'this is not a kernel');
  writeFileSync(f('initrd'), '');
  writeFileSync(f('squashfs'), '');
  // stands in for QEMU only to test the timeout/kill plumbing: prints a kernel banner, then hangs
  writeFileSync(f('hanging-qemu'), `#!/bin/sh\necho $$ > ${f('pid')}\necho "[    0.000000] Linux version 6.1.0 (test)"\nexec sleep 600\n`);
  chmodSync(f('hanging-qemu'), 0o755);
  // stand in for QEMU to test what the console decides: a boot whose root is not the squashfs, and one whose root is
  const boot = (root: string) => `#!/bin/sh\necho "[    0.000000] Linux version 6.1.0 (test)"\necho "[    5.000000] systemd[1]: Started."\necho "[    6.000000] findmnt[193]: ${root} /"\nexec sleep 600\n`;
  writeFileSync(f('ext4-qemu'), boot('ext4 /dev/vda'));
  writeFileSync(f('squashfs-qemu'), boot('squashfs /dev/vda'));
  chmodSync(f('ext4-qemu'), 0o755);
  chmodSync(f('squashfs-qemu'), 0o755);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('bootTest failures', () => {
  it('a file that is not a kernel fails with the console tail', async () => {
    const err = await bootTest({ kernel: f('kernel'), initrd: f('initrd'), squashfs: f('squashfs'), timeoutMs: 60_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BootTestError);
    expect((err as BootTestError).reachedStage).toBe('none');
    expect((err as BootTestError).consoleTail).toMatch(/kernel|qemu/i);
  });

  it('a missing artifact is named', async () => {
    await expect(bootTest({ kernel: f('nope'), initrd: f('initrd'), squashfs: f('squashfs') })).rejects.toBeInstanceOf(SourceFormatError);
  });

  it('times out with the stage reached, and the emulator is killed', async () => {
    const started = Date.now();
    const err = await bootTest({ kernel: f('kernel'), initrd: f('initrd'), squashfs: f('squashfs'), timeoutMs: 1500, qemu: f('hanging-qemu') }).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(err).toBeInstanceOf(BootTestError);
    expect((err as Error).message).toMatch(/within 2 s \(reached: kernel\)/);
    const pid = Number(readFileSync(f('pid'), 'utf8'));
    expect(existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ')).toBe(false);
  });

  it('a root that is not the squashfs fails naming what it is', async () => {
    const err = await bootTest({ kernel: f('kernel'), initrd: f('initrd'), squashfs: f('squashfs'), timeoutMs: 30_000, qemu: f('ext4-qemu') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BootTestError);
    expect((err as Error).message).toBe('booted, but the root file system is ext4 on /dev/vda, not the squashfs');
    expect((err as BootTestError).reachedStage).toBe('root-check');
  });

  it('passes on a squashfs root and stops the emulator without waiting for its power-off', async () => {
    const started = Date.now();
    const r = await bootTest({ kernel: f('kernel'), initrd: f('initrd'), squashfs: f('squashfs'), timeoutMs: 30_000, qemu: f('squashfs-qemu') });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(r).toMatchObject({ rootFsType: 'squashfs', rootSource: '/dev/vda' });
    expect(Object.keys(r.stages)).toEqual(['kernel', 'userspace', 'root-check']);
  });

  it('stops when aborted', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error('stop')), 500);
    await expect(bootTest({ kernel: f('kernel'), initrd: f('initrd'), squashfs: f('squashfs'), qemu: f('hanging-qemu'), signal: ac.signal })).rejects.toThrow('stop');
  });
});
