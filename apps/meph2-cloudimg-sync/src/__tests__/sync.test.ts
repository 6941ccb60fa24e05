import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAppProcess, runCliCaptured, type CliResult } from '@meph/test-support';
import { expandProducts, loadStream, type ProductsDocument } from '@meph/simplestreams';
import { checkMaasStream } from '@meph/maas-rules';
import { createVerifier } from '@meph/signer';
import {
  createTestKey,
  generateArchive,
  generateCloudFeed,
  startFixtureServer,
  type FeedProduct,
  type FixtureServer,
  type TestKey,
} from '../../../../tools/fixture-server/index.js';
import { spec } from '../main.js';

const CONFIG = path.join(import.meta.dirname, '__fixtures__', 'meph-test.yaml');
const CID = 'com.ubuntu.maas:candidate:v3:download';
const env = { ...process.env, MAAS_CLOUDIMG2EPH2: 'fake' };

let tmp: string;
let server: FixtureServer;

const noble = (arch: string, serials: string[]): FeedProduct => ({ release: 'noble', version: '24.04', arch, serials, releaseTitle: '24.04 LTS', releaseCodename: 'Noble Numbat' });

async function sync(args: string[], runEnv: NodeJS.ProcessEnv = env): Promise<CliResult & { events: Array<Record<string, unknown>> }> {
  const r = await runCliCaptured(spec, ['--json', '--config', CONFIG, '--arches', 'amd64,arm64', '-u', ...args], { env: runEnv });
  const events = r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
  return { ...r, events };
}

async function products(out: string): Promise<ProductsDocument> {
  return JSON.parse(await readFile(path.join(out, 'streams/v1', `${CID}.json`), 'utf8')) as ProductsDocument;
}

/** (release/arch/version) of the primary products. */
async function versions(out: string): Promise<string[]> {
  const doc = expandProducts(await products(out));
  return Object.entries(doc.products)
    .flatMap(([, p]) => Object.keys(p.versions).map((v) => `${String(p['release'] ?? Object.values(Object.values(p.versions)[0]!.items)[0]!['release'])}/${String(p['arch'] ?? Object.values(Object.values(p.versions)[0]!.items)[0]!['arch'])}/${v}`))
    .sort();
}

async function expectMaasClean(out: string): Promise<void> {
  const findings = await checkMaasStream(await loadStream(out));
  expect(findings.filter((f) => f.severity !== 'warning')).toEqual([]);
}

const built = (events: Array<Record<string, unknown>>): string[] =>
  events.filter((e) => e['type'] === 'build-done').map((e) => `${String(e['release'])}/${String(e['arch'])}/${String(e['version'])}`).sort();

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'meph-cloudimg-sync-test-'));
  await generateCloudFeed(path.join(tmp, 'feed'), { products: [noble('amd64', ['20260101', '20260102']), noble('arm64', ['20260102'])] });
  server = await startFixtureServer({ root: tmp });
});

afterAll(async () => {
  await server?.close();
  await rm(tmp, { recursive: true, force: true });
});

