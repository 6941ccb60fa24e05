import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliCaptured } from '@meph/test-support';
import { spec } from '../main.js';
import { assertStreamIntact, JAMMY, makeStream, NOBLE, productId, productsPath, readProducts, tempDir, versionMap } from './stream-fixture.js';

let dir: string;
beforeAll(async () => {
  dir = await tempDir('meph-copy-version-');
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});
const env = { ...process.env, MEPH_SIGNING_KEY: '', MEPH_GPG_KEY: '', MEPH_KEYRING: '' };
const run = (args: string[]) => runCliCaptured(spec, args, { cwd: dir, env });

describe('meph2-util copy-version', () => {
  it('duplicates the version, rewrites the version string in item paths and copies shared files once (seed 16)', async () => {
    const root = path.join(dir, 'c');
    await makeStream(root, { serials: ['20260720'], releases: [NOBLE, JAMMY] });
    await fs.symlink('squashfs', path.join(root, 'noble/amd64/20260720/squashfs.link'));
    const r = await run(['copy-version', '-u', '--json', 'c', '20260720', '20260720.1', 'release=noble']);
    expect(r.code).toBe(0);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(events.filter((e) => e.type === 'version-copied')).toHaveLength(2);
    // 2 products share one squashfs + manifest: 2 + 2 kernels + 2 initrds = 6 files, each once
    expect(events.filter((e) => e.type === 'file-copied').map((e) => e.path).sort()).toEqual([
      'noble/amd64/20260720.1/ga-24.04/generic/boot-initrd',
      'noble/amd64/20260720.1/ga-24.04/generic/boot-kernel',
      'noble/amd64/20260720.1/hwe-24.04/generic/boot-initrd',
      'noble/amd64/20260720.1/hwe-24.04/generic/boot-kernel',
      'noble/amd64/20260720.1/squashfs',
      'noble/amd64/20260720.1/squashfs.manifest',
    ]);
    const doc = await readProducts(root, productsPath('candidate'));
    const v = doc.products[productId('candidate', NOBLE, 'amd64', 'ga-24.04')]!.versions['20260720.1']!;
    expect(v.items['squashfs']!.path).toBe('noble/amd64/20260720.1/squashfs');
    expect(versionMap(doc)[productId('candidate', JAMMY, 'amd64', 'ga-22.04')]).toEqual(['20260720']);
    expect(await assertStreamIntact(root)).toBe(24);
    // a rerun is a no-op, a conflicting TO is refused
    const again = await run(['copy-version', '-u', '--json', 'c', '20260720', '20260720.1', 'release=noble']);
    expect(again.code).toBe(0);
    expect(again.stdout).not.toContain('version-copied');
  });

  it('recreates symlinked items as symlinks (no following)', async () => {
    const root = path.join(dir, 'l');
    await makeStream(root, { serials: ['20260720'], releases: [NOBLE] });
    const file = path.join(root, productsPath('candidate'));
    const doc = JSON.parse(await fs.readFile(file, 'utf8'));
    const sq = doc.products[productId('candidate', NOBLE, 'amd64', 'ga-24.04')].versions['20260720'].items.squashfs;
    await fs.rename(path.join(root, sq.path), path.join(root, 'pool-squashfs'));
    await fs.symlink('../../../pool-squashfs', path.join(root, sq.path));
    // a symlink temp a killed copy-version left behind (named like every meph temp file) is cleaned up
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    await fs.mkdir(path.join(root, 'noble/amd64/20260801'), { recursive: true });
    const leftover = path.join(root, `noble/amd64/20260801/.squashfs.${dead}.0123abcd.meph-tmp`);
    await fs.symlink('../../../pool-squashfs', leftover);
    expect((await run(['copy-version', '-u', 'l', '20260720', '20260801'])).code).toBe(0);
    expect(await fs.readlink(path.join(root, 'noble/amd64/20260801/squashfs'))).toBe('../../../pool-squashfs');
    expect((await fs.readdir(path.join(root, 'noble/amd64/20260801'))).filter((n) => n.startsWith('.'))).toEqual([]);
    await assertStreamIntact(root);
  });

  it.each([
    ['', /copy-version: TO is empty/],
    ['a b', /copy-version: TO "a b" is not a version name/],
    ['20260701', /copy-version: TO "20260701" does not sort after FROM "20260720"/],
    ['20260720', /does not sort after FROM/],
    ['x'.repeat(33), /longer than the 32 characters MAAS stores/],
  ])('refuses TO %j with one line and changes nothing', async (to, message) => {
    const root = path.join(dir, `bad-${to.length}-${to.replace(/\W/g, '_').slice(0, 8)}`);
    await makeStream(root, { serials: ['20260720'], releases: [NOBLE] });
    const before = await fs.readFile(path.join(root, productsPath('candidate')), 'utf8');
    const r = await run(['copy-version', '-u', path.basename(root), '20260720', to]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(message)]);
    expect(await fs.readFile(path.join(root, productsPath('candidate')), 'utf8')).toBe(before);
    expect(await fs.readdir(path.join(root, 'noble/amd64'))).toEqual(['20260720']);
  });
});
