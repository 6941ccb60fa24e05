import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAppProcess, runCliCaptured } from '@meph/test-support';
import { spec } from '../main.js';
import { startFixtureServer, type FaultRule, type FixtureServer } from '../../../../tools/fixture-server/index.js';
import { makeStream, productsPath, tempDir } from './stream-fixture.js';

// Issue 9 §3: hostile HTTP servers; every failure is one line. The stall cases shorten the
// timeouts with MEPH_HTTP_TIMEOUT (0.5 s) so they fail in well under the 60 s default; the
// others keep the defaults so a loaded machine cannot turn them into timeouts.
const ENV = { MEPH_HTTP_RETRIES: '1', http_proxy: '', https_proxy: '' };
const SHORT = { MEPH_HTTP_TIMEOUT: '0.5' };
const PRODUCTS = `/${productsPath('candidate')}`;
const KERNEL = '/noble/amd64/20260101/ga-24.04/generic/boot-kernel';

let dir: string;
let server: FixtureServer;
beforeAll(async () => {
  dir = await tempDir('meph-hostile-http-');
  await makeStream(path.join(dir, 'srv/stream'), { serials: ['20260101'], fileBytes: 4096 });
  server = await startFixtureServer({ root: path.join(dir, 'srv') });
});
afterAll(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

async function withFaults<T>(faults: FaultRule[], fn: () => Promise<T>): Promise<T> {
  server.setFaults(faults.map((f) => ({ ...f, match: typeof f.match === 'string' ? `/stream${f.match}` : f.match })));
  try {
    return await fn();
  } finally {
    server.setFaults([]);
  }
}

async function util(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string; ms: number }> {
  const t0 = Date.now();
  const r = await runAppProcess('meph2-util', args, { cwd: dir, env: { ...ENV, ...env }, timeoutMs: 60_000 });
  return { ...r, ms: Date.now() - t0 };
}

/** Exit 1, one "meph2-util: error:" line (plus an optional hint line), no stack trace, no "internal error". */
function failsWithOneLine(r: { code: number; stderr: string }, expected: RegExp): void {
  expect(r.stderr).not.toMatch(/internal error|\n\s+at |Unhandled|TypeError/);
  const lines = r.stderr.trim().split('\n').filter((l) => l.startsWith('meph2-util: error:'));
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(expected);
  expect(r.code).toBe(1);
}

describe('query against hostile servers', () => {
  const url = () => `${server.url}/stream/`;

  it('a products file trickling a byte at a time fails at the body-progress limit', async () => {
    const r = await withFaults([{ match: PRODUCTS, trickleMs: 50 }], () => util(['query', url()], SHORT));
    failsWithOneLine(r, /candidate:v3:download\.json: timed out: the body stalled: only \d+ bytes in 500 ms/);
    expect(r.ms).toBeLessThan(15_000);
  });

  it('an index that never gets headers fails at the headers timeout', async () => {
    const r = await withFaults([{ match: '/streams/v1/index.json', hang: true }], () => util(['query', url()], SHORT));
    failsWithOneLine(r, /streams\/v1\/index\.json: timed out: no response headers within 500 ms \(gave up after 2 attempts\)/);
    expect(r.ms).toBeLessThan(15_000);
  });

  it('Content-Length: 10^13 is refused before reading', async () => {
    const r = await withFaults([{ match: PRODUCTS, contentLength: 1e13 }], () => util(['query', url()]));
    failsWithOneLine(r, /download\.json: refusing a body of 10000000000000 bytes \(the limit for this document is \d+ bytes\)/);
    expect(r.ms).toBeLessThan(15_000);
  });

  it('a truncated products file is one clear line, not "internal error: TypeError: terminated"', async () => {
    const r = await withFaults([{ match: PRODUCTS, drop: 'body' }], () => util(['query', url()]));
    failsWithOneLine(r, /download\.json: connection closed after \d+ of \d+ bytes \(gave up after 2 attempts\)/);
  });
});

describe('verify --data against a hostile server', () => {
  it('a data file trickling a byte at a time fails in bounded time, naming the file', async () => {
    const r = await withFaults([{ match: KERNEL, trickleMs: 50 }], () => util(['verify', '--no-verify', '--data', `${server.url}/stream/`], SHORT));
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
    expect(r.stdout + r.stderr).toMatch(/boot-kernel: timed out: the body stalled/);
    expect(r.code).toBe(1);
    expect(r.ms).toBeLessThan(15_000);
  });
});

describe('insert from a truncated http source', () => {
  it('fails with one line, no unhandled error event, and leaves no lock or temp file behind', async () => {
    const target = path.join(dir, 'target');
    const r = await withFaults([{ match: KERNEL, drop: 'body' }], () => util(['insert', '-u', `${server.url}/stream/`, target]));
    failsWithOneLine(r, /boot-kernel: connection closed after \d+ of \d+ bytes/);
    const left = await readdir(target, { recursive: true }).catch(() => [] as string[]);
    expect(left.filter((f) => /\.meph-stream\.lock|\.meph-tmp|\.part$/.test(String(f)))).toEqual([]);
    // once the server behaves, the same insert succeeds
    const ok = await util(['insert', '-u', `${server.url}/stream/`, target]);
    expect(ok.stderr).not.toMatch(/error/);
    expect(ok.code).toBe(0);
  });
});

describe('insert from a source that drops once', () => {
  it('continues the file with a Range request and succeeds', async () => {
    const target = path.join(dir, 'target-resumed');
    const before = server.requests.length;
    const r = await withFaults([{ match: KERNEL, drop: 'body', times: 1 }], () => util(['insert', '-u', `${server.url}/stream/`, target]));
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    expect(server.requests.slice(before).filter((q) => q.path === `/stream${KERNEL}`).map((q) => q.status)).toEqual([200, 206]);
  });
});

describe('--help of commands that fetch', () => {
  it('names the proxy variables and MEPH_HTTP_TIMEOUT', async () => {
    for (const cmd of ['query', 'verify', 'insert']) {
      const r = await runCliCaptured(spec, [cmd, '--help'], { cwd: dir });
      expect(r.stdout.replace(/\s+/g, ' ')).toContain('https_proxy (CONNECT) and no_proxy are honoured');
      expect(r.stdout).toContain('MEPH_HTTP_TIMEOUT=<seconds>');
    }
  });
});
