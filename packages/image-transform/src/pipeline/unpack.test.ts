import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SourceFormatError, UnsafeArchiveMemberError } from '../errors.js';
import { LoopRegistry } from './loop.js';
import { MemberChecker, unpackRootTar } from './unpack.js';

let dir: string;
const sh = (cmd: string) => execFileSync('bash', ['-euo', 'pipefail', '-c', cmd], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const opts = () => ({ scratch: dir, loops: new LoopRegistry() });

/** A minimal ustar writer, so tests can make archives no well-behaved tar would write. */
function tarball(entries: Array<{ name: string; type?: '0' | '1' | '2' | '5'; link?: string; data?: string }>): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const data = Buffer.from(e.data ?? '');
    const h = Buffer.alloc(512);
    h.write(e.name, 0, 100, 'latin1');
    h.write('0000644\0', 100);
    h.write('0000000\0', 108);
    h.write('0000000\0', 116);
    h.write(data.length.toString(8).padStart(11, '0') + '\0', 124);
    h.write('00000000000\0', 136);
    h.write('        ', 148);
    h.write(e.type ?? '0', 156);
    if (e.link) h.write(e.link, 157, 100, 'latin1');
    h.write('ustar\0', 257);
    h.write('00', 263);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
    blocks.push(h, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'meph-unpack-'));
  // a tree with what a root fs has: owners, modes, a device node, a capability xattr, links
  sh(`mkdir -p tree/etc tree/dev tree/usr/bin tree/tmp
      echo hello > tree/etc/motd && chown 1234:2345 tree/etc/motd && chmod 640 tree/etc/motd
      chmod 1777 tree/tmp && head -c 300000 /dev/urandom > tree/etc/random.bin
      mknod tree/dev/null c 1 3 && chmod 666 tree/dev/null
      printf '#!/bin/sh\\n' > tree/usr/bin/ping && chmod 4755 tree/usr/bin/ping && setcap cap_net_raw+ep tree/usr/bin/ping
      ln tree/etc/motd tree/etc/motd.hard
      ln -s /usr/bin tree/bin
      ln -s ../etc/motd tree/usr/motd-rel
      tar --numeric-owner --xattrs --xattrs-include='*' -C tree -cf - . | xz -1 > root.tar.xz
      tar --numeric-owner --xattrs --xattrs-include='*' -C tree -czf root.tar.gz .
      head -c $(( $(stat -c%s root.tar.xz) / 2 )) root.tar.xz > truncated.tar.xz`);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('unpackRootTar', () => {
  it.each(['root.tar.xz', 'root.tar.gz'])('%s keeps owners, modes, device nodes, xattrs and links', async (name) => {
    const dest = path.join(dir, `out-${name}`);
    await unpackRootTar(path.join(dir, name), name.endsWith('xz') ? 'xz' : 'gzip', dest, opts());
    const motd = statSync(path.join(dest, 'etc/motd'));
    expect([motd.uid, motd.gid, motd.mode & 0o7777]).toEqual([1234, 2345, 0o640]);
    expect(statSync(path.join(dest, 'etc/motd.hard')).ino).toBe(motd.ino);
    expect(statSync(path.join(dest, 'tmp')).mode & 0o7777).toBe(0o1777);
    const dev = lstatSync(path.join(dest, 'dev/null'));
    expect(dev.isCharacterDevice()).toBe(true);
    expect(dev.rdev).toBe(statSync('/dev/null').rdev);
    expect(statSync(path.join(dest, 'usr/bin/ping')).mode & 0o7777).toBe(0o4755);
    expect(sh(`getcap ${dest}/usr/bin/ping`)).toMatch(/cap_net_raw[=+]ep/);
    expect(readlinkSync(path.join(dest, 'bin'))).toBe('/usr/bin');
    expect(readFileSync(path.join(dest, 'usr/motd-rel'), 'utf8')).toBe('hello\n');
  });

  it('a truncated archive is a SourceFormatError naming the file, and leaves no tree', async () => {
    const dest = path.join(dir, 'out-trunc');
    const err = await unpackRootTar(path.join(dir, 'truncated.tar.xz'), 'xz', dest, opts()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceFormatError);
    expect(String((err as Error).message)).toMatch(/truncated\.tar\.xz: is corrupt or truncated/);
    expect(existsSync(dest)).toBe(false);
  });

  it.each([
    ['dot-dot', [{ name: 'etc/', type: '5' as const }, { name: '../../escaped', data: 'x' }], /"\.\." segment/],
    ['through a symlink', [{ name: 'lib', type: '2' as const, link: '/tmp' }, { name: 'lib/escaped', data: 'x' }], /parent lib is a symbolic link/],
    ['relative symlink out', [{ name: 'a/', type: '5' as const }, { name: 'a/up', type: '2' as const, link: '../../..' }], /leaves the tree/],
    ['hard link out', [{ name: 'h', type: '1' as const, link: '../../etc/shadow' }], /hard link/],
  ])('refuses a member %s, removes the tree, writes nothing outside', async (label, entries, reason) => {
    const file = path.join(dir, `evil-${label.replace(/\W/g, '_')}.tar`);
    writeFileSync(file, tarball(entries));
    const dest = path.join(dir, 'evil-out', label.replace(/\W/g, '_'));
    mkdirSync(dest, { recursive: true });
    const err = await unpackRootTar(file, 'none', dest, opts()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnsafeArchiveMemberError);
    expect((err as Error).message).toMatch(reason);
    expect(existsSync(dest)).toBe(false);
    expect(existsSync('/tmp/escaped')).toBe(false);
    expect(existsSync(path.join(dir, 'escaped'))).toBe(false);
  });
});

describe('MemberChecker', () => {
  it('accepts what a root fs holds', () => {
    const c = new MemberChecker('x.tar');
    for (const [n, t, l] of [['./', 'Directory'], ['./bin', 'SymbolicLink', 'usr/bin'], ['./usr/bin/', 'Directory'], ['./etc/alternatives/awk', 'SymbolicLink', '/usr/bin/mawk'], ['./usr/bin/x', 'File'], ['./usr/bin/y', 'Link', './usr/bin/x']] as const) {
      expect(() => c.check(n, t, l)).not.toThrow();
    }
  });
  it('refuses absolute names', () => {
    expect(() => new MemberChecker('x.tar').check('/etc/passwd', 'File')).toThrow(UnsafeArchiveMemberError);
  });
  it('allows a path again once a later member replaced the symlink with a directory', () => {
    const c = new MemberChecker('x.tar');
    c.check('d', 'SymbolicLink', '/x');
    c.check('d', 'Directory');
    expect(() => c.check('d/f', 'File')).not.toThrow();
  });
});
