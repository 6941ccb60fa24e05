import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFixtureProxy, startFixtureServer, startTlsFrontend, type FixtureServer } from '../../../tools/fixture-server/index.js';
import { createHttpClient, isNotFound, type HttpClientOptions } from './client.js';
import { SyncBatch } from './sync-batch.js';
import {
  ChecksumMismatchError, ConnectionError, HttpConfigError, HttpStatusError, HttpTimeoutError, ProxyError, RedirectError, SizeMismatchError,
  TooLargeError, TruncatedBodyError,
} from './errors.js';
import { httpSettingsFromEnv } from './env.js';

let tmp: string;
let server: FixtureServer;
const noSleep = async (): Promise<void> => {};
/** No retries or waits; default timeouts, so a loaded machine cannot fail a good transfer. */
const quick: HttpClientOptions = { retries: 0, sleep: noSleep, env: {} };
/** Short limits so hostile-server tests finish in well under a second. */
const fast: HttpClientOptions = { ...quick, timeouts: { connectMs: 300, headersMs: 300, idleMs: 200 } };
const body = Buffer.from(Array.from({ length: 3000 }, (_, i) => `line ${i}\n`).join(''));
const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'meph-http-'));
  await writeFile(path.join(tmp, 'doc.json'), JSON.stringify({ hello: 'world' }));
  await writeFile(path.join(tmp, 'data.bin'), body);
  await mkdir(path.join(tmp, 'sub'));
  server = await startFixtureServer({ root: tmp });
});
afterAll(async () => {
  await server?.close();
  await rm(tmp, { recursive: true, force: true });
});

/** A raw TCP server: `onConnection` decides what (not) to send. */
async function rawServer(onConnection: (s: net.Socket) => void): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const srv = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.once('data', () => onConnection(s));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      srv.close(() => r());
    }),
  };
}

async function timed<T>(p: Promise<T>): Promise<{ ms: number; err: unknown }> {
  const t0 = Date.now();
  const err = await p.then(() => undefined, (e: unknown) => e);
  return { ms: Date.now() - t0, err };
}

