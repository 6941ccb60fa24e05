import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, SHARED_DIR } from '@meph/test-support';
import { parse } from 'yaml';
import { ConfigError } from '../errors.js';
import { bootloaderProductId, parseBootloadersConfig } from './config.js';
import { parsePackages } from './debian-archive.js';
import { compareDebianVersions } from './debian-version.js';
import { bootloaderItemKey } from './import.js';

const load = (file: string) => parseBootloadersConfig(parse(readFileSync(file, 'utf8')) as Record<string, unknown>, file);

describe('bootloaders config', () => {
  it("accepts the original's conf/bootloaders.yaml unchanged", () => {
    const cfg = load(path.join(SHARED_DIR, 'reference/conf/bootloaders.yaml'));
    expect(cfg.bootloaders.map((b) => `${b.firmwarePlatform}/${b.os}/${b.arch}`)).toEqual(['pxe/pxelinux/amd64', 'uefi/grub-efi-signed/amd64', 'uefi/grub-efi/arm64', 'open-firmware/grub-ieee1275/ppc64el']);
    expect(cfg.bootloaders[1]!.files[0]).toEqual({ source: 'usr/lib/shim/shimx64.efi.signed.latest', dest: 'bootx64.efi' });
    expect(cfg.bootloaders[3]!.grubFormat).toBe('powerpc-ieee1275');
    expect(bootloaderProductId(cfg, cfg.bootloaders[0]!)).toBe('com.ubuntu.maas.candidate:1:pxelinux:pxe:amd64');
  });

  it('the Debian config publishes the combinations MAAS downloads, from the host mirror', () => {
    const cfg = load(path.join(REPO_ROOT, 'conf/bootloaders-debian.yaml'));
    expect(cfg.bootloaders.map((b) => [b.firmwarePlatform, b.os, b.arch])).toEqual([['pxe', 'pxelinux', 'i386'], ['uefi', 'grub-efi-signed', 'amd64']]);
    expect(cfg.bootloaders.every((b) => b.archive === undefined)).toBe(true);
    expect(bootloaderProductId(cfg, cfg.bootloaders[0]!)).toContain(':1:');
  });

  it.each([
    [{ files: ['../etc/passwd'] }, /files\[0\].*no "\.\."/],
    [{ files: ['/usr/lib/x'] }, /files\[0\]/],
    [{ files: ['a, b/c'] }, /files\[0\]/],
    [{ packages: [] }, /packages: must be a list/],
    [{ archive: 'ftp://x' }, /archive: "ftp:\/\/x" is not/],
    [{ colour: 'red' }, /unknown key\(s\) colour/],
  ])('rejects %j with one line naming the key', (patch, re) => {
    const entry = { 'firmware-platform': 'pxe', packages: ['pxelinux'], arch: 'i386', arches: 'i386', release: 'bookworm', os: 'pxelinux', files: ['usr/lib/PXELINUX/lpxelinux.0'], ...patch };
    expect(() => parseBootloadersConfig({ product_id: 'p:1:{os}:{firmware_platform}:{arch}', content_id: 'c', bootloaders: [entry] }, 'x.yaml')).toThrow(ConfigError);
    expect(() => parseBootloadersConfig({ product_id: 'p:1:{os}:{firmware_platform}:{arch}', content_id: 'c', bootloaders: [entry] }, 'x.yaml')).toThrow(re);
  });

  it('requires the product id placeholders', () => {
    expect(() => parseBootloadersConfig({ product_id: 'p:1:{os}', content_id: 'c', bootloaders: [] }, 'x.yaml')).toThrow(/product_id: must contain \{firmware_platform\}/);
  });
});

describe('Debian archive helpers', () => {
  it.each([
    ['1.0', '1.0', 0],
    ['1.0~rc1', '1.0', -1],
    ['1:0.1', '2.0', 1],
    ['2.06-13+deb12u1', '2.06-13', 1],
    ['3:6.04~git20190206.bf6db5b4+dfsg1-3', '3:6.04~git20190206.bf6db5b4+dfsg1-3+b1', -1],
    ['1.51~1+deb12u1+16.1-2~deb12u1', '1.51~1+deb12u1+16.1-2', -1],
    ['1.2a', '1.2+', -1],
    ['1.10', '1.9', 1],
  ])('compares %s with %s as dpkg does', (a, b, want) => {
    expect(Math.sign(compareDebianVersions(a, b))).toBe(want);
  });

  it('parses Packages stanzas, stripping the version from Source', () => {
    const text = [
      'Package: grub-efi-amd64-signed', 'Source: grub-efi-amd64-signed (1+2.06+13+deb12u1)', 'Version: 1+2.06+13+deb12u1', 'Filename: pool/main/g/x.deb', 'Size: 12', `SHA256: ${'A'.repeat(64)}`, '',
      'Package: pxelinux', 'Version: 3:6.04-3', 'Filename: pool/main/s/p.deb', 'Size: 5', `SHA256: ${'b'.repeat(64)}`, 'Description: x', ' more', '',
      'Package: broken', 'Version: 1',
    ].join('\n');
    expect(parsePackages(text, 'bookworm', 'main')).toEqual([
      { package: 'grub-efi-amd64-signed', version: '1+2.06+13+deb12u1', source: 'grub-efi-amd64-signed', filename: 'pool/main/g/x.deb', sha256: 'a'.repeat(64), size: 12, suite: 'bookworm', component: 'main' },
      { package: 'pxelinux', version: '3:6.04-3', source: 'pxelinux', filename: 'pool/main/s/p.deb', sha256: 'b'.repeat(64), size: 5, suite: 'bookworm', component: 'main' },
    ]);
  });

  it("maps Debian's signed GRUB source to MAAS's item key", () => {
    expect(bootloaderItemKey('grub-efi-amd64-signed')).toBe('grub2-signed');
    expect(bootloaderItemKey('grub2-signed')).toBe('grub2-signed');
    expect(bootloaderItemKey('shim-signed')).toBe('shim-signed');
    expect(bootloaderItemKey('syslinux')).toBe('syslinux');
  });
});
