/**
 * Publishing to a real Swift (started for this file) is crash-safe and safe with several
 * publishers: SIGKILL after every object written and at random moments leaves the previous
 * stream readable over HTTP by meph's own reader; concurrent publishers never lose versions.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAppProcess } from '@meph/test-support';
import { acquireLease, SwiftStore } from '@meph/publish';
import { startSwift, swiftUnavailable, type SwiftServer } from '@meph/test-support/swift';
import { makeStream, NOBLE, tempDir, throwAwayKey } from './stream-fixture.js';

const unavailable = await swiftUnavailable();
let swift: SwiftServer;
let dir: string;
let key: { home: string; secretKey: string; keyring: string };
let oldStream: string;
let newStream: string;

const baseEnv = { MEPH_SIGNING_KEY: '', MEPH_GPG_KEY: '', MEPH_KEYRING: '' };
const util = (args: string[], extra: NodeJS.ProcessEnv = {}, onSpawn?: (pid: number) => void, crashAfter?: number) =>
  runAppProcess('meph2-util', args, { cwd: dir, env: { ...baseEnv, ...swift.env, ...extra }, ...(onSpawn ? { onSpawn } : {}), ...(crashAfter ? { crashAfter } : {}) });

async function signed(name: string, serials: string[]): Promise<string> {
  const root = path.join(dir, name);
  await makeStream(root, { label: 'candidate', serials, releases: [NOBLE] });
  const r = await util(['sign', '--key', key.secretKey, root]);
  expect(r.code, r.stderr).toBe(0);
  return root;
}

/** The versions a reader sees through one entry point, with meph's own reader over HTTP. */
async function versionsSeen(url: string, signedChain: boolean): Promise<string> {
  const r = await util(['query', ...(signedChain ? ['--keyring', key.keyring] : ['--no-verify']), '-o', '%(version_name)s', url, 'item_name=squashfs']);
  expect(r.code, `query ${url}: ${r.stderr}`).toBe(0);
  return [...new Set(r.stdout.trim().split('\n'))].sort().join(',');
}

/**
 * What a reader must find after any crash: both entry points (index.sjson, checked with the
 * keyring, and index.json) lead to a whole stream, old or new, every file of it present with
 * the right size and checksums. Returns verify's findings for the caller to judge.
 */
async function assertReadable(url: string, allowed: string[]): Promise<string[]> {
  expect(allowed).toContain(await versionsSeen(url, true));
  expect(allowed).toContain(await versionsSeen(url, false));
  const v = await util(['verify', '--data', '--json', '--keyring', key.keyring, url]);
  const events = v.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const findings = events.filter((e) => e['type'] === 'finding' && e['severity'] !== 'warning');
  // No data finding ever: every file a reader can reach is there and intact.
  expect(findings.filter((f) => f['check'] === 'data')).toEqual([]);
  return findings.map((f) => `${String(f['file'])}: ${String(f['message'])}`);
}

async function publishedUrl(prefix: string): Promise<string> {
  return `${swift.storageUrl}/crash/${prefix}/`;
}