describe('hostile servers: bounded time and memory, one clear error naming the URL', () => {
  it('a server trickling 1 byte every 20 ms fails at the body-progress limit, not never', async () => {
    server.setFaults([{ match: '/data.bin', trickleMs: 20 }]);
    try {
      const client = createHttpClient(fast);
      const { ms, err } = await timed(client.getText(`${server.url}/data.bin`));
      expect(err).toBeInstanceOf(HttpTimeoutError);
      expect(err).toMatchObject({ phase: 'body', url: `${server.url}/data.bin` });
      expect((err as Error).message).toMatch(new RegExp(`^${server.url}/data.bin: timed out: the body stalled: only \\d+ bytes in 200 ms`));
      expect(ms).toBeLessThan(2000);
      client.close();
    } finally {
      server.setFaults([]);
    }
  });

  it('a server that never sends headers fails at the headers timeout', async () => {
    server.setFaults([{ match: '/doc.json', hang: true }]);
    try {
      const client = createHttpClient(fast);
      const { ms, err } = await timed(client.getJson(`${server.url}/doc.json`));
      expect(err).toBeInstanceOf(HttpTimeoutError);
      expect((err as Error).message).toBe(`${server.url}/doc.json: timed out: no response headers within 300 ms`);
      expect(ms).toBeGreaterThanOrEqual(290);
      expect(ms).toBeLessThan(2000);
      client.close();
    } finally {
      server.setFaults([]);
    }
  });

  it('a connection that cannot be made in time fails at the connect timeout (through a proxy that never answers CONNECT)', async () => {
    const silent = await rawServer(() => {});
    try {
      const client = createHttpClient({ ...fast, env: { https_proxy: silent.url } });
      const { ms, err } = await timed(client.getText('https://archive.fixture.invalid/x'));
      expect(err).toBeInstanceOf(HttpTimeoutError);
      expect((err as Error).message).toBe('https://archive.fixture.invalid/x: timed out: no connection within 300 ms');
      expect(ms).toBeLessThan(2000);
    } finally {
      await silent.close();
    }
  });

  it('Content-Length: 10^13 on a document is refused before reading; the bytes read stay small', async () => {
    server.setFaults([{ match: '/doc.json', contentLength: 1e13 }]);
    try {
      const client = createHttpClient({ ...quick, maxDocumentBytes: 1 << 20 });
      const before = process.memoryUsage().rss;
      const { ms, err } = await timed(client.getText(`${server.url}/doc.json`));
      expect(err).toBeInstanceOf(TooLargeError);
      expect((err as Error).message).toBe(`${server.url}/doc.json: refusing a body of 10000000000000 bytes (the limit for this document is 1048576 bytes)`);
      expect(ms).toBeLessThan(1000);
      expect(process.memoryUsage().rss - before).toBeLessThan(100 << 20);
      // a per-call cap, and a body without Content-Length that grows past it
      await expect(client.getText(`${server.url}/data.bin`, { maxBytes: 100 })).rejects.toThrow(TooLargeError);
      client.close();
    } finally {
      server.setFaults([]);
    }
  });

  it('a truncated body is a TruncatedBodyError (retried, then given up with the count)', async () => {
    server.setFaults([{ match: '/data.bin', drop: 'body' }]);
    try {
      const client = createHttpClient({ ...quick, retries: 2 });
      const err = await client.getText(`${server.url}/data.bin`).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TruncatedBodyError);
      expect((err as Error).message).toMatch(new RegExp(`^${server.url}/data.bin: connection closed after \\d+ of ${body.length} bytes \\(gave up after 3 attempts\\)$`));
      expect(client.stats).toEqual({ requests: 3, retries: 2 });
      // once the fault is gone the same call succeeds
      server.setFaults([{ match: '/data.bin', drop: 'body', times: 1 }]);
      expect(await client.getText(`${server.url}/data.bin`)).toBe(body.toString());
      client.close();
    } finally {
      server.setFaults([]);
    }
  });

  it('an aborted signal stops a request waiting for headers at once', async () => {
    server.setFaults([{ match: '/doc.json', hang: true }]);
    try {
      const client = createHttpClient({ ...fast, timeouts: { headersMs: 60_000 } });
      const ac = new AbortController();
      setTimeout(() => ac.abort(new Error('stop')), 50);
      const { ms, err } = await timed(client.getText(`${server.url}/doc.json`, { signal: ac.signal }));
      expect((err as Error).message).toBe('stop');
      expect(ms).toBeLessThan(1000);
      client.close();
    } finally {
      server.setFaults([]);
    }
  });
});

