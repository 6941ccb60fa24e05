import { access, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliCaptured } from '@meph/test-support';
import { spec } from '../main.js';
import { startFixtureProxy, startFixtureServer, type FaultRule, type FixtureServer } from '../../../../tools/fixture-server/index.js';
import { assertStreamIntact, JAMMY, listFiles, makeStream, NOBLE, tempDir } from './stream-fixture.js';

// Issue 13: the mirror against the loopback fixture server (latency, 5xx, drops, corruption).
const ENV = { http_proxy: '', https_proxy: '', MEPH_HTTP_RETRIES: '3', MEPH_HTTP_TIMEOUT: '5' };
const KERNEL = 'noble/amd64/20260102/ga-24.04/generic/boot-kernel';

let dir: string;
let server: FixtureServer;
let n = 0;
const dataPaths = new Set<string>();
beforeAll(async () => {
  dir = await tempDir('meph-mirror-http-');
  const doc = await makeStream(path.join(dir, 'srv/stream'), { serials: ['20260101', '20260102'], releases: [NOBLE, JAMMY], fileBytes: 300_000 });
  for (const p of Object.values(doc.products)) for (const v of Object.values(p.versions)) for (const i of Object.values(v.items)) if (i.path) dataPaths.add(`/stream/${i.path}`);
  server = await startFixtureServer({ root: path.join(dir, 'srv') });
});
afterAll(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

const src = (): string => `${server.url}/stream/`;
const newTarget = (): string => path.join(dir, `out-${++n}`);

async function mirror(args: string[], faults: FaultRule[] = []): Promise<{ code: number; stdout: string; stderr: string; data: typeof server.requests }> {
  server.setFaults(faults.map((f) => ({ ...f, match: typeof f.match === 'string' ? `/stream/${f.match}` : f.match })));
  const before = server.requests.length;
  try {
    const r = await runCliCaptured(spec, ['mirror', ...args], { cwd: dir, env: ENV });
    const data = server.requests.slice(before).filter((q) => !q.path.includes('/streams/v1/'));
    return { ...r, data };
  } finally {
    server.setFaults([]);
  }
}

const events = (stdout: string): Array<Record<string, unknown>> => stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);

