import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestKey, startFixtureServer, type FixtureServer, type TestKey } from '../../../../tools/fixture-server/index.js';
import { parseBootloadersConfig, type BootloadersConfig } from './config.js';
import { importBootloaders } from './import.js';

let dir: string;
let archive: string;
let key: TestKey;
let other: TestKey;
let server: FixtureServer;

const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');

/** A .deb (real dpkg-deb) with the given files. */
function makeDeb(name: string, version: string, source: string, files: Record<string, string>): { rel: string; stanza: string } {
  const tree = mkdtempSync(path.join(dir, 'deb-'));
  mkdirSync(path.join(tree, 'DEBIAN'));
  writeFileSync(path.join(tree, 'DEBIAN/control'), `Package: ${name}\nVersion: ${version}\nArchitecture: all\nMaintainer: t <t@example.invalid>\nDescription: test\n`);
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(tree, f)), { recursive: true });
    writeFileSync(path.join(tree, f), text);
  }
  const rel = `pool/main/${name}_${version.replace(/^\d+:/, '')}_all.deb`;
  mkdirSync(path.join(archive, 'pool/main'), { recursive: true });
  execFileSync('dpkg-deb', ['-Zxz', '--root-owner-group', '--build', tree, path.join(archive, rel)], { stdio: 'ignore' });
  const file = path.join(archive, rel);
  const stanza = `Package: ${name}\nSource: ${source}\nVersion: ${version}\nArchitecture: all\nFilename: ${rel}\nSize: ${statSync(file).size}\nSHA256: ${sha(file)}\n`;
  return { rel, stanza };
}

/** dists/<suite>/{InRelease, main/binary-i386/Packages.xz}, InRelease signed by `signer`. */
async function makeSuite(suite: string, stanzas: string[], signer: TestKey): Promise<void> {
  const d = path.join(archive, 'dists', suite);
  mkdirSync(path.join(d, 'main/binary-i386'), { recursive: true });
  writeFileSync(path.join(d, 'main/binary-i386/Packages'), stanzas.join('\n'));
  execFileSync('xz', ['-kf', path.join(d, 'main/binary-i386/Packages')]);
  const px = path.join(d, 'main/binary-i386/Packages.xz');
  writeFileSync(path.join(d, 'Release'), `Suite: ${suite}\nSHA256:\n ${sha(px)} ${statSync(px).size} main/binary-i386/Packages.xz\n`);
  await signer.clearsign(path.join(d, 'Release'), path.join(d, 'InRelease'));
}