describe('statuses, retries, redirects', () => {
  it('retries 503 with exponential backoff, then succeeds; 404 is not retried', async () => {
    server.setFaults([{ match: '/doc.json', status: 503, times: 2 }]);
    const delays: number[] = [];
    const events: unknown[] = [];
    try {
      const client = createHttpClient({ env: {}, backoffMs: 100, random: () => 0.5, sleep: async (ms) => void delays.push(ms), onEvent: (e) => events.push(e) });
      expect(await client.getJson(`${server.url}/doc.json`)).toEqual({ hello: 'world' });
      expect(delays).toEqual([100, 200]);
      expect(events[0]).toEqual({ type: 'http-retry', url: `${server.url}/doc.json`, attempt: 1, reason: 'HTTP 503', delayMs: 100 });
      const missing = await client.getText(`${server.url}/nothing`).catch((e: unknown) => e);
      expect(isNotFound(missing)).toBe(true);
      expect((missing as Error).message).toBe(`${server.url}/nothing: HTTP 404 Not Found`);
      expect(client.stats.retries).toBe(2);
      client.close();
    } finally {
      server.setFaults([]);
    }
  });

  it('gives up after the configured attempts naming the status', async () => {
    server.setFaults([{ match: '/doc.json', status: 500 }]);
    try {
      const client = createHttpClient({ env: { MEPH_HTTP_RETRIES: '2' }, sleep: noSleep });
      await expect(client.getText(`${server.url}/doc.json`)).rejects.toThrow(new HttpStatusError(`${server.url}/doc.json`, 500, 'Internal Server Error', 3));
      expect((await client.getText(`${server.url}/doc.json`).catch((e: Error) => e.message))).toBe(`${server.url}/doc.json: HTTP 500 Internal Server Error (gave up after 3 attempts)`);
      client.close();
    } finally {
      server.setFaults([]);
    }
  });

  it('follows redirects (the fixture server redirects directories), refuses https → http', async () => {
    const client = createHttpClient({ ...quick });
    const r = await client.open(`${server.url}/sub`);
    r.body.resume();
    expect(r.url).toBe(`${server.url}/sub/`);
    const redirector = http.createServer((_req, res) => res.writeHead(302, { location: 'http://127.0.0.1:1/x' }).end());
    await new Promise<void>((res) => redirector.listen(0, '127.0.0.1', () => res()));
    try {
      const tls = await startTlsFrontend((redirector.address() as AddressInfo).port, 'localhost');
      try {
        const secure = createHttpClient({ ...quick, tls: { ca: tls.cert } });
        await expect(secure.getText(`https://localhost:${tls.port}/y`)).rejects.toThrow(new RedirectError(`https://localhost:${tls.port}/y`, 'refusing a redirect from https to http://127.0.0.1:1/x'));
        secure.close();
      } finally {
        await tls.close();
      }
    } finally {
      redirector.close();
      client.close();
    }
  });

  it('an unreachable server is a ConnectionError naming the code', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const client = createHttpClient(quick);
    await expect(client.getText(`http://127.0.0.1:${port}/x`)).rejects.toThrow(new ConnectionError(`http://127.0.0.1:${port}/x`, 'ECONNREFUSED'));
    const viaDeadProxy = createHttpClient({ ...quick, env: { https_proxy: `http://127.0.0.1:${port}` } });
    await expect(viaDeadProxy.getText('https://archive.fixture.invalid/x')).rejects.toThrow(`https://archive.fixture.invalid/x: cannot fetch: ECONNREFUSED (through proxy http://127.0.0.1:${port})`);
  });
});

describe('open() with resume', () => {
  it('continues a body that broke off with a Range request (If-Range on the ETag)', async () => {
    server.setFaults([{ match: '/data.bin', drop: 'body', times: 1 }]);
    const before = server.requests.length;
    try {
      const client = createHttpClient({ ...quick, retries: 2 });
      const r = await client.open(`${server.url}/data.bin`, { resume: true });
      const chunks: Buffer[] = [];
      for await (const c of r.body) chunks.push(c as Buffer);
      expect(Buffer.concat(chunks)).toEqual(body);
      expect(server.requests.slice(before).map((q) => q.status)).toEqual([200, 206]);
      // without resume the same break is the caller's error
      server.setFaults([{ match: '/data.bin', drop: 'body', times: 1 }]);
      const plain = await client.open(`${server.url}/data.bin`);
      await expect((async () => { for await (const _ of plain.body); })()).rejects.toThrow(TruncatedBodyError);
      client.close();
    } finally {
      server.setFaults([]);
    }
  });
});

describe('per-host limit', () => {
  it('holds a slot until the body is consumed, never more than concurrencyPerHost', async () => {
    let inFlight = 0;
    let max = 0;
    const srv = http.createServer((req, res) => {
      inFlight++;
      max = Math.max(max, inFlight);
      res.writeHead(200, { 'content-length': 4 });
      res.write('ab');
      setTimeout(() => {
        inFlight--; // before the last bytes leave: the client cannot have finished yet
        res.end('cd');
      }, req.url?.startsWith('/hold') ? 2000 : 30);
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
    try {
      const client = createHttpClient({ ...quick, concurrencyPerHost: 3 });
      const texts = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? client.getText(`${url}/${i}`) : client.head(`${url}/${i}`).then(() => 'abcd'))));
      expect(texts).toEqual(Array(12).fill('abcd'));
      expect(max).toBe(3);
      // open(): the slot is held until the body has arrived or the caller destroys it
      const first = await client.open(`${url}/hold/a`);
      const second = await client.open(`${url}/hold/b`);
      const third = await client.open(`${url}/hold/c`);
      let fourthOpened = false;
      const fourth = client.open(`${url}/d`).then((r) => ((fourthOpened = true), r));
      await new Promise((r) => setTimeout(r, 100));
      expect(fourthOpened).toBe(false);
      first.body.destroy();
      const r4 = await fourth;
      for (const r of [second, third, r4]) r.body.destroy();
      client.close();
    } finally {
      srv.closeAllConnections();
      srv.close();
    }
  });
});

