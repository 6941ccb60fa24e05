import { existsSync, lstatSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bookwormRootfs } from '@meph/test-support/bookworm';
import { hostDebianMirror } from '../config/host-mirror.js';
import { mountsUnder } from './cleanup.js';
import { customiseTree } from './customise.js';
import { unpackRootTar } from './unpack.js';

let dir: string;
let tree: string;
let mirror: string;

beforeAll(async () => {
  const rootfs = bookwormRootfs();
  dir = mkdtempSync(path.join(os.tmpdir(), 'meph-customise-'));
  tree = path.join(dir, 'tree');
  mirror = await hostDebianMirror('bookworm');
  await unpackRootTar(rootfs, 'xz', tree, { scratch: dir });
}, 300_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('customiseTree (real chroot + apt)', () => {
  it('applies mirror, proposed, extra repositories and packages; restores policy-rc.d and resolv.conf', async () => {
    const resolvBefore = lstatSync(path.join(tree, 'etc/resolv.conf'), { throwIfNoEntry: false });
    const log: string[] = [];
    const manifest = path.join(dir, 'manifest');
    await customiseTree(tree, {
      release: 'bookworm', mirror, proposed: true, proposedPackages: [],
      addRepos: [`deb ${mirror} bookworm-backports main`], addPackages: ['less'], prePurgePackages: ['no-such-package-installed'],
      requirePackages: ['linux-image-cloud-amd64'], manifestPath: manifest,
      onEvent: (e) => log.push(e.type === 'log' ? e.message : ''),
    });
    const etc = (p: string) => readFileSync(path.join(tree, 'etc', p), 'utf8');
    expect(etc('apt/sources.list')).toBe(`deb ${mirror} bookworm main\ndeb ${mirror} bookworm-updates main\n`);
    expect(etc('apt/sources.list.d/proposed.list')).toBe(`deb ${mirror} bookworm-proposed-updates main\n`);
    expect(etc('apt/sources.list.d/meph-add-repos.list')).toBe(`deb ${mirror} bookworm-backports main\n`);
    expect(etc('initramfs-tools/modules').split('\n')).toEqual(expect.arrayContaining(['squashfs', 'overlay', 'virtio_blk']));
    const m = readFileSync(manifest, 'utf8');
    expect(m).toMatch(/^less\t/m);
    expect(m).toMatch(/^systemd-sysv\t/m);
    // the network root (root=squash:URL) for Debian: busybox wget, overlayroot, meph's initramfs files
    expect(m).toMatch(/^busybox\t/m);
    expect(m).toMatch(/^overlayroot\t/m);
    for (const f of ['hooks/meph-netroot', 'scripts/init-premount/meph-netroot', 'scripts/init-bottom/meph-copymods']) {
      expect(statSync(path.join(tree, 'etc/initramfs-tools', f)).mode & 0o111, f).not.toBe(0);
    }
    expect(etc('initramfs-tools/conf.d/meph-netroot')).toMatch(/^BUSYBOX=y$/m);
    expect(etc('overlayroot.local.conf')).toMatch(/^overlayroot=tmpfs$/m);
    expect(existsSync(path.join(tree, 'usr/sbin/policy-rc.d'))).toBe(false);
    expect(existsSync(path.join(tree, 'etc/resolv.conf.meph-saved'))).toBe(false);
    expect(lstatSync(path.join(tree, 'etc/resolv.conf'), { throwIfNoEntry: false })?.isFile()).toBe(resolvBefore?.isFile());
    expect(log).toEqual(expect.arrayContaining([expect.stringMatching(/CHANGE: enabled bookworm-proposed-updates/), expect.stringMatching(/CHANGE: installing .*less/)]));
    expect(await mountsUnder(dir)).toEqual([]);
  }, 600_000);
});
