// Issue 9 §1 and §3: find-orphans + reap-orphans as real processes on real files, in both pool
// layouts, with the layout refusal and a signed stream whose twins disagree. Before the fix, the
// first case deleted every file of the pool (343 of 343) and the last 84-style case the files
// only index.sjson still referenced.
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAppProcess } from '@meph/test-support';
import { loadStream, regenerateIndex, writeJsonAtomic } from '@meph/simplestreams';
import { JAMMY, listFiles, makeStream, NOBLE, productsPath, tempDir, throwAwayKey } from './stream-fixture.js';

let dir: string;
const env = { MEPH_KEYRING: '', MEPH_SIGNING_KEY: '', MEPH_GPG_KEY: '' };
const util = (args: string[]) => runAppProcess('meph2-util', args, { cwd: dir, env });

beforeAll(async () => {
  dir = await tempDir('meph-orphans-e2e-');
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

/** path → sha256 of every file under root (relative paths). */
async function snapshot(root: string, rels: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const rel of rels) out.set(rel, createHash('sha256').update(await fs.readFile(path.join(root, rel))).digest('hex'));
  return out;
}

/** Item paths of every products document of a stream. */
async function itemPaths(stream: string, options: { path?: string } = {}): Promise<string[]> {
  const loaded = await loadStream(stream, { ...options, policy: 'off' });
  const paths = new Set<string>();
  for (const { doc } of loaded.products)
    for (const p of Object.values(doc.products)) for (const v of Object.values(p.versions)) for (const it of Object.values(v.items)) if (it.path) paths.add(it.path);
  return [...paths].sort();
}

const SERIALS = Array.from({ length: 24 }, (_, i) => `202601${String(i + 1).padStart(2, '0')}`);
const STRAYS = ['noble/amd64/20251201/squashfs', 'noble/amd64/20251201/squashfs.manifest', 'jammy/arm64/20251201/squashfs', 'tmp/partial.img', 'README.old', 'noble/amd64/20260101/ga-24.04/generic/boot-kernel.bak', 'x/y/z'];

describe('a pool whose stream moved elsewhere (issue 9 §1: 343 files, 336 referenced)', () => {
  it('find-orphans keeps the 336 referenced files and lists the 7 strays; reap deletes only those', async () => {
    const pool = path.join(dir, 'pool');
    await makeStream(pool, { serials: SERIALS, releases: [NOBLE, JAMMY], fileBytes: 64 });
    for (const s of STRAYS) {
      await fs.mkdir(path.dirname(path.join(pool, s)), { recursive: true });
      await fs.writeFile(path.join(pool, s), `stray ${s}`);
    }
    // mkdir st; mv pool/streams st/
    await fs.mkdir(path.join(dir, 'st'));
    await fs.rename(path.join(pool, 'streams'), path.join(dir, 'st/streams'));
    const referenced = await itemPaths(path.join(dir, 'st/streams/v1/index.json'));
    expect(referenced).toHaveLength(336);
    expect(await listFiles(pool)).toHaveLength(343);
    const before = await snapshot(pool, referenced);

    const find = await util(['find-orphans', 'o.json', 'pool', 'st/streams/v1/index.json']);
    expect(find.code, find.stderr).toBe(0);
    expect(find.stderr).toContain('7 orphans among 343 files (7 new, 0 dropped); 336 paths referenced by 1 stream(s): 336 present, 0 missing');
    expect(Object.keys(JSON.parse(await fs.readFile(path.join(dir, 'o.json'), 'utf8'))).sort()).toEqual([...STRAYS].sort());

    const reap = await util(['reap-orphans', '--now', 'o.json', 'pool']);
    expect(reap.code, reap.stderr).toBe(0);
    expect(reap.stderr).toContain('reaped 7 file(s)');
    expect(reap.stderr).toContain('336 paths referenced: 336 present, 0 missing');
    expect((await listFiles(pool)).sort()).toEqual(referenced);
    expect(await snapshot(pool, referenced)).toEqual(before);
  });

  it('refuses a DATA_DIR holding none of the paths: one line, exit 1, nothing written; --force overrides', async () => {
    const other = path.join(dir, 'other');
    await fs.mkdir(path.join(other, 'noble'), { recursive: true });
    await fs.writeFile(path.join(other, 'noble/unrelated'), 'keep');
    const res = await util(['find-orphans', 'wrong.json', 'other', 'st/streams/v1/index.json']);
    expect(res.code).toBe(1);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    expect(res.stderr).toMatch(/only 0 of the 336 paths .*st\/streams\/v1\/index\.json references exist under \S*other .*--force overrides/);
    await expect(fs.access(path.join(dir, 'wrong.json'))).rejects.toThrow();
    await expect(fs.access(path.join(dir, 'wrong.json.meph.json'))).rejects.toThrow();

    const forced = await util(['find-orphans', '--force', 'wrong.json', 'other', 'st/streams/v1/index.json']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stderr).toContain('1 orphans among 1 files');
    expect(forced.stderr).toContain('0 present, 336 missing');
  });
});

describe("the README's layout: daily/data -> ../data, released/data -> ../data", () => {
  it('keeps what either stream references through its symlink and reaps the rest', async () => {
    const base = path.join(dir, 'readme');
    // two streams sharing one pool: build each, move its files into data/, prefix its paths with data/
    for (const [name, serials] of [['daily', ['20260301', '20260302', '20260303']], ['released', ['20260301']]] as const) {
      const build = path.join(base, `build-${name}`);
      await makeStream(build, { label: name === 'daily' ? 'daily' : 'stable', serials: [...serials], releases: [NOBLE], fileBytes: 64 });
      const rel = productsPath(name === 'daily' ? 'daily' : 'stable');
      const doc = JSON.parse(await fs.readFile(path.join(build, rel), 'utf8'));
      for (const p of Object.values(doc.products) as Array<{ versions: Record<string, { items: Record<string, { path: string }> }> }>)
        for (const v of Object.values(p.versions)) for (const it of Object.values(v.items)) it.path = `data/${it.path}`;
      await writeJsonAtomic(path.join(base, name, rel), doc);
      await regenerateIndex(path.join(base, name));
      await fs.cp(path.join(build, 'noble'), path.join(base, 'data/noble'), { recursive: true, force: false });
      await fs.rm(build, { recursive: true });
      await fs.symlink('../data', path.join(base, name, 'data'));
    }
    await fs.writeFile(path.join(base, 'data/noble/amd64/20260302/stale'), 'stray');
    const referenced = [
      ...(await itemPaths(path.join(base, 'daily'))),
      ...(await itemPaths(path.join(base, 'released'))),
    ].map((p) => p.slice('data/'.length));
    const kept = [...new Set(referenced)].sort();
    const before = await snapshot(path.join(base, 'data'), kept);

    const find = await util(['find-orphans', 'r.json', 'readme/data/', 'readme/daily/streams/v1/index.json', 'readme/released/streams/v1/index.json']);
    expect(find.code, find.stderr).toBe(0);
    expect(Object.keys(JSON.parse(await fs.readFile(path.join(dir, 'r.json'), 'utf8')))).toEqual(['noble/amd64/20260302/stale']);
    const reap = await util(['reap-orphans', '--now', 'r.json', 'readme/data/']);
    expect(reap.code, reap.stderr).toBe(0);
    expect(reap.stderr).toContain('reaped 1 file(s)');
    expect((await listFiles(path.join(base, 'data'))).sort()).toEqual(kept);
    expect(await snapshot(path.join(base, 'data'), kept)).toEqual(before);
  });
});

describe('a signed stream whose .json and .sjson disagree (issue 9 §3)', () => {
  let key: { home: string; secretKey: string; keyring: string };
  beforeAll(async () => {
    key = await throwAwayKey(dir);
  }, 30_000);
  afterAll(() => {
    spawnSync('gpgconf', ['--kill', 'all'], { env: { ...process.env, GNUPGHOME: key?.home } });
  });

  it('--no-verify skips signature checks, never documents: files only index.sjson still references stay', async () => {
    const s = path.join(dir, 'signed');
    await makeStream(s, { serials: ['20260701', '20260702', '20260703'], releases: [NOBLE], fileBytes: 64 });
    expect((await util(['sign', '--key', key.secretKey, 'signed'])).code).toBe(0);
    // metadata only, unsigned: index.json loses a version, index.sjson (what MAAS reads) keeps it
    const rm = await util(['remove-version', '-u', 'signed', '20260701']);
    expect(rm.code, rm.stderr).toBe(0);
    const signedPaths = await itemPaths(s, { path: 'streams/v1/index.sjson' });
    const unsignedPaths = await itemPaths(s, { path: 'streams/v1/index.json' });
    expect(signedPaths.length).toBeGreaterThan(unsignedPaths.length);
    await fs.writeFile(path.join(s, 'noble/amd64/stray'), 'stray');

    for (const flags of [['--no-verify'], []]) {
      const find = await util(['find-orphans', ...flags, 'n.json', 'signed']);
      expect(find.code, find.stderr).toBe(0);
      expect(Object.keys(JSON.parse(await fs.readFile(path.join(dir, 'n.json'), 'utf8')))).toEqual(['noble/amd64/stray']);
    }
    const reap = await util(['reap-orphans', '--no-verify', '--now', 'n.json', 'signed']);
    expect(reap.code, reap.stderr).toBe(0);
    expect(reap.stderr).toContain('reaped 1 file(s)');
    for (const p of signedPaths) await fs.access(path.join(s, p));
    // the signed chain still verifies with its data
    const verify = await util(['verify', '--keyring', key.keyring, '--data', 'signed/streams/v1/index.sjson']);
    expect(verify.stdout + verify.stderr).not.toMatch(/error data/);
  });
});