describe('proxies (http_proxy absolute URIs, https_proxy CONNECT, no_proxy)', () => {
  it('sends http through http_proxy and https through a CONNECT tunnel, verifying the certificate; no_proxy goes direct', async () => {
    const proxy = await startFixtureProxy({ allowConnect: /^archive\.fixture\.invalid:/ });
    const tls = await startTlsFrontend(server.port);
    try {
      const viaProxy = createHttpClient({ ...quick, env: { http_proxy: proxy.url, https_proxy: proxy.url, no_proxy: 'localhost,.example.org' }, tls: { ca: tls.cert } });
      expect(await viaProxy.getJson(`http://mirror.fixture.invalid:${server.port}/doc.json`)).toEqual({ hello: 'world' });
      expect(proxy.requests).toEqual([`http://mirror.fixture.invalid:${server.port}/doc.json`]);
      expect(await viaProxy.getJson(`https://archive.fixture.invalid:${tls.port}/doc.json`)).toEqual({ hello: 'world' });
      expect(proxy.tunnels).toEqual([`archive.fixture.invalid:${tls.port}`]);
      // downloads go the same way
      const dest = path.join(tmp, 'via-proxy', 'data.bin');
      await viaProxy.download(`https://archive.fixture.invalid:${tls.port}/data.bin`, dest, { size: body.length, checksums: { sha256: sha256(body) } });
      expect(await readFile(dest)).toEqual(body);
      viaProxy.close();
      // a refused tunnel is a ProxyError; an untrusted certificate is refused
      const strict = createHttpClient({ ...quick, env: { https_proxy: proxy.url } });
      await expect(strict.getText(`https://other.fixture.invalid:${tls.port}/x`)).rejects.toThrow(new ProxyError(proxy.url, `CONNECT other.fixture.invalid:${tls.port} refused: HTTP 403`));
      await expect(strict.getText(`https://archive.fixture.invalid:${tls.port}/doc.json`)).rejects.toThrow(/self-signed certificate/);
      // no_proxy: 127.0.0.1 goes direct
      const n = proxy.requests.length + proxy.tunnels.length;
      const direct = createHttpClient({ ...quick, env: { http_proxy: proxy.url, no_proxy: '127.0.0.1' } });
      expect(await direct.getJson(`${server.url}/doc.json`)).toEqual({ hello: 'world' });
      expect(proxy.requests.length + proxy.tunnels.length).toBe(n);
      direct.close();
    } finally {
      await tls.close();
      await proxy.close();
    }
  });
});

