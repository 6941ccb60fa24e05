import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, readdirSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SourceChecksumError, SourceDownloadError, SourceFormatError } from '../errors.js';
import { acquireSource } from './acquire.js';
import { createHttpClient, HttpTimeoutError } from '@meph/http';
import { useTempDir } from '@meph/test-support';
import { startFixtureProxy, startTlsFrontend } from '../../../../tools/fixture-server/index.js';

const body = randomBytes(3 * 1024 * 1024 + 123);
const sha = createHash('sha256').update(body).digest('hex');
let server: http.Server;
let base: string;
const dir = useTempDir('meph-acquire-');
const requests: Array<{ url: string; range?: string }> = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    requests.push({ url: req.url ?? '', ...(req.headers.range ? { range: req.headers.range } : {}) });
    if (req.url !== '/img/root.tar.xz') {
      res.writeHead(404).end('not found');
      return;
    }
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const etagOk = !req.headers['if-range'] || req.headers['if-range'] === '"v1"';
    if (m && etagOk) {
      const from = Number(m[1]);
      res.writeHead(206, { 'content-length': body.length - from, 'content-range': `bytes ${from}-${body.length - 1}/${body.length}`, etag: '"v1"' });
      res.end(body.subarray(from));
    } else {
      res.writeHead(200, { 'content-length': body.length, etag: '"v1"' });
      res.end(body);
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => server.close());
beforeEach(() => {
  requests.length = 0;
});

describe('acquireSource', () => {
  it('streams a URL into the cache with progress and checksum, then reuses it', async () => {
    const events: unknown[] = [];
    const got = await acquireSource(`${base}/img/root.tar.xz`, { cacheDir: dir.path, sha256: sha, onEvent: (e) => events.push(e) });
    expect(got).toMatchObject({ size: body.length, sha256: sha, cached: false });
    expect(readFileSync(got.file).equals(body)).toBe(true);
    expect(events.at(-1)).toMatchObject({ type: 'progress', step: 'download', done: body.length, total: body.length, unit: 'bytes' });
    const again = await acquireSource(`${base}/img/root.tar.xz`, { cacheDir: dir.path, sha256: sha });
    expect(again).toMatchObject({ file: got.file, cached: true });
    expect(requests).toHaveLength(1);
  });

  it('resumes an interrupted download with a Range request', async () => {
    const first = await acquireSource(`${base}/img/root.tar.xz`, { cacheDir: dir.path });
    // simulate a crash mid-transfer: only the first MiB arrived, the meta says incomplete
    rmSync(first.file);
    writeFileSync(`${first.file}.part`, body.subarray(0, 1024 * 1024));
    writeFileSync(`${first.file}.meta.json`, JSON.stringify({ etag: '"v1"', complete: false }));
    requests.length = 0;
    const got = await acquireSource(`${base}/img/root.tar.xz`, { cacheDir: dir.path, sha256: sha });
    expect(requests).toEqual([{ url: '/img/root.tar.xz', range: 'bytes=1048576-' }]);
    expect(got.sha256).toBe(sha);
    expect(readFileSync(got.file).equals(body)).toBe(true);
    expect(existsSync(`${got.file}.part`)).toBe(false);
  });

  it('a 404 is a SourceDownloadError naming the URL', async () => {
    const err = await acquireSource(`${base}/img/missing.tar.xz`, { cacheDir: dir.path }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceDownloadError);
    expect((err as SourceDownloadError).status).toBe(404);
    expect((err as Error).message).toContain(`${base}/img/missing.tar.xz`);
  });

  it('a checksum mismatch is refused and nothing is left in the cache as complete', async () => {
    const err = await acquireSource(`${base}/img/root.tar.xz`, { cacheDir: dir.path, sha256: '0'.repeat(64) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceChecksumError);
    const again = await acquireSource(`${base}/img/root.tar.xz`, { cacheDir: dir.path });
    expect(again.cached).toBe(false);
  });

  it('uses a local file in place and names a missing one', async () => {
    const f = path.join(dir.path, 'local.img');
    writeFileSync(f, body);
    await expect(acquireSource(f, { cacheDir: dir.path, sha256: sha })).resolves.toMatchObject({ file: f, size: body.length });
    await expect(acquireSource(path.join(dir.path, 'nope.img'), { cacheDir: dir.path })).rejects.toBeInstanceOf(SourceFormatError);
  });
});

describe('acquireSource through proxies and against stalls', () => {
  it('downloads through https_proxy (CONNECT) and http_proxy; no_proxy goes direct', async () => {
    const proxy = await startFixtureProxy();
    const port = (server.address() as AddressInfo).port;
    const tls = await startTlsFrontend(port, 'images.fixture.invalid');
    try {
      const http = createHttpClient({ env: { https_proxy: proxy.url, http_proxy: proxy.url, no_proxy: '127.0.0.1' }, tls: { ca: tls.cert } });
      const secure = await acquireSource(`https://images.fixture.invalid:${tls.port}/img/root.tar.xz`, { cacheDir: dir.path, sha256: sha, http });
      expect(readFileSync(secure.file).equals(body)).toBe(true);
      expect(proxy.tunnels).toEqual([`images.fixture.invalid:${tls.port}`]);
      const plain = await acquireSource(`http://images.fixture.invalid:${port}/img/root.tar.xz`, { cacheDir: dir.path, sha256: sha, http });
      expect(plain.sha256).toBe(sha);
      expect(proxy.requests).toEqual([`http://images.fixture.invalid:${port}/img/root.tar.xz`]);
      await acquireSource(`${base}/img/root.tar.xz`, { cacheDir: dir.path, sha256: sha, http });
      expect(proxy.requests).toHaveLength(1);
      http.close();
    } finally {
      await tls.close();
      await proxy.close();
    }
  });

  it('a server that stops sending fails at the body-progress timeout, keeping the .part for a resume', async () => {
    const stall = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-length': body.length });
      res.write(body.subarray(0, 1000)); // then nothing
    });
    await new Promise<void>((r) => stall.listen(0, '127.0.0.1', r));
    try {
      const client = createHttpClient({ env: {}, retries: 0, timeouts: { idleMs: 200 } });
      const url = `http://127.0.0.1:${(stall.address() as AddressInfo).port}/img/root.tar.xz`;
      const t0 = Date.now();
      await expect(acquireSource(url, { cacheDir: dir.path, sha256: sha, http: client })).rejects.toThrow(HttpTimeoutError);
      expect(Date.now() - t0).toBeLessThan(3000);
      const part = readdirSync(dir.path).find((f) => f.endsWith('.part'));
      expect(part && statSync(path.join(dir.path, part)).size).toBe(1000);
      client.close();
    } finally {
      stall.closeAllConnections();
      stall.close();
    }
  });
});