describe('meph2-util mirror over HTTP', () => {
  it('mirrors every file once, bounded per host, and a rerun downloads nothing', async () => {
    server.setLatency(20);
    const out = newTarget();
    try {
      const r = await mirror(['--jobs', '8', '--per-host', '3', '--json', src(), out]);
      expect(r.code, r.stderr).toBe(0);
      expect(await assertStreamIntact(out)).toBe(32);
      const gets = r.data.filter((q) => q.method === 'GET');
      expect(gets.length).toBe(new Set(gets.map((q) => q.path)).size);
      expect(new Set(gets.map((q) => q.path))).toEqual(dataPaths);
      expect(server.stats.maxInFlight).toBeLessThanOrEqual(3);
      const ev = events(r.stdout);
      expect(ev.filter((e) => e['type'] === 'mirror-file' && e['state'] === 'downloaded')).toHaveLength(gets.length);
      expect(ev.some((e) => e['type'] === 'progress' && typeof e['bytesPerSecond'] === 'number')).toBe(true);

      const again = await mirror(['--json', src(), out]);
      expect(again.code, again.stderr).toBe(0);
      expect(again.data).toHaveLength(0);
      expect(events(again.stdout).find((e) => e['type'] === 'mirror-done')).toMatchObject({ downloaded: 0, present: 0, removed: [] });
    } finally {
      server.setLatency(0);
    }
  });

  it('fetches each metadata document once and writes the very bytes it parsed', async () => {
    const out = newTarget();
    const before = server.requests.length;
    const r = await mirror([src(), out, 'release=noble']);
    expect(r.code, r.stderr).toBe(0);
    const metadata = server.requests.slice(before).filter((q) => q.method === 'GET' && q.path.includes('/streams/v1/')).map((q) => q.path);
    expect(metadata.length).toBeGreaterThanOrEqual(2);
    expect(metadata).toEqual([...new Set(metadata)]);
    for (const p of metadata) expect((await readFile(path.join(out, p.replace('/stream/', '')))).equals(await readFile(path.join(dir, 'srv', p)))).toBe(true);
  });

  it('retries a 5xx and completes', async () => {
    const out = newTarget();
    const r = await mirror([src(), out, 'release=noble'], [{ match: KERNEL, status: 503, times: 2 }]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.data.filter((q) => q.path.endsWith(KERNEL)).map((q) => q.status)).toEqual([503, 503, 200]);
    await assertStreamIntact(out).catch(() => undefined); // jammy was filtered out: not a full copy
    await access(path.join(out, KERNEL));
  });

  it('a connection dropped half-way is retried (with Range when bytes arrived) and the file completes', async () => {
    const out = newTarget();
    const r = await mirror(['--json', src(), out, 'release=noble'], [{ match: KERNEL, drop: 'body', times: 1 }]);
    expect(r.code, r.stderr).toBe(0);
    const statuses = r.data.filter((q) => q.path.endsWith(KERNEL)).map((q) => q.status);
    expect(statuses).toHaveLength(2);
    // how many bytes reach the client before the cut depends on the scheduler; a Range request follows when some did
    const ev = events(r.stdout).find((e) => e['type'] === 'mirror-file' && e['path'] === KERNEL);
    expect(ev?.['state']).toBe(statuses[1] === 206 ? 'resumed' : 'downloaded');
    const want = await readFile(path.join(dir, 'srv/stream', KERNEL));
    expect((await readFile(path.join(out, KERNEL))).equals(want)).toBe(true);
  });

  it('resumes the .part an interrupted run left, with one Range request', async () => {
    const out = newTarget();
    const want = await readFile(path.join(dir, 'srv/stream', KERNEL));
    await mkdir(path.dirname(path.join(out, KERNEL)), { recursive: true });
    await writeFile(path.join(out, `${KERNEL}.part`), want.subarray(0, 100_000));
    const r = await mirror(['--json', src(), out, 'release=noble'], []);
    expect(r.code, r.stderr).toBe(0);
    expect(r.data.filter((q) => q.path.endsWith(KERNEL)).map((q) => q.status)).toEqual([206]);
    expect(events(r.stdout).find((e) => e['type'] === 'mirror-file' && e['path'] === KERNEL)).toMatchObject({ state: 'resumed', resumedFrom: 100_000 });
    expect((await readFile(path.join(out, KERNEL))).equals(want)).toBe(true);
    await expect(access(path.join(out, `${KERNEL}.part`))).rejects.toThrow();
  });

  it('a rerun re-verifies files an uncommitted run left (renamed in before their batched fsync): bad bytes are fetched again, good ones are kept', async () => {
    // Data is renamed into place unsynced and made durable in one batch before the products are
    // written; after a power loss in between, a file may have its size but not its bytes.
    const out = newTarget();
    const want = await readFile(path.join(dir, 'srv/stream', KERNEL));
    await mkdir(path.dirname(path.join(out, KERNEL)), { recursive: true });
    await writeFile(path.join(out, KERNEL), Buffer.alloc(want.length));
    const other = KERNEL.replace('boot-kernel', 'boot-initrd');
    await writeFile(path.join(out, other), await readFile(path.join(dir, 'srv/stream', other)));
    const r = await mirror(['--json', src(), out, 'release=noble'], []);
    expect(r.code, r.stderr).toBe(0);
    expect(r.data.filter((q) => q.path.endsWith(KERNEL))).toHaveLength(1);
    expect(r.data.filter((q) => q.path.endsWith(other))).toHaveLength(0);
    expect((await readFile(path.join(out, KERNEL))).equals(want)).toBe(true);
  });

  it('refuses corrupted bytes: one line, no file, no metadata', async () => {
    const out = newTarget();
    const r = await mirror([src(), out], [{ match: KERNEL, corrupt: true }]);
    expect(r.code).toBe(1);
    const errors = r.stderr.split('\n').filter((l) => l.startsWith('meph2-util: error:'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/boot-kernel.*(sha256|checksum)/i);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const files = await listFiles(out).catch(() => [] as string[]);
    expect(files.filter((f) => f.endsWith('boot-kernel') && f.includes('20260102/ga-24.04') && f.startsWith('noble/amd64'))).toEqual([]);
    expect(files.filter((f) => f.startsWith('streams/'))).toEqual([]);
  });

  it('goes through http_proxy for metadata and data alike', async () => {
    const proxy = await startFixtureProxy();
    try {
      const out = newTarget();
      // a name only the proxy can resolve: a direct connection would fail
      const url = `http://mirror.fixture.invalid:${server.port}/stream/`;
      const r = await runCliCaptured(spec, ['mirror', url, out, 'release=noble', 'subarch=ga-24.04'], { cwd: dir, env: { ...ENV, http_proxy: proxy.url, no_proxy: '' } });
      expect(r.code, r.stderr).toBe(0);
      expect(proxy.requests).toContain(`${url}streams/v1/index.json`);
      expect(proxy.requests).toContain(`${url}${KERNEL}`);
    } finally {
      await proxy.close();
    }
  });

  it('--dry-run writes nothing and requests no data', async () => {
    const out = newTarget();
    const r = await mirror(['--dry-run', '--max', '1', src(), out, 'arch=amd64']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.data).toHaveLength(0);
    expect(r.stderr).toMatch(/^\+ com\.ubuntu\.maas\.candidate:v3:boot:24\.04:amd64:ga-24\.04 20260102 boot-kernel noble\/amd64\/20260102\/ga-24\.04\/generic\/boot-kernel 0 Mb$/m);
    expect(r.stderr).toMatch(/^2 Mb change$/m);
    await expect(access(out)).rejects.toThrow();
  });
});