describe('meph2-cloudimg-sync against a loopback cloud-images feed (fake converter)', () => {
  const out = () => path.join(tmp, 'out');
  const feedUrl = () => `${server.url}/feed/streams/v1/com.ubuntu.cloud:daily:download.json`;

  it('--dry-run lists what it would build and writes nothing', async () => {
    const dry = path.join(tmp, 'dry');
    const r = await runCliCaptured(spec, ['--config', CONFIG, '--arches', 'amd64,arm64', '--source', feedUrl(), '--target', 'force', '--max', '2', '--dry-run', dry], { env });
    expect(r.stderr).toContain('nothing was written');
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n').sort()).toEqual(['noble amd64 20260101 -> 20260101', 'noble amd64 20260102 -> 20260102', 'noble arm64 20260102 -> 20260102']);
    expect(existsSync(dry)).toBe(false);
  });

  it('first sync builds every version; the stream passes the MAAS check', async () => {
    const r = await sync(['--source', feedUrl(), '--target', 'force', '--max', '2', out()]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(built(r.events)).toEqual(['noble/amd64/20260101', 'noble/amd64/20260102', 'noble/arm64/20260102']);
    expect(await versions(out())).toEqual(['noble/amd64/20260101', 'noble/amd64/20260102', 'noble/arm64/20260102']);
    const doc = expandProducts(await products(out()));
    const p = doc.products['com.ubuntu.maas.candidate:v3:boot:24.04:amd64:ga-24.04']!;
    expect(Object.keys(p.versions['20260102']!.items).sort()).toEqual(['boot-initrd', 'boot-kernel', 'manifest', 'squashfs']);
    for (const item of Object.values(p.versions['20260102']!.items)) expect(existsSync(path.join(out(), String(item.path)))).toBe(true);
    await expectMaasClean(out());
    const verify = await runAppProcess('meph2-util', ['verify', '--no-verify', '--data', '--maas', out()]);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  });

  it('second sync against its own output builds nothing and keeps every version', async () => {
    const r = await sync(['--source', feedUrl(), '--target', out(), '--max', '2', out()]);
    expect(r.code).toBe(0);
    expect(built(r.events)).toEqual([]);
    expect(await versions(out())).toEqual(['noble/amd64/20260101', 'noble/amd64/20260102', 'noble/arm64/20260102']);
    await expectMaasClean(out());
  });

  it('the candidate feed is matched by release/arch/version too (no rebuild of everything)', async () => {
    await generateCloudFeed(path.join(tmp, 'candidate'), { stream: 'candidate', products: [noble('amd64', ['20260102']), noble('arm64', ['20260102'])] });
    const r = await sync(['--source', `${server.url}/candidate/streams/v1/index.json`, '--target', out(), '--dry-run', out()]);
    expect(r.code).toBe(0);
    expect(r.events.filter((e) => e['type'] === 'would-build')).toEqual([]);
  });

  it('a new serial in the feed builds exactly that version; --rebuild makes X.1', async () => {
    await generateCloudFeed(path.join(tmp, 'feed'), { products: [noble('amd64', ['20260101', '20260102', '20260103']), noble('arm64', ['20260102'])] });
    const r = await sync(['--source', feedUrl(), '--target', out(), '--max', '2', out()]);
    expect(r.code).toBe(0);
    expect(built(r.events)).toEqual(['noble/amd64/20260103']);
    const r2 = await sync(['--source', feedUrl(), '--target', out(), '--rebuild', '20260103:20260103.1', out(), 'arch=amd64']);
    expect(r2.stderr).toBe("");
    expect(r2.code).toBe(0);
    expect(built(r2.events)).toEqual(['noble/amd64/20260103.1']);
    expect(await versions(out())).toEqual(['noble/amd64/20260101', 'noble/amd64/20260102', 'noble/amd64/20260103', 'noble/amd64/20260103.1', 'noble/arm64/20260102']);
    const doc = expandProducts(await products(out()));
    const item = doc.products['com.ubuntu.maas.candidate:v3:boot:24.04:amd64:ga-24.04']!.versions['20260103.1']!.items['squashfs']!;
    expect(item.path).toBe('noble/amd64/20260103.1/squashfs');
    await expectMaasClean(out());
  });

  it('injected 5xx on the source image are retried', async () => {
    const o = path.join(tmp, 'out-5xx');
    server.setFaults([{ match: /20260102\/noble-server-cloudimg-arm64-root\.tar\.xz$/, status: 503, times: 2 }]);
    try {
      const noVar = { ...process.env };
      delete noVar['MAAS_CLOUDIMG2EPH2'];
      const r = await sync(['--source', feedUrl(), '--target', 'force', '--fake', '-v', o, 'arch=arm64'], noVar);
      expect(r.events).toContainEqual(expect.objectContaining({ type: 'message', message: 'converter: fake (--fake)' }));
      expect(r.code).toBe(0);
      expect(r.events.filter((e) => e['type'] === 'http-retry')).toHaveLength(2);
      expect(built(r.events)).toEqual(['noble/arm64/20260102']);
      await expectMaasClean(o);
    } finally {
      server.setFaults([]);
    }
  });

  it('a bad checksum fails that build only, with a clear error; the others are written; exit 1', async () => {
    const o = path.join(tmp, 'out-bad');
    server.setFaults([{ match: /20260102\/noble-server-cloudimg-arm64-root\.tar\.xz$/, corrupt: true }]);
    try {
      const r = await sync(['--source', feedUrl(), '--target', 'force', o]);
      expect(r.code).toBe(1);
      expect(built(r.events)).toEqual(['noble/amd64/20260103']);
      const failed = r.events.filter((e) => e['type'] === 'build-failed');
      expect(failed).toHaveLength(1);
      expect(String(failed[0]!['message'])).toMatch(/noble-server-cloudimg-arm64-root\.tar\.xz: sha256 mismatch: expected [0-9a-f]{64}, got [0-9a-f]{64}/);
      expect(r.stdout + r.stderr).toMatch(/1 version failed to build \(1 built and written\)/);
      expect(await versions(o)).toEqual(['noble/amd64/20260103']);
      await expectMaasClean(o);
    } finally {
      server.setFaults([]);
    }
  });

  it('when every build fails the stream is left untouched (never replaced by an emptier one); exit 1', async () => {
    const o = path.join(tmp, 'out-allbad');
    const first = await sync(['--source', feedUrl(), '--target', 'force', o, 'arch=arm64']);
    expect(first.code, first.stderr).toBe(0);
    const before = await readFile(path.join(o, 'streams/v1', `${CID}.json`), 'utf8');
    const index = await readFile(path.join(o, 'streams/v1/index.json'), 'utf8');
    server.setFaults([{ match: /-root\.tar\.xz$/, corrupt: true }]);
    try {
      // --target force: the output would hold only what builds now, i.e. nothing
      const r = await sync(['--source', feedUrl(), '--target', 'force', o]);
      expect(r.code).toBe(1);
      expect(built(r.events)).toEqual([]);
      expect(r.events.filter((e) => e['type'] === 'build-failed')).toHaveLength(2);
      expect(r.events).toContainEqual(expect.objectContaining({ type: 'stream-untouched', reason: 'no version built' }));
      expect(r.stdout + r.stderr).toMatch(/2 versions failed to build \(0 built; the stream was left untouched\)/);
      expect(await readFile(path.join(o, 'streams/v1', `${CID}.json`), 'utf8')).toBe(before);
      expect(await readFile(path.join(o, 'streams/v1/index.json'), 'utf8')).toBe(index);
      // and into an empty directory no products file with "products": {} appears
      const empty = path.join(tmp, 'out-allbad-new');
      const r2 = await sync(['--source', feedUrl(), '--target', 'force', empty]);
      expect(r2.code).toBe(1);
      expect(existsSync(path.join(empty, 'streams/v1', `${CID}.json`))).toBe(false);
    } finally {
      server.setFaults([]);
    }
  });

  it('a partly failed run that would drop versions the stream has leaves it untouched', async () => {
    const o = path.join(tmp, 'out-partial');
    const first = await sync(['--source', feedUrl(), '--target', 'force', o, 'arch=arm64']);
    expect(first.code, first.stderr).toBe(0);
    const before = await readFile(path.join(o, 'streams/v1', `${CID}.json`), 'utf8');
    server.setFaults([{ match: /arm64-root\.tar\.xz$/, corrupt: true }]);
    try {
      const r = await sync(['--source', feedUrl(), '--target', 'force', o]);
      expect(r.code).toBe(1);
      expect(built(r.events)).toEqual(['noble/amd64/20260103']);
      expect(r.events).toContainEqual(expect.objectContaining({ type: 'stream-untouched', reason: 'the new stream would lose versions it has' }));
      expect(await readFile(path.join(o, 'streams/v1', `${CID}.json`), 'utf8')).toBe(before);
    } finally {
      server.setFaults([]);
    }
  });

  it('--help is complete, with examples', async () => {
    const r = await runCliCaptured(spec, ['--help'], { env });
    expect(r.code).toBe(0);
    const help = r.stdout + r.stderr;
    for (const flag of ['--config', '--source', '--target', '--keyring', '--max', '--arches', '--rebuild', '--proposed', '--proposed-packages', '--pre-purge-packages', '--disable-di', '--enable-di', '--di-archive', '--di-keyring', '--dry-run', '--json', '--no-sign', '--fake', '--jobs', 'Examples:']) {
      expect(help).toContain(flag);
    }
  });

  it('bad usage is one clear line with exit 2', async () => {
    const r = await runCliCaptured(spec, ['--config', CONFIG, '--rebuild', '20260101', '--target', 'force', path.join(tmp, 'x')], { env });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('meph2-cloudimg-sync: error: --rebuild "20260101": expected FROM:TO, e.g. 20260101:20260101.1');
  });
});

describe('meph2-cloudimg-sync with d-i items', () => {
  let key: TestKey;
  beforeAll(async () => {
    key = await createTestKey();
    await generateArchive(path.join(tmp, 'archive'), { suites: { noble: ['20101020ubuntu700'], 'noble-updates': ['20101020ubuntu702'] }, arches: ['amd64', 'arm64'], key });
  });
  afterAll(async () => key?.cleanup());

  it('signs the output unless --no-sign', async () => {
    const o = path.join(tmp, 'out-signed');
    const logFile = path.join(tmp, 'signed.log');
    const r = await runCliCaptured(
      spec,
      ['--config', CONFIG, '--arches', 'arm64', '--source', `${server.url}/feed/streams/v1/index.json`, '--target', 'force', '--key', key.secretKeyPath, '-v', '--log-file', logFile, o],
      { env: { ...process.env, MAAS_CLOUDIMG2EPH2: 'fake-maas-cloudimg2eph2' } }, // the original's value selects the fake too
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('converter: fake (MAAS_CLOUDIMG2EPH2=fake-maas-cloudimg2eph2)');
    expect(await readFile(logFile, 'utf8')).toMatch(/^\S+Z \{"type":"build-done","release":"noble","arch":"arm64","version":"20260102","products":1\}$/m);
    const verifier = await createVerifier({ keyrings: [key.keyringPath] });
    const signed = await readFile(path.join(o, 'streams/v1', `${CID}.sjson`), 'utf8');
    const { payload } = await verifier.verifyClearsigned(signed, 'sjson');
    expect(Object.keys((JSON.parse(payload) as ProductsDocument).products)).toEqual(['com.ubuntu.maas.candidate:v3:boot:24.04:arm64:ga-24.04']);
    expect(existsSync(path.join(o, 'streams/v1/index.sjson'))).toBe(true);
    expect(existsSync(path.join(o, 'streams/v1', `${CID}.json.gpg`))).toBe(true);
    await expectMaasClean(o);
  });

  it('--enable-di adds di-kernel/di-initrd with di_version, downloaded and verified', async () => {
    const o = path.join(tmp, 'out-di');
    const r = await sync([
      '--source', `${server.url}/feed/streams/v1/com.ubuntu.cloud:daily:download.json`, '--target', 'force', '--enable-di',
      '--di-archive', `${server.url}/archive`, '--di-keyring', key.keyringPath, o,
    ]);
    expect(r.events.filter((e) => e['type'] === 'build-failed')).toEqual([]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const doc = expandProducts(await products(o));
    const items = doc.products['com.ubuntu.maas.candidate:v3:boot:24.04:amd64:ga-24.04']!.versions['20260103']!.items;
    expect(Object.keys(items).sort()).toEqual(['boot-initrd', 'boot-kernel', 'di-initrd', 'di-kernel', 'manifest', 'squashfs']);
    expect(items['di-kernel']).toMatchObject({ ftype: 'di-kernel', di_version: '20101020ubuntu702', path: 'noble/amd64/di/20101020ubuntu702/noble/generic/di-kernel', krel: 'noble' });
    const raw = await products(o);
    // di_version is sticky: it stays on the items
    expect(raw.products['com.ubuntu.maas.candidate:v3:boot:24.04:amd64:ga-24.04']!.versions['20260103']!.items['di-kernel']!['di_version']).toBe('20101020ubuntu702');
    const data = await readFile(path.join(o, String(items['di-kernel']!.path)));
    expect(data.length).toBe(items['di-kernel']!.size);
    await expectMaasClean(o);
  });

  it('a d-i archive that does not verify fails the run in one line before any build; the stream is untouched', async () => {
    const o = path.join(tmp, 'out-di-bad');
    const r = await runCliCaptured(
      spec,
      ['--config', CONFIG, '--arches', 'amd64', '-u', '--source', `${server.url}/feed/streams/v1/com.ubuntu.cloud:daily:download.json`, '--target', 'force', '--enable-di',
        '--di-archive', `${server.url}/archive`, '--di-keyring', '/usr/share/keyrings/debian-archive-keyring.gpg', o],
      { env },
    );
    expect(r.code).toBe(1);
    const errors = r.stderr.trim().split('\n').filter((l) => l.includes('error'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^meph2-cloudimg-sync: error: d-i archive http:\/\/127\.0\.0\.1:\d+\/archive: cannot crawl the installer for noble\/amd64: .*signature does not verify/);
    expect(existsSync(path.join(o, 'streams'))).toBe(false);
    expect(existsSync(path.join(o, 'noble'))).toBe(false);
  });
});
