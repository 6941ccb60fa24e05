/**
 * meph2-util publish against a real single-node Swift (Debian's swift 2.30: tempauth + s3api)
 * started for this file: the native API and S3, read back over HTTP with meph's own reader.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAppProcess } from '@meph/test-support';
import { startSwift, swiftUnavailable, type SwiftServer } from '@meph/test-support/swift';
import { JAMMY, makeStream, NOBLE, productsPath, tempDir, throwAwayKey } from './stream-fixture.js';

const unavailable = await swiftUnavailable();
let swift: SwiftServer;
let dir: string;
let key: { home: string; secretKey: string; keyring: string };

const baseEnv = { MEPH_SIGNING_KEY: '', MEPH_GPG_KEY: '', MEPH_KEYRING: '' };
const env = (): NodeJS.ProcessEnv => ({ ...baseEnv, ...swift.env });
const util = (args: string[], extra: NodeJS.ProcessEnv = {}, crashAfter?: number) =>
  runAppProcess('meph2-util', args, { cwd: dir, env: { ...env(), ...extra }, ...(crashAfter ? { crashAfter } : {}) });

async function token(): Promise<string> {
  const res = await fetch(swift.authUrl, { headers: { 'X-Auth-User': swift.user, 'X-Auth-Key': swift.key } });
  return res.headers.get('x-auth-token')!;
}

async function listing(container: string): Promise<{ name: string; hash: string; last_modified: string }[]> {
  const res = await fetch(`${swift.storageUrl}/${container}?format=json`, { headers: { 'X-Auth-Token': await token() } });
  return res.status === 200 ? ((await res.json()) as { name: string; hash: string; last_modified: string }[]) : [];
}

async function getObject(container: string, name: string): Promise<string | undefined> {
  const res = await fetch(`${swift.storageUrl}/${container}/${name}`, { headers: { 'X-Auth-Token': await token() } });
  return res.status === 200 ? res.text() : undefined;
}

async function putObject(container: string, name: string, body: string): Promise<void> {
  const res = await fetch(`${swift.storageUrl}/${container}/${name}`, { method: 'PUT', headers: { 'X-Auth-Token': await token() }, body });
  expect(res.status).toBe(201);
}

/** A signed stream of the given serials, made by the fixture and `meph2-util sign`. */
async function signedStream(name: string, serials: string[], releases = [NOBLE]): Promise<string> {
  const root = path.join(dir, name);
  await makeStream(root, { label: 'candidate', serials, releases });
  const r = await util(['sign', '--key', key.secretKey, root]);
  expect(r.code, r.stderr).toBe(0);
  return root;
}