describe('download: streamed to disk, hashed, verified, resumed', () => {
  it('verifies size and every checksum before the file appears; a mismatch leaves nothing', async () => {
    const client = createHttpClient(quick);
    const dest = path.join(tmp, 'dl', 'a.bin');
    const md5 = createHash('md5').update(body).digest('hex');
    const progress: number[] = [];
    const r = await client.download(`${server.url}/data.bin`, dest, { size: body.length, checksums: { sha256: sha256(body), md5 }, onProgress: (p) => progress.push(p.received) });
    expect(r.digest).toEqual({ size: body.length, sha256: sha256(body), md5 });
    expect(progress.at(-1)).toBe(body.length);
    const bad = path.join(tmp, 'dl', 'bad.bin');
    await expect(client.download(`${server.url}/data.bin`, bad, { checksums: { sha256: '0'.repeat(64) } })).rejects.toThrow(ChecksumMismatchError);
    await expect(client.download(`${server.url}/data.bin`, bad, { size: 5 })).rejects.toThrow(new SizeMismatchError(`${server.url}/data.bin`, 5, body.length));
    expect((await readdir(path.join(tmp, 'dl'))).sort()).toEqual(['a.bin']);
    client.close();
  });

  it('resumes from a .part with Range after a dropped connection, and reruns reuse what is there', async () => {
    const dest = path.join(tmp, 'resume', 'data.bin');
    server.setFaults([{ match: '/data.bin', drop: 'body', times: 1 }]);
    const before = server.requests.length;
    try {
      const client = createHttpClient({ ...quick, retries: 1 });
      const r = await client.download(`${server.url}/data.bin`, dest, { size: body.length, checksums: { sha256: sha256(body) } });
      expect(await readFile(dest)).toEqual(body);
      // the retry continues from what reached the disk (bytes still buffered in memory when
      // the connection broke are fetched again)
      expect(server.requests.slice(before).map((q) => q.status)).toEqual(r.resumedFrom > 0 ? [200, 206] : [200, 200]);
      // an interrupted earlier run: a .part holding the first 1000 bytes
      const dest2 = path.join(tmp, 'resume', 'again.bin');
      await writeFile(`${dest2}.part`, body.subarray(0, 1000));
      const r2 = await client.download(`${server.url}/data.bin`, dest2, { size: body.length, checksums: { sha256: sha256(body) } });
      expect(r2.resumedFrom).toBe(1000);
      expect(await readFile(dest2)).toEqual(body);
      // a .part with wrong bytes: the checksum fails, it is thrown away and fetched whole once
      const dest3 = path.join(tmp, 'resume', 'wrong.bin');
      await writeFile(`${dest3}.part`, Buffer.alloc(1000, 0x41));
      const r3 = await client.download(`${server.url}/data.bin`, dest3, { size: body.length, checksums: { sha256: sha256(body) } });
      expect(r3.resumedFrom).toBe(0);
      expect(await readFile(dest3)).toEqual(body);
      await expect(stat(`${dest3}.part`)).rejects.toThrow(/ENOENT/);
      client.close();
    } finally {
      server.setFaults([]);
    }
  });

  it('without resume a failed download leaves no .part', async () => {
    server.setFaults([{ match: '/data.bin', drop: 'body' }]);
    try {
      const client = createHttpClient(quick);
      const dest = path.join(tmp, 'noresume', 'data.bin');
      await expect(client.download(`${server.url}/data.bin`, dest, { resume: false })).rejects.toThrow(TruncatedBodyError);
      expect(await readdir(path.join(tmp, 'noresume'))).toEqual([]);
      client.close();
    } finally {
      server.setFaults([]);
    }
  });
});

describe('download with a SyncBatch (durability deferred to the caller\'s commit)', () => {
  it('renames verified files into place, syncs them in the background, and flush waits for every file and directory', async () => {
    const client = createHttpClient(quick);
    try {
      for (const syncfs of [false, true]) {
        const batch = new SyncBatch({ concurrency: 2, syncfs });
        const dests = [0, 1, 2, 3].map((i) => path.join(tmp, `batched-${syncfs}`, `d${i}`, 'data.bin'));
        await Promise.all(dests.map((d) => client.download(`${server.url}/data.bin`, d, { size: body.length, checksums: { sha256: sha256(body) }, syncBatch: batch })));
        for (const d of dests) expect(await readFile(d)).toEqual(body);
        await batch.flush();
        expect(batch.synced).toBe(4);
      }
      // a file that vanished before its fsync fails the flush: the caller must not commit
      const broken = new SyncBatch({ syncfs: false });
      broken.add(path.join(tmp, 'batched-true', 'no-such-file'));
      await expect(broken.flush()).rejects.toThrow(/ENOENT/);
    } finally {
      client.close();
    }
  });
});