describe.skipIf(unavailable !== undefined)('publish to Swift: crashes and concurrent publishers', () => {
  beforeAll(async () => {
    dir = await tempDir('meph-publish-crash-');
    key = await throwAwayKey(dir);
    swift = await startSwift();
    oldStream = await signed('old', ['20260101']);
    // The index only differs between the two streams by its `updated` time (whole seconds):
    // sign the new one in a later second, or its index.json would be identical and skipped.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    newStream = await signed('new', ['20260101', '20260102']);
  }, 180_000);
  afterAll(async () => {
    await swift?.stop();
    spawnSync('gpgconf', ['--kill', 'all'], { env: { ...process.env, GNUPGHOME: key?.home } });
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('SIGKILL after every object written: the previous stream stays readable, a rerun completes', async () => {
    const OLD = '20260101';
    const NEW = '20260101,20260102';
    // An uninterrupted run tells how many objects a publish of the new stream writes.
    const ref = await util(['publish', '--json', '--public-read', '--keyring', key.keyring, oldStream, 'swift://crash/ref']);
    expect(ref.code, ref.stderr).toBe(0);
    const full = await util(['publish', '--json', '--keyring', key.keyring, newStream, 'swift://crash/ref']);
    expect(full.code, full.stderr).toBe(0);
    const writes = full.stdout.split('\n').filter((l) => l.includes('"type":"object-uploaded"')).length;
    expect(writes).toBe(6 + 6); // 6 new data files, then products, its 2 signatures, the index, its 2 signatures

    const twinWindows: string[] = [];
    // After the first and the last data object, after every metadata object, and one past the end.
    for (const n of [1, 6, 7, 8, 9, 10, 11, 12, 13]) {
      const prefix = `k${n}`;
      expect((await util(['publish', '--keyring', key.keyring, oldStream, `swift://crash/${prefix}`])).code).toBe(0);
      const r = await util(['publish', '--keyring', key.keyring, newStream, `swift://crash/${prefix}`], {}, undefined, n);
      const url = await publishedUrl(prefix);
      if (n > writes) {
        expect(r.code, r.stderr).toBe(0);
        expect(await assertReadable(url, [NEW])).toEqual([]);
        break;
      }
      expect(r.signal).toBe('SIGKILL');
      const findings = await assertReadable(url, [OLD, NEW]);
      if (n <= 6) expect(findings, `killed after data object ${n}`).toEqual([]); // data phase: the old stream verifies as before
      // While metadata is written, a document and its signature are two objects: for a moment they differ.
      for (const f of findings) {
        expect(f).toMatch(/says something else than|signature|lists product/);
        twinWindows.push(`${n}: ${f}`);
      }
      // The killed publisher's lease (same host, dead pid) is broken and the rerun completes.
      const rerun = await util(['publish', '--keyring', key.keyring, newStream, `swift://crash/${prefix}`]);
      expect(rerun.code, rerun.stderr).toBe(0);
      expect(rerun.stderr).toMatch(/broke a stale publishing lease \(its process is gone\)|uploaded 0 data object/);
      expect(await assertReadable(url, [NEW])).toEqual([]);
    }
    // The windows exist only after products/index JSON were written and before their signatures.
    expect(twinWindows.every((w) => Number(w.split(':')[0]) > 6)).toBe(true);
  }, 900_000);

  it('SIGKILL at random moments: the store always reads, old or new', async () => {
    for (let i = 0; i < 4; i++) {
      const prefix = `r${i}`;
      expect((await util(['publish', '--keyring', key.keyring, oldStream, `swift://crash/${prefix}`])).code).toBe(0);
      let pid = 0;
      const running = util(['publish', '--keyring', key.keyring, newStream, `swift://crash/${prefix}`], {}, (p) => (pid = p));
      await new Promise((r) => setTimeout(r, 1500 + Math.floor(Math.random() * 4000)));
      try {
        if (pid) process.kill(pid, 'SIGKILL');
      } catch {
        /* it had already finished */
      }
      await running;
      const url = await publishedUrl(prefix);
      await assertReadable(url, ['20260101', '20260101,20260102']);
      const rerun = await util(['publish', '--keyring', key.keyring, newStream, `swift://crash/${prefix}`]);
      expect(rerun.code, rerun.stderr).toBe(0);
      expect(await assertReadable(url, ['20260101,20260102'])).toEqual([]);
    }
  }, 600_000);

  it('two publishers at once: both land, or one fails clearly and lands after taking the other in', async () => {
    expect((await util(['publish', '--keyring', key.keyring, oldStream, 'swift://crash/both'])).code).toBe(0);
    const a = await signed('host-a', ['20260101', '20260105']);
    const b = await signed('host-b', ['20260101', '20260106']);
    const [ra, rb] = await Promise.all([
      util(['publish', '--keyring', key.keyring, a, 'swift://crash/both']),
      util(['publish', '--keyring', key.keyring, b, 'swift://crash/both']),
    ]);
    const url = await publishedUrl('both');
    const results = [ra, rb];
    expect(results.filter((r) => r.code === 0).length).toBeGreaterThanOrEqual(1);
    for (const r of results.filter((x) => x.code !== 0)) {
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^meph2-util: error: swift:\/\/crash\/both has \d+ version\(s\) your stream lacks .*(20260105|20260106).*meph2-util insert/m);
    }
    const landed = await versionsSeen(url, true);
    expect(['20260101,20260105', '20260101,20260106']).toContain(landed);
    // the loser takes the winner's versions in from the published URL and publishes again
    const loser = ra.code === 0 ? b : a;
    if (results.some((r) => r.code !== 0)) {
      const ins = await util(['insert', '--keyring', key.keyring, '--key', key.secretKey, url, loser]);
      expect(ins.code, ins.stderr).toBe(0);
      const again = await util(['publish', '--keyring', key.keyring, loser, 'swift://crash/both']);
      expect(again.code, again.stderr).toBe(0);
    }
    expect(await versionsSeen(url, true)).toBe('20260101,20260105,20260106');
    expect(await assertReadable(url, ['20260101,20260105,20260106'])).toEqual([]);
  }, 300_000);

  it('the lease serialises writers even though Swift does not make If-None-Match atomic', async () => {
    const stores = Array.from({ length: 4 }, () => new SwiftStore('crash', 'lease-test', swift.env, { concurrency: 2 }));
    const spans: [number, number][] = [];
    await Promise.all(
      stores.map(async (store) => {
        for (let i = 0; i < 2; i++) {
          const lease = await acquireLease(store, { settleMs: 300, waitMs: 120_000 });
          const start = Date.now();
          await lease.check();
          await new Promise((r) => setTimeout(r, 200));
          await lease.check();
          spans.push([start, Date.now()]);
          await lease.release();
        }
      }),
    );
    await Promise.all(stores.map((s) => s.close()));
    spans.sort((x, y) => x[0] - y[0]);
    expect(spans).toHaveLength(8);
    for (let i = 1; i < spans.length; i++) expect(spans[i]![0]).toBeGreaterThanOrEqual(spans[i - 1]![1]);
  }, 300_000);
});
