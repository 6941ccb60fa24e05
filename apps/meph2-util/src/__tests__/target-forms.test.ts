/**
 * Every command that takes a stream accepts every form the original accepts (its
 * path_from_mirror_url rule): the mirror root, or a path ending in
 * `streams/v1/<name>.json|.sjson` — a local write target given so writes to its mirror root —
 * and, for read-only inputs, http URLs of either form. On today's main the index forms failed
 * with ENOTDIR/EEXIST or created a directory named index.json.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliCaptured } from '@meph/test-support';
import { startFixtureServer, type FixtureServer } from '../../../../tools/fixture-server/index.js';
import { spec } from '../main.js';
import { assertStreamIntact, makeStream, NOBLE, productsPath, readProducts, tempDir, throwAwayKey, versionMap } from './stream-fixture.js';

let dir: string;
let server: FixtureServer;
let key: { home: string; secretKey: string; keyring: string };
const SERIALS = ['20260701', '20260702', '20260703', '20260704'];
const CAND = productsPath('candidate');
const GA = 'com.ubuntu.maas.candidate:v3:boot:24.04:amd64:ga-24.04';

beforeAll(async () => {
  dir = await tempDir('meph-target-forms-');
  await makeStream(path.join(dir, 'src'), { label: 'candidate', serials: SERIALS, releases: [NOBLE] });
  key = await throwAwayKey(path.join(dir, 'key'));
  // a signed copy, for the .sjson forms
  await fs.cp(path.join(dir, 'src'), path.join(dir, 'signed'), { recursive: true });
  const r = await runCliCaptured(spec, ['sign', 'signed'], { cwd: dir, env: env({ MEPH_SIGNING_KEY: key.secretKey }) });
  expect(r.code, r.stderr).toBe(0);
  server = await startFixtureServer({ root: dir });
});
afterAll(async () => {
  await server?.close();
  await fs.rm(dir, { recursive: true, force: true });
});

function env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...process.env, MEPH_SIGNING_KEY: '', MEPH_GPG_KEY: '', SS_GPG_DEFAULT_KEY: '', MEPH_KEYRING: '', GNUPGHOME: path.join(dir, 'no-such-gnupg-home'), ...extra };
}
const run = (args: string[], extra: NodeJS.ProcessEnv = {}) => runCliCaptured(spec, args, { cwd: dir, env: env(extra) });

let n = 0;
/** A fresh copy of `from` (src or signed) under a new name. */
async function copy(from: 'src' | 'signed'): Promise<string> {
  const name = `c${(n += 1)}`;
  await fs.cp(path.join(dir, from), path.join(dir, name), { recursive: true });
  return name;
}

/** The local forms of a stream named `d` (relative to the test dir). */
const localForms = (d: string): string[] => [d, `${d}/`, `${d}/streams/v1/index.json`, `./${d}/streams/v1/index.sjson`];
const urlForms = (d: string): string[] => [`${server.url}/${d}/`, `${server.url}/${d}/streams/v1/index.json`];

async function noIndexDirectory(root: string): Promise<void> {
  const st = await fs.lstat(path.join(dir, root, 'streams/v1/index.json'));
  expect(st.isFile()).toBe(true);
}