describe.skipIf(unavailable !== undefined)('meph2-util publish to Swift (native API and S3)', () => {
  beforeAll(async () => {
    dir = await tempDir('meph-publish-swift-');
    key = await throwAwayKey(dir);
    swift = await startSwift();
  }, 180_000);
  afterAll(async () => {
    await swift?.stop();
    spawnSync('gpgconf', ['--kill', 'all'], { env: { ...process.env, GNUPGHOME: key?.home } });
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('publishes a signed stream through the native API; verify --data and query read it over HTTP; a rerun uploads nothing', async () => {
    const src = await signedStream('native', ['20260101', '20260102'], [NOBLE, JAMMY]);
    const r = await util(['publish', '--json', '--public-read', '--keyring', key.keyring, src, 'swift://native/ephemeral-v3/candidate']);
    expect(r.code, r.stderr).toBe(0);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const done = events.find((e) => e['type'] === 'published')!;
    expect(done['uploaded']).toBe(28);
    const url = String(done['readUrl']);
    expect(url).toBe(`${swift.storageUrl}/native/ephemeral-v3/candidate/`);
    // metadata after data: the index and its signature are the last objects written
    const writes = events.filter((e) => e['type'] === 'object-uploaded').map((e) => String(e['key']));
    expect(writes.slice(-3)).toEqual(['streams/v1/index.json', 'streams/v1/index.json.gpg', 'streams/v1/index.sjson'].filter((k) => writes.includes(k)));
    expect(writes.findIndex((k) => k.startsWith('streams/'))).toBe(28);

    const v = await util(['verify', '--data', '--keyring', key.keyring, url]);
    expect(v.code, v.stdout + v.stderr).toBe(0);
    expect(v.stdout).toMatch(/^OK: .* 28 file\(s\) checked/m);
    const q = await util(['query', '--keyring', key.keyring, '-o', '%(version_name)s %(item_name)s', url, 'release=jammy', 'arch=arm64', 'item_name=squashfs']);
    expect(q.code, q.stderr).toBe(0);
    expect(q.stdout.trim().split('\n').sort()).toEqual(['20260101 squashfs', '20260102 squashfs']);

    const again = await util(['publish', '--json', '--keyring', key.keyring, src, 'swift://native/ephemeral-v3/candidate']);
    expect(again.code, again.stderr).toBe(0);
    const summary = again.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>).find((e) => e['type'] === 'published');
    expect(summary).toMatchObject({ type: 'published', uploaded: 0, metadata: 0 });
  });

  it('ss-swift PATH CONTAINER is publish PATH swift://CONTAINER, and --dry-run writes nothing', async () => {
    const src = await signedStream('alias', ['20260101']);
    const dry = await util(['ss-swift', '--dry-run', '--prefix', 'p', '--keyring', key.keyring, src, 'alias']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stderr).toContain('would upload noble/amd64/20260101/squashfs');
    expect(await listing('alias')).toEqual([]);
    const r = await util(['ss-swift', '--prefix', 'p', '--keyring', key.keyring, src, 'alias']);
    expect(r.code, r.stderr).toBe(0);
    expect((await listing('alias')).map((o) => o.name)).toContain('p/streams/v1/index.sjson');
  });

  it('never overwrites a data object with other bytes: conflict, metadata untouched', async () => {
    const src = await signedStream('conflict-a', ['20260101']);
    expect((await util(['publish', '--keyring', key.keyring, src, 'swift://conflict'])).code).toBe(0);
    const indexBefore = await getObject('conflict', 'streams/v1/index.json');
    // Another build of the same version: same paths, other bytes.
    const other = path.join(dir, 'conflict-b');
    await fs.mkdir(path.join(other, 'noble/amd64/20260101'), { recursive: true });
    await fs.writeFile(path.join(other, 'noble/amd64/20260101/squashfs'), 'rebuilt, different bytes');
    await makeStream(other, { label: 'candidate', serials: ['20260101', '20260105'] });
    expect((await util(['sign', '--key', key.secretKey, other])).code).toBe(0);
    const r = await util(['publish', '--keyring', key.keyring, other, 'swift://conflict']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error: swift:\/\/conflict: noble\/amd64\/20260101\/squashfs already exists with other content .*never overwritten/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(await getObject('conflict', 'streams/v1/index.json')).toBe(indexBefore);
  });

  it('two publishers at once both land: the later one waits for the lease, merges the versions the other landed, and the result verifies', async () => {
    // unsigned streams: a merge needs re-signing, which a signed stream cannot get here (next test)
    const a = path.join(dir, 'conc-a');
    const b = path.join(dir, 'conc-b');
    await makeStream(a, { label: 'candidate', serials: ['20260101', '20260102'] });
    await makeStream(b, { label: 'candidate', serials: ['20260101', '20260103'] });
    const [ra, rb] = await Promise.all([util(['publish', '--public-read', a, 'swift://concurrent']), util(['publish', '--public-read', b, 'swift://concurrent'])]);
    expect(ra.code, ra.stderr).toBe(0);
    expect(rb.code, rb.stderr).toBe(0);
    const merged = [ra.stderr, rb.stderr].filter((e) => /merged \d+ version\(s\) another publisher landed meanwhile \(com\.\S+ \S+ 2026010[23]/.test(e));
    expect(merged, ra.stderr + rb.stderr).toHaveLength(1);
    const products = JSON.parse((await getObject('concurrent', productsPath('candidate')))!) as { products: Record<string, { versions: Record<string, unknown> }> };
    for (const p of Object.values(products.products)) expect(Object.keys(p.versions).sort()).toEqual(['20260101', '20260102', '20260103']);
    const v = await util(['verify', '--data', '--no-verify', `${swift.storageUrl}/concurrent/`]);
    expect(v.code, v.stdout + v.stderr).toBe(0);
    expect((await listing('concurrent')).map((o) => o.name)).not.toContain('.meph-publish.lease');
  });

  it('the twin window: killed between a products .json and its signatures, verify warns (the lease is held) instead of failing; without a lease it is an error', async () => {
    const old = await signedStream('twin-old', ['20260101']);
    await new Promise((r) => setTimeout(r, 1100)); // a later `updated`, so the index differs too
    const next = await signedStream('twin-new', ['20260101', '20260102']);
    expect((await util(['publish', '--public-read', '--keyring', key.keyring, old, 'swift://twin'])).code).toBe(0);
    const dry = await util(['publish', '--dry-run', '--json', '--keyring', key.keyring, next, 'swift://twin']);
    const data = dry.stdout.split('\n').filter((l) => l.includes('"type":"object-uploaded"') && l.includes('"kind":"data"')).length;
    expect(data).toBeGreaterThan(0);
    // killed right after the products .json: its .json.gpg and .sjson are still the old ones
    const killed = await util(['publish', '--keyring', key.keyring, next, 'swift://twin'], {}, data + 1);
    expect(killed.signal).toBe('SIGKILL');
    const url = `${swift.storageUrl}/twin/`;
    const v = await util(['verify', '--keyring', key.keyring, url]);
    expect(v.code, v.stdout + v.stderr).toBe(0);
    expect(v.stdout + v.stderr).toMatch(/warning .*says something else than .*a publish holds the lease/);
    // the same disagreement with no publish holding the lease is corruption
    const del = await fetch(`${swift.storageUrl}/twin/.meph-publish.lease`, { method: 'DELETE', headers: { 'X-Auth-Token': await token() } });
    expect(del.status).toBe(204);
    const bad = await util(['verify', '--keyring', key.keyring, url]);
    expect(bad.code).toBe(1);
    expect(bad.stdout + bad.stderr).toMatch(/error .*says something else than/);
    // the rerun finishes the pair
    expect((await util(['publish', '--keyring', key.keyring, next, 'swift://twin'])).code).toBe(0);
    const ok = await util(['verify', '--keyring', key.keyring, url]);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/0 error\(s\), 0 warning\(s\)/);
  });

  it('refuses to drop versions another publisher added (one clear line), and --replace does', async () => {
    const first = await signedStream('ahead-1', ['20260101', '20260102']);
    const second = await signedStream('ahead-2', ['20260101', '20260103']);
    expect((await util(['publish', '--keyring', key.keyring, first, 'swift://ahead'])).code).toBe(0);
    const before = await getObject('ahead', productsPath('candidate'));
    const r = await util(['publish', '--keyring', key.keyring, second, 'swift://ahead']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/swift:\/\/ahead has 2 version\(s\) your stream lacks .*20260102.*meph2-util insert/);
    expect(await getObject('ahead', productsPath('candidate'))).toBe(before);
    const replaced = await util(['publish', '--replace', '--keyring', key.keyring, second, 'swift://ahead']);
    expect(replaced.code, replaced.stderr).toBe(0);
    expect(await getObject('ahead', productsPath('candidate'))).toContain('20260103');
  });

  it('S3 API (path-style, DeleteObjects with Content-MD5): publish, prune after the grace period, read back over the native URL', async () => {
    const first = await signedStream('s3-1', ['20260101', '20260102']);
    // the bucket is a Swift container: make it world-readable through the native API
    const mk = await fetch(`${swift.storageUrl}/s3bucket`, { method: 'PUT', headers: { 'X-Auth-Token': await token(), 'X-Container-Read': '.r:*,.rlistings' } });
    expect(mk.status).toBeLessThan(300);
    const r = await util(['publish', '--json', '--keyring', key.keyring, first, 's3://s3bucket/stable']);
    expect(r.code, r.stderr).toBe(0);
    const url = `${swift.storageUrl}/s3bucket/stable/`;
    expect(r.stdout).toContain(`"readUrl":"${swift.s3Endpoint}/s3bucket/stable/"`);
    const v = await util(['verify', '--data', '--keyring', key.keyring, url]);
    expect(v.code, v.stdout + v.stderr).toBe(0);

    // A signature of a live file and a stray object; then a stream that drops 20260101.
    await putObject('s3bucket', 'stable/noble/amd64/20260102/squashfs.gpg', 'detached signature of a live file');
    await putObject('s3bucket', 'stable/stray/leftover', 'garbage');
    const second = await signedStream('s3-2', ['20260102']);
    const young = await util(['publish', '--replace', '--prune', '--older', '3d', '--json', '--keyring', key.keyring, second, 's3://s3bucket/stable']);
    expect(young.code, young.stderr).toBe(0);
    expect(young.stdout).not.toContain('"type":"object-pruned"');
    expect(young.stdout).toContain('"reason":"too-recent"');

    const pruned = await util(['publish', '--replace', '--prune', '--older', '0', '--json', '--keyring', key.keyring, second, 's3://s3bucket/stable']);
    expect(pruned.code, pruned.stderr).toBe(0);
    const names = (await listing('s3bucket')).map((o) => o.name);
    expect(names).not.toContain('stable/stray/leftover');
    expect(names).not.toContain('stable/noble/amd64/20260101/squashfs');
    expect(names).toContain('stable/noble/amd64/20260102/squashfs');
    expect(names).toContain('stable/noble/amd64/20260102/squashfs.gpg');
    expect(names).toContain('stable/streams/v1/index.sjson');
    expect(pruned.stdout).toContain('"reason":"signature-of-live-file"');
    const v2 = await util(['verify', '--data', '--keyring', key.keyring, url]);
    expect(v2.code, v2.stdout + v2.stderr).toBe(0);
  });

  it('bad credentials and unknown targets are one clear line', async () => {
    const src = await signedStream('creds', ['20260101']);
    const bad = await util(['publish', '--keyring', key.keyring, src, 'swift://creds'], { ST_KEY: 'wrong' });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^meph2-util: error: .*authentication as test:tester failed \(HTTP 401\)/m);
    const none = await util(['publish', '--keyring', key.keyring, src, 'swift://creds'], { ST_AUTH: '', OS_AUTH_URL: '' });
    expect(none.stderr).toMatch(/no Swift credentials in the environment \(export ST_AUTH/);
    const scheme = await util(['publish', '--keyring', key.keyring, src, 'ftp://x']);
    expect(scheme.code).toBe(2);
    expect(scheme.stderr).toMatch(/ftp:\/\/x: unknown store scheme/);
  });
});
