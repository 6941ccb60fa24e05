import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SHARED_DIR } from '@meph/test-support';
import { classifyPath, isNetbootPath, itemKey, localPath, type DiFileData } from './classify.js';
import { knownCodenames, loadDistroInfo } from './distro-info.js';

const table = JSON.parse(readFileSync(path.join(SHARED_DIR, 'reference/di/file_item_data.json'), 'utf8')) as Record<string, DiFileData | null>;
const codenames = knownCodenames(loadDistroInfo());
const BASE = 'trusty';

describe('classifyPath reproduces the original table', () => {
  it('has all 437 rows', () => {
    expect(Object.keys(table)).toHaveLength(437);
    // the table needs these as <codename>- prefixes
    for (const c of ['quantal', 'raring', 'saucy', 'trusty', 'utopic', 'vivid', 'wily', 'xenial']) expect(codenames.has(c)).toBe(true);
  });
  it.each(Object.entries(table))('%s', (p, expected) => {
    const want = expected && { ...expected, 'kernel-release': expected['kernel-release'] === 'BASE' ? BASE : expected['kernel-release'] };
    expect(classifyPath(p, { release: BASE, codenames })).toEqual(want);
  });
  it('strips a leading ./ as SHA256SUMS lines have it', () => {
    expect(classifyPath('./netboot/debian-installer/amd64/linux', { release: 'bookworm', codenames })).toEqual({
      ftype: 'kernel', 'image-format': 'default', 'initrd-flavor': 'netboot', 'kernel-flavor': 'generic', 'kernel-release': 'bookworm',
    });
  });
});

describe('keys and paths', () => {
  const opts = { release: 'trusty', codenames };
  it('keys use the collision table and the format or dtb name', () => {
    expect(itemKey('trusty', classifyPath('netboot/ubuntu-installer/amd64/linux', opts)!, 'linux')).toBe('trtrgenkenet.default');
    expect(itemKey('trusty', classifyPath('utopic-generic-lpae/netboot/vmlinuz', opts)!, 'vmlinuz')).toBe('trutglpkenet.default');
    expect(itemKey('trusty', classifyPath('xenial-e500mc/netboot/initrd.gz', opts)!, 'initrd.gz')).toBe('trxee5minnet.default');
    expect(itemKey('trusty', classifyPath('generic/netboot/xgene/apm-mustang.dtb', opts)!, 'apm-mustang.dtb')).toBe('trtrgendtnet.apm-mustang');
  });
  it('local paths', () => {
    expect(localPath('trusty', 'amd64', '20101020ubuntu318', classifyPath('hwe-netboot/ubuntu-installer/amd64/linux', opts)!, 'linux')).toBe(
      'files/trusty/amd64/20101020ubuntu318/hwe/generic/kernel',
    );
    expect(localPath('trusty', 'arm64', 'v', classifyPath('netboot/ubuntu-installer/arm64/xgene-uboot/uInitrd', opts)!, 'uInitrd')).toBe(
      'files/trusty/arm64/v/trusty/generic/initrd-netboot.xgene',
    );
    expect(localPath('trusty', 'arm64', 'v', classifyPath('device-tree/juno.dtb', opts)!, 'juno.dtb')).toBe('files/trusty/arm64/v/trusty/generic/dtb.juno.dtb');
  });
  it('keeps only netboot/device-tree/generic lines', () => {
    expect(isNetbootPath('netboot/ubuntu-installer/amd64/linux')).toBe(true);
    expect(isNetbootPath('hwe-device-tree/juno.dtb')).toBe(true);
    expect(isNetbootPath('generic/kernel.ubuntu')).toBe(true);
    expect(isNetbootPath('cdrom/vmlinuz')).toBe(false);
  });
});