describe('settings from the environment', () => {
  it('MEPH_HTTP_TIMEOUT sets every timeout; bad values are one clear error', () => {
    expect(httpSettingsFromEnv({ MEPH_HTTP_TIMEOUT: '0.2' })).toEqual({ timeouts: { connectMs: 200, headersMs: 200, idleMs: 200 } });
    expect(httpSettingsFromEnv({ MEPH_HTTP_TIMEOUT: '5', MEPH_HTTP_IDLE_TIMEOUT: '300ms', MEPH_HTTP_RETRIES: '0' })).toEqual({ timeouts: { connectMs: 5000, headersMs: 5000, idleMs: 300 }, retries: 0 });
    expect(() => httpSettingsFromEnv({ MEPH_HTTP_TIMEOUT: 'soon' })).toThrow(new HttpConfigError('MEPH_HTTP_TIMEOUT', '"soon" is not a positive duration (seconds, e.g. 30 or 0.5, or 200ms)'));
    expect(() => createHttpClient({ env: { MEPH_HTTP_RETRIES: '-1' } })).toThrow(HttpConfigError);
  });
});

describe('a client-wide signal', () => {
  it('serves many concurrent requests without piling listeners on the caller\'s signal (no MaxListeners warning)', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      const ac = new AbortController();
      const client = createHttpClient({ ...quick, signal: ac.signal, concurrencyPerHost: 30 });
      await Promise.all(Array.from({ length: 30 }, () => client.getText(`${server.url}/data.bin`)));
      await new Promise((r) => setTimeout(r, 20));
      expect(warnings.filter((w) => /MaxListeners|memory leak/i.test(w))).toEqual([]);
      client.close();
    } finally {
      process.off('warning', onWarning);
    }
  });
});