describe('write targets: a mirror root or its streams/v1/index.(s)json', () => {
  it('clean-md MAX <each form>', async () => {
    for (const form of localForms('X')) {
      const d = await copy('signed');
      const r = await run(['clean-md', '-u', '3', form.replace('X', d)]);
      expect(r.code, `${form}: ${r.stderr}`).toBe(0);
      expect(versionMap(await readProducts(path.join(dir, d), CAND))[GA], form).toEqual(SERIALS.slice(1));
      await noIndexDirectory(d);
    }
  });

  it('clean-md on a products file cleans that file only, as the original read only it', async () => {
    const d = await copy('src');
    const r = await run(['clean-md', '-u', '2', `${d}/streams/v1/com.ubuntu.maas:candidate:v3:download.json`]);
    expect(r.code, r.stderr).toBe(0);
    expect(versionMap(await readProducts(path.join(dir, d), CAND))[GA]).toEqual(SERIALS.slice(2));
  });

  it('insert / promote / merge into a new or existing target named by its index', async () => {
    for (const [i, target] of ['new1/streams/v1/index.json', 'new2/streams/v1/index.sjson', 'new3/', 'new4'].entries()) {
      const r = await run(['insert', '-u', 'src/streams/v1/index.json', target]);
      expect(r.code, `${target}: ${r.stderr}`).toBe(0);
      const root = `new${i + 1}`;
      await noIndexDirectory(root);
      expect(await assertStreamIntact(path.join(dir, root))).toBe(2 * 4 * 4);
      const p = await run(['promote', '-u', `${root}/streams/v1/index.json`, `${root}-stable/streams/v1/index.json`, '20260704']);
      expect(p.code, p.stderr).toBe(0);
      await noIndexDirectory(`${root}-stable`);
      const m = await run(['merge', '-u', `${root}-stable/streams/v1/index.json`, `${root}/streams/v1/index.json`]);
      expect(m.code, m.stderr).toBe(0);
      expect((await fs.readdir(path.join(dir, root, 'streams/v1'))).sort()).toEqual(['com.ubuntu.maas:candidate:v3:download.json', 'com.ubuntu.maas:stable:v3:download.json', 'index.json']);
    }
  });

  it('remove-version / copy-version / patch / sign on index paths', async () => {
    const d = await copy('src');
    const idx = `${d}/streams/v1/index.json`;
    expect((await run(['remove-version', '-u', idx, '20260701'])).code).toBe(0);
    expect((await run(['copy-version', '-u', `${d}/streams/v1/index.sjson`, '20260704', '20260704.1'])).code).toBe(0);
    expect(versionMap(await readProducts(path.join(dir, d), CAND))[GA]).toEqual(['20260702', '20260703', '20260704', '20260704.1']);
    await fs.writeFile(path.join(dir, 'del.yaml'), "com.ubuntu.maas:v3:download.json:\n  com.ubuntu.maas:v3:boot:24.04:.*:\n    versions:\n      '20260702': {}\n");
    const p = await run(['patch', '-u', idx, '-i', 'del.yaml']);
    expect(p.code, p.stderr).toBe(0);
    expect(versionMap(await readProducts(path.join(dir, d), CAND))[GA]).toEqual(['20260703', '20260704', '20260704.1']);
    const s = await run(['sign', idx], { MEPH_SIGNING_KEY: key.secretKey });
    expect(s.code, s.stderr).toBe(0);
    await fs.access(path.join(dir, d, 'streams/v1/index.sjson'));
    await noIndexDirectory(d);
  });

  it('a URL or another file as a write target is one clear line, nothing written', async () => {
    for (const [args, re] of [
      [['clean-md', '-u', '3', `${server.url}/src/streams/v1/index.json`], /clean-md writes to this stream, so it must be a local directory, not a URL/],
      [['insert', '-u', 'src', `${server.url}/other/`], /insert writes to this stream, so it must be a local directory, not a URL/],
      [['sign', `${server.url}/src/`], /sign writes to this stream, so it must be a local directory, not a URL/],
      [['clean-md', '-u', '3', 'src/streams/v1/index.json/'], /src\/streams\/v1\/index\.json\/: is a file, not a stream directory/],
      [['remove-version', '-u', 'no-such-stream/streams/v1/index.json', '1'], /no-such-stream\/streams\/v1\/index\.json: no such stream directory/],
    ] as const) {
      const r = await run([...args]);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr).toMatch(re);
      expect(r.stderr).not.toMatch(/ENOTDIR|EEXIST|ENOENT/);
    }
    await expect(fs.access(path.join(dir, 'no-such-stream'))).rejects.toThrow();
  });
});

describe('read-only inputs: also http(s) URLs of either form', () => {
  it('insert / promote / patch take a URL source; diff, verify, query, find-orphans take every form', async () => {
    for (const [i, form] of urlForms('src').entries()) {
      const r = await run(['insert', '-u', form, `u${i}`]);
      expect(r.code, `${form}: ${r.stderr}`).toBe(0);
      expect(await assertStreamIntact(path.join(dir, `u${i}`))).toBe(2 * 4 * 4);
      const p = await run(['promote', '-u', form, `u${i}-stable/streams/v1/index.json`, '20260704']);
      expect(p.code, p.stderr).toBe(0);
      await run(['promote', '-u', form, `u${i}-stable`, '20260703']);
      const d = await run(['diff', '--new-versions-only', '--promote', form, `u${i}-stable/streams/v1/index.json`, '-o', `u${i}.yaml`]);
      expect(d.code, d.stderr).toBe(0);
      const patched = await run(['patch', '-u', form, `u${i}-stable/streams/v1/index.json`, '-i', `u${i}.yaml`]);
      expect(patched.code, patched.stderr).toBe(0);
      expect(versionMap(await readProducts(path.join(dir, `u${i}-stable`), productsPath('stable')))['com.ubuntu.maas.stable:v3:boot:24.04:amd64:ga-24.04']).toEqual(SERIALS);
    }
    for (const form of [...localForms('signed'), ...urlForms('signed'), `${server.url}/signed/streams/v1/index.sjson`]) {
      const v = await run(['verify', '--keyring', key.keyring, form]);
      expect(v.code, `verify ${form}: ${v.stdout}${v.stderr}`).toBe(0);
      const q = await run(['query', '--keyring', key.keyring, '--max', '1', '-o', '%(version_name)s', form, 'ftype=squashfs']);
      expect(q.code, `query ${form}: ${q.stderr}`).toBe(0);
      expect(q.stdout.trim().split('\n')).toEqual(['20260704', '20260704']);
    }
    // the original README's find-orphans call: the mirror, then its streams/v1/*.json
    const d = await copy('src');
    await run(['clean-md', '-u', '3', d]);
    const f = await run(['find-orphans', 'o.json', `./${d}/`, `./${d}/streams/v1/index.json`, `./${d}/streams/v1/com.ubuntu.maas:candidate:v3:download.json`]);
    expect(f.code, f.stderr).toBe(0);
    const orphans = Object.keys(JSON.parse(await fs.readFile(path.join(dir, 'o.json'), 'utf8'))).filter((k) => !k.startsWith('/'));
    expect(orphans.every((o) => o.includes('/20260701/'))).toBe(true);
    expect(orphans).toHaveLength(6);
    // the streams may also be read over http
    const u = await run(['find-orphans', 'ou.json', `./${d}/`, `${server.url}/${d}/streams/v1/index.json`]);
    expect(u.code, u.stderr).toBe(0);
    expect(Object.keys(JSON.parse(await fs.readFile(path.join(dir, 'ou.json'), 'utf8'))).filter((k) => !k.startsWith('/')).sort()).toEqual(orphans.sort());
  });
});
