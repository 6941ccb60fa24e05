/**
 * Needs root (mounts small tmpfs filesystems, always unmounted): a full disk while signing
 * leaves the stream as it was, and data files are hard-linked on one filesystem and copied
 * (verified) across filesystems.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliCaptured } from '@meph/test-support';
import { spec } from '../main.js';
import { assertStreamIntact, listFiles, makeStream, NOBLE, productsPath, tempDir, throwAwayKey } from './stream-fixture.js';

let dir: string;
let key: { home: string; secretKey: string; keyring: string };
const mounts: string[] = [];
const env = { ...process.env, MEPH_SIGNING_KEY: '', MEPH_GPG_KEY: '', MEPH_KEYRING: '', MEPH_SIGNING_PASSPHRASE: '', MEPH_SIGNING_PASSPHRASE_FILE: '' };
const run = (args: string[]) => runCliCaptured(spec, args, { cwd: dir, env });

async function mountTmpfs(name: string, size: string): Promise<string> {
  const mnt = path.join(dir, name);
  await fs.mkdir(mnt);
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', mnt]);
  if (r.status !== 0) throw new Error(`mount tmpfs failed: ${r.stderr.toString()}`);
  mounts.push(mnt);
  return mnt;
}

beforeAll(async () => {
  dir = await tempDir('meph-write-safety-slow-');
  key = await throwAwayKey(dir);
}, 60_000);
afterAll(async () => {
  for (const m of mounts.reverse()) spawnSync('umount', [m]);
  spawnSync('gpgconf', ['--kill', 'all'], { env: { ...process.env, GNUPGHOME: key?.home } });
  await fs.rm(dir, { recursive: true, force: true });
});

async function snapshot(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const rel of await listFiles(root)) out[rel] = createHash('sha256').update(await fs.readFile(path.join(root, rel))).digest('hex');
  return out;
}

describe('a full disk while signing', () => {
  it('clean-md on a nearly full filesystem fails with one line and leaves every file as it was; verify still passes', async () => {
    const mnt = await mountTmpfs('full', '2m');
    const root = path.join(mnt, 's');
    const serials = Array.from({ length: 40 }, (_, i) => `202601${String(i + 1).padStart(2, '0')}`);
    await makeStream(root, { serials, releases: [NOBLE], fileBytes: 16 });
    expect((await run(['sign', '--key', key.secretKey, root])).code).toBe(0);
    // the same change on a roomy disk tells the sizes of the new products file and its .sjson
    const ref = path.join(dir, 'full-ref');
    await fs.cp(root, ref, { recursive: true });
    expect((await run(['clean-md', '--key', key.secretKey, '30', ref])).code).toBe(0);
    const page = 4096;
    const pages = async (rel: string) => Math.ceil((await fs.stat(path.join(ref, rel))).size / page) * page;
    const sjsonBytes = await pages(productsPath('candidate').replace(/\.json$/, '.sjson'));
    expect(await pages(productsPath('candidate'))).toBeGreaterThan(2 * page);
    // fill the filesystem, then free room for the lock file and the first temp files only
    const filler = path.join(mnt, 'filler');
    const fh = await fs.open(filler, 'w');
    const block = Buffer.alloc(64 * 1024, 1);
    try {
      for (;;) await fh.write(block);
    } catch (err) {
      expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
    } finally {
      await fh.close();
    }
    const { size } = await fs.stat(filler);
    // room for the lock file, the .json.gpg and the .sjson temps, not for the .json temp:
    // the disk fills half-way through staging the signed products file
    await fs.truncate(filler, size - (page + page + sjsonBytes + page));
    const before = await snapshot(root);

    const r = await run(['clean-md', '--key', key.secretKey, '30', root]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n').filter((l) => l.includes('error'))).toEqual([expect.stringMatching(/^meph2-util: error: ENOSPC: no space left on device/)]);
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
    expect(await snapshot(root)).toEqual(before); // no metadata changed, no temp file or lock left
    await fs.rm(filler);
    const v = await run(['verify', '--keyring', key.keyring, root]);
    expect(v.code, v.stdout).toBe(0);
    // with room again the same command goes through
    expect((await run(['clean-md', '--key', key.secretKey, '30', root])).code).toBe(0);
    expect((await run(['verify', '--keyring', key.keyring, root])).code).toBe(0);
  }, 120_000);
});

describe('data files: hard link on one filesystem, verified copy across filesystems', () => {
  const events = (stdout: string) => stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; path?: string; placedBy?: string }).filter((e) => e.type === 'file-copied');

  it('same filesystem: every file is a hard link of the source (same inode), and the stream verifies', async () => {
    await makeStream(path.join(dir, 'src'), { serials: ['20260722'], releases: [NOBLE], fileBytes: 4096 });
    const r = await run(['insert', '-u', '--json', 'src', 'same']);
    expect(r.code, r.stderr).toBe(0);
    const copied = events(r.stdout);
    expect(copied.length).toBe(6);
    for (const e of copied) {
      expect(e.placedBy).toBe('link');
      expect((await fs.stat(path.join(dir, 'same', e.path!))).ino).toBe((await fs.stat(path.join(dir, 'src', e.path!))).ino);
    }
    await assertStreamIntact(path.join(dir, 'same'));
  });

  it('across filesystems (source on a tmpfs): copied, not linked, and verified', async () => {
    const mnt = await mountTmpfs('other-fs', '16m');
    await makeStream(path.join(mnt, 'src'), { serials: ['20260722'], releases: [NOBLE], fileBytes: 4096 });
    const r = await run(['insert', '-u', '--json', path.join(mnt, 'src'), 'cross']);
    expect(r.code, r.stderr).toBe(0);
    const copied = events(r.stdout);
    expect(copied.length).toBe(6);
    for (const e of copied) expect(e.placedBy).toBe('copy');
    await assertStreamIntact(path.join(dir, 'cross'));
    // a corrupt source across filesystems is caught by the same verification
    await makeStream(path.join(mnt, 'src2'), { serials: ['20260723'], releases: [NOBLE], fileBytes: 4096 });
    const victim = path.join(mnt, 'src2/noble/amd64/20260723/squashfs');
    const bytes = await fs.readFile(victim);
    bytes[10] = bytes[10]! ^ 0xff;
    await fs.writeFile(victim, bytes);
    const bad = await run(['insert', '-u', path.join(mnt, 'src2'), 'cross']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/checksum|sha256/i);
    await assertStreamIntact(path.join(dir, 'cross'));
  });
});