describe('send: PUT, DELETE and other methods with bodies (the Swift store\'s transport)', () => {
  /** An object store in miniature: PUT stores (the first `fail` PUTs of a key answer 503), GET/DELETE as usual. */
  async function objectServer(fail = 0): Promise<{ url: string; objects: Map<string, Buffer>; log: string[]; close(): Promise<void> }> {
    const objects = new Map<string, Buffer>();
    const log: string[] = [];
    const failures = new Map<string, number>();
    const srv = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const key = req.url!;
        log.push(`${req.method} ${key}`);
        const bytes = Buffer.concat(chunks);
        if (req.method === 'PUT') {
          if ((failures.get(key) ?? 0) < fail) {
            failures.set(key, (failures.get(key) ?? 0) + 1);
            res.writeHead(503).end('busy');
            return;
          }
          if (req.headers['if-none-match'] === '*' && objects.has(key)) return void res.writeHead(412).end();
          const md5 = createHash('md5').update(bytes).digest('hex');
          if (req.headers['etag'] && req.headers['etag'] !== md5) return void res.writeHead(422).end('etag mismatch');
          objects.set(key, bytes);
          res.writeHead(201, { etag: md5 }).end();
        } else if (req.method === 'DELETE') {
          res.writeHead(objects.delete(key) ? 204 : 404).end();
        } else if (req.method === 'POST') {
          res.writeHead(503).end();
        } else {
          const b = objects.get(key);
          if (!b) return void res.writeHead(404).end('no such object');
          res.writeHead(200, { 'content-length': String(b.length) }).end(b);
        }
      });
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    return {
      url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`,
      objects, log,
      close: () => new Promise<void>((r) => {
        srv.closeAllConnections();
        srv.close(() => r());
      }),
    };
  }

  it('PUTs bytes and file streams (a fresh stream per attempt after a 503), with ETag; DELETE; every status returned, not thrown', async () => {
    const store = await objectServer(1);
    const client = createHttpClient({ ...quick, retries: 2 });
    try {
      const md5 = createHash('md5').update(body).digest('hex');
      const file = path.join(tmp, 'data.bin');
      let opened = 0;
      const put = await client.send(`${store.url}/c/a`, {
        method: 'PUT', headers: { 'content-length': String(body.length), etag: md5 },
        body: () => {
          opened++;
          return createReadStream(file);
        },
      });
      expect(put.status).toBe(201);
      expect(put.headers.etag).toBe(md5);
      expect(opened).toBe(2);
      expect(store.objects.get('/c/a')).toEqual(body);
      expect(client.stats.retries).toBe(1);
      // create-only: 412 is an answer for the caller, not an error
      const again = await client.send(`${store.url}/c/a`, { method: 'PUT', headers: { 'if-none-match': '*' }, body: Buffer.from('x') });
      expect(again.status).toBe(412);
      // a wrong ETag: the server refuses, the caller sees it
      expect((await client.send(`${store.url}/c/b`, { method: 'PUT', headers: { etag: '0'.repeat(32) }, body: Buffer.from('y') })).status).toBe(422);
      expect((await client.send(`${store.url}/c/a`, { method: 'GET' })).body).toEqual(body);
      expect((await client.send(`${store.url}/c/a`, { method: 'DELETE' })).status).toBe(204);
      const gone = await client.send(`${store.url}/c/a`, { method: 'DELETE' });
      expect(gone.status).toBe(404);
      // a POST is not retried (not idempotent); the 503 is returned after one attempt
      const before = store.log.length;
      expect((await client.send(`${store.url}/c/p`, { method: 'POST', body: Buffer.from('{}') })).status).toBe(503);
      expect(store.log.length - before).toBe(1);
    } finally {
      client.close();
      await store.close();
    }
  });

  it('a PUT that keeps failing returns the last 503 after the configured attempts; it goes through http_proxy', async () => {
    const store = await objectServer(10);
    const proxy = await startFixtureProxy();
    const client = createHttpClient({ ...quick, retries: 2, env: { http_proxy: proxy.url } });
    try {
      const port = new URL(store.url).port;
      const r = await client.send(`http://objects.fixture.invalid:${port}/c/k`, { method: 'PUT', body: Buffer.from('z') });
      expect(r.status).toBe(503);
      expect(store.log.filter((l) => l === 'PUT /c/k')).toHaveLength(3);
      expect(proxy.requests).toContain(`http://objects.fixture.invalid:${port}/c/k`);
    } finally {
      client.close();
      await proxy.close();
      await store.close();
    }
  });

  it('an upload the server stops reading fails at the idle timeout, naming the URL', async () => {
    const srv = await rawServer(() => {}); // reads the first chunk, then never reads or answers
    const client = createHttpClient({ ...fast });
    try {
      const big = Buffer.alloc(64 * 1024 * 1024);
      await expect(client.send(`${srv.url}/c/big`, { method: 'PUT', headers: { 'content-length': String(big.length) }, body: big })).rejects.toThrow(HttpTimeoutError);
    } finally {
      client.close();
      await srv.close();
    }
  });
});