const cfgFor = (extra: Record<string, unknown> = {}): BootloadersConfig =>
  parseBootloadersConfig(
    {
      product_id: 'org.example.candidate:1:{os}:{firmware_platform}:{arch}',
      content_id: 'org.example:candidate:1:bootloader-download',
      bootloaders: [{ 'firmware-platform': 'pxe', packages: ['pxelinux', 'syslinux-common'], arch: 'i386', arches: 'i386, amd64', archive: server.url, release: 'bookworm', os: 'pxelinux', files: ['usr/lib/PXELINUX/lpxelinux.0', 'usr/lib/syslinux/modules/bios/*.c32'], ...extra }],
    },
    'test.yaml',
  );

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'meph-bootloader-import-'));
  archive = path.join(dir, 'archive');
  key = await createTestKey();
  other = await createTestKey('someone else <else@fixture.invalid>');
  const pxeOld = makeDeb('pxelinux', '3:6.04-1', 'syslinux', { 'usr/lib/PXELINUX/lpxelinux.0': 'old lpxelinux' });
  const pxeNew = makeDeb('pxelinux', '3:6.04-2', 'syslinux (3:6.04-2)', { 'usr/lib/PXELINUX/lpxelinux.0': 'new lpxelinux' });
  const common = makeDeb('syslinux-common', '3:6.04-2', 'syslinux', { 'usr/lib/syslinux/modules/bios/ldlinux.c32': 'ldlinux', 'usr/lib/syslinux/modules/bios/chain.c32': 'chain', 'usr/lib/syslinux/memdisk': 'not picked' });
  await makeSuite('bookworm', [pxeOld.stanza, common.stanza], key);
  await makeSuite('bookworm-updates', [pxeNew.stanza], key);
  server = await startFixtureServer({ root: archive });
}, 60_000);
afterAll(async () => {
  await server?.close();
  await key?.cleanup();
  await other?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

describe('importBootloaders (real gpg, dpkg-deb, HTTP on 127.0.0.1)', () => {
  it('picks the newest package across suites, packs the files per source package at the archive root, and skips an unchanged rerun', async () => {
    const target = path.join(dir, 'stream');
    const r = await importBootloaders(cfgFor(), target, { keyrings: [key.keyringPath], now: new Date('2026-11-30T10:00:00Z') });
    expect(r.changed).toBe(true);
    const doc = JSON.parse(readFileSync(path.join(target, 'streams/v1/org.example:candidate:1:bootloader-download.json'), 'utf8'));
    const product = doc.products['org.example.candidate:1:pxelinux:pxe:i386'];
    expect(product).toMatchObject({ label: 'candidate', os: 'pxelinux', arch: 'i386', arches: 'i386, amd64', 'bootloader-type': 'pxe' });
    const item = product.versions['20261130.0'].items.syslinux;
    expect(item).toMatchObject({ ftype: 'archive.tar.xz', path: 'bootloaders/pxe/i386/20261130.0/syslinux.tar.xz', src_package: 'syslinux', src_version: '3:6.04-2', src_release: 'bookworm-updates' });
    const tarball = path.join(target, item.path);
    expect(item.sha256).toBe(sha(tarball));
    expect(execFileSync('tar', ['-tJf', tarball], { encoding: 'utf8' }).split('\n').filter(Boolean).sort()).toEqual(['chain.c32', 'ldlinux.c32', 'lpxelinux.0']);
    expect(execFileSync('tar', ['-xJOf', tarball, 'lpxelinux.0'], { encoding: 'utf8' })).toBe('new lpxelinux');

    const again = await importBootloaders(cfgFor(), target, { keyrings: [key.keyringPath], now: new Date('2026-11-30T11:00:00Z') });
    expect(again.changed).toBe(false);
    expect(again.plan.events).toEqual([expect.objectContaining({ type: 'import-skipped', reason: 'built from the latest package set, skipping' })]);
  });

  it('refuses an archive whose InRelease is not signed by the given keyring', async () => {
    await expect(importBootloaders(cfgFor(), path.join(dir, 'other-key'), { keyrings: [other.keyringPath] })).rejects.toThrow(/dists\/bookworm-updates\/InRelease: .*/);
  });

  it('refuses a Packages.xz that does not match the signed InRelease', async () => {
    const px = path.join(archive, 'dists/bookworm-updates/main/binary-i386/Packages.xz');
    const good = readFileSync(px);
    try {
      writeFileSync(px, Buffer.concat([good, Buffer.from('x')]));
      await expect(importBootloaders(cfgFor(), path.join(dir, 'tampered'), { keyrings: [key.keyringPath] })).rejects.toThrow(/size|sha256|checksum/i);
    } finally {
      writeFileSync(px, good);
    }
  });

  it('names the missing package and the missing file', async () => {
    await expect(importBootloaders(cfgFor({ packages: ['pxelinux', 'no-such-package'] }), path.join(dir, 'x1'), { keyrings: [key.keyringPath] })).rejects.toThrow(/package no-such-package is not in http:\/\/127\.0\.0\.1:\d+/);
    await expect(importBootloaders(cfgFor({ files: ['usr/lib/PXELINUX/pxelinux.0'] }), path.join(dir, 'x2'), { keyrings: [key.keyringPath] })).rejects.toThrow(/no file usr\/lib\/PXELINUX\/pxelinux\.0 in pxelinux, syslinux-common/);
  });
});