describe('request bodies leave with their headers (small objects are not two writes each)', () => {
  /**
   * A raw HTTP/1.1 server: answers 201 once the headers and Content-Length bytes of a request
   * have arrived, keeping the connection; records each request's bytes.
   */
  async function countingServer(): Promise<{ url: string; port: number; requests: Buffer[]; close(): Promise<void> }> {
    const requests: Buffer[] = [];
    const sockets = new Set<net.Socket>();
    const srv = net.createServer((s) => {
      sockets.add(s);
      s.on('error', () => {});
      let chunks: Buffer[] = [];
      let have = 0;
      let want: number | undefined; // the whole request's length, once its headers are in
      s.on('data', (c: Buffer) => {
        chunks.push(c);
        have += c.length;
        for (;;) {
          if (want === undefined) {
            const head = Buffer.concat(chunks);
            chunks = [head];
            const end = head.indexOf('\r\n\r\n');
            if (end < 0) return;
            want = end + 4 + Number(/\r\ncontent-length: *(\d+)/i.exec(head.subarray(0, end).toString('latin1'))?.[1] ?? 0);
          }
          if (have < want) return;
          const all = Buffer.concat(chunks);
          requests.push(all.subarray(0, want));
          chunks = [all.subarray(want)];
          have -= want;
          want = undefined;
          s.write('HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n');
        }
      });
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const port = (srv.address() as AddressInfo).port;
    return {
      url: `http://127.0.0.1:${port}`, port, requests,
      close: () => new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        srv.close(() => r());
      }),
    };
  }

  /**
   * The writes the client's sockets hand to the kernel (one per _write/_writev call: corked
   * writes are one writev), per socket, in bytes; the server's own sockets are left out by port.
   */
  function watchWrites(port: number): { writes(): number[][]; stop(): void } {
    const proto = net.Socket.prototype as unknown as Record<'_write' | '_writev', (...a: unknown[]) => unknown>;
    const orig = { _write: proto._write, _writev: proto._writev };
    const seen = new Map<net.Socket, number[]>();
    const log = (s: net.Socket, bytes: number): void => void seen.set(s, [...(seen.get(s) ?? []), bytes]);
    proto._write = function (this: net.Socket, chunk: unknown, ...rest: unknown[]) {
      log(this, Buffer.byteLength(chunk as Buffer));
      return orig._write.call(this, chunk, ...rest);
    };
    proto._writev = function (this: net.Socket, chunks: unknown, ...rest: unknown[]) {
      log(this, (chunks as { chunk: Buffer | string }[]).reduce((n, c) => n + Buffer.byteLength(c.chunk), 0));
      return orig._writev.call(this, chunks, ...rest);
    };
    return {
      writes: () => [...seen].filter(([s]) => s.remotePort === port).map(([, w]) => w),
      stop: () => Object.assign(proto, orig),
    };
  }

  it('a small file body (given as a file, or as a stream) goes out with its headers in one write, on new and reused connections', async () => {
    const srv = await countingServer();
    const client = createHttpClient({ ...quick, concurrencyPerHost: 1 });
    const file = path.join(tmp, 'small.bin');
    const bytes = Buffer.alloc(4096, 7);
    await writeFile(file, bytes);
    const watch = watchWrites(srv.port);
    try {
      // no Content-Length given: the client sets it from the file
      expect((await client.send(`${srv.url}/c/1`, { method: 'PUT', body: { file } })).status).toBe(201);
      expect((await client.send(`${srv.url}/c/2`, { method: 'PUT', body: { file, size: bytes.length } })).status).toBe(201);
      expect((await client.send(`${srv.url}/c/3`, { method: 'PUT', headers: { 'content-length': String(bytes.length) }, body: () => createReadStream(file) })).status).toBe(201);
      const writes = watch.writes();
      expect(writes).toHaveLength(1); // one keep-alive connection for the three
      expect(srv.requests).toHaveLength(3);
      // one write per request, each the whole request
      expect(writes[0]).toEqual(srv.requests.map((r) => r.length));
      for (const r of srv.requests) {
        expect(r.toString('latin1')).toMatch(/\r\ncontent-length: 4096\r\n/i);
        expect(r.subarray(r.length - 4096)).toEqual(bytes);
      }
    } finally {
      watch.stop();
      client.close();
      await srv.close();
    }
  });

  it('a file above wholeBodyBytes is streamed, its first chunk in the same write as the headers; the bytes arrive intact', async () => {
    const srv = await countingServer();
    const client = createHttpClient({ ...quick, wholeBodyBytes: 1024 });
    const file = path.join(tmp, 'bigger.bin');
    const bytes = Buffer.alloc(2_600_000);
    for (let i = 0; i < bytes.length; i++) bytes[i] = i % 251;
    await writeFile(file, bytes);
    const watch = watchWrites(srv.port);
    try {
      expect((await client.send(`${srv.url}/c/big`, { method: 'PUT', body: { file } })).status).toBe(201);
      const [req] = srv.requests;
      const headerBytes = req!.indexOf('\r\n\r\n') + 4;
      expect(req!.subarray(headerBytes).equals(bytes)).toBe(true); // not toEqual: element-wise on 2.6 MB is slow
      const [writes] = watch.writes();
      expect(writes!.length).toBeGreaterThan(1); // streamed, not read whole
      expect(writes![0]).toBeGreaterThan(headerBytes);
      expect(writes!.reduce((a, b) => a + b, 0)).toBe(req!.length);
    } finally {
      watch.stop();
      client.close();
      await srv.close();
    }
  });
});
