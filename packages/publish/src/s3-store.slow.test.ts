/**
 * s3:// over @meph/http against a real single-node Swift (s3api) started for this file, through
 * a loopback proxy: http_proxy (absolute-form) for an http:// endpoint, https_proxy (CONNECT)
 * for an https:// one, and no_proxy going direct. The endpoint names (*.fixture.invalid) resolve
 * only inside the proxy, so a request that skipped it could not have succeeded.
 */
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createHttpClient } from '@meph/http';
import { startSwift, swiftUnavailable, type SwiftServer } from '@meph/test-support/swift';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFixtureProxy, startTlsFrontend, type FixtureProxy } from '../../../tools/fixture-server/index.js';
import { CID, makeTestStream } from './__fixtures__/stream.js';
import { openTarget, publishStream, S3Store, StoreError } from './index.js';

const unavailable = await swiftUnavailable();
let swift: SwiftServer;
let dir: string;
let streamDir: string;
let proxy: FixtureProxy;
let token: string;
let swiftPort: string;

async function container(name: string): Promise<void> {
  const res = await fetch(`${swift.storageUrl}/${name}`, { method: 'PUT', headers: { 'X-Auth-Token': token } });
  expect(res.status).toBeLessThan(300);
}

async function objectNames(name: string): Promise<string[]> {
  const res = await fetch(`${swift.storageUrl}/${name}?format=json`, { headers: { 'X-Auth-Token': token } });
  return ((await res.json()) as { name: string }[]).map((o) => o.name).sort();
}

const published = [`noble/amd64/20260101/boot-kernel`, `noble/amd64/20260101/root.squashfs`, `streams/v1/${CID}.json`, 'streams/v1/index.json'];

describe.skipIf(unavailable !== undefined)('s3:// honours http_proxy, https_proxy and no_proxy (real Swift s3api)', () => {
  beforeAll(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'meph-s3-proxy-'));
    streamDir = await makeTestStream(path.join(dir, 'stream'), ['20260101']);
    swift = await startSwift();
    swiftPort = new URL(swift.s3Endpoint).port;
    const auth = await fetch(swift.authUrl, { headers: { 'X-Auth-User': swift.user, 'X-Auth-Key': swift.key } });
    token = auth.headers.get('x-auth-token')!;
    proxy = await startFixtureProxy();
  }, 180_000);
  afterAll(async () => {
    await proxy?.close();
    await swift?.stop();
    if (dir) await fsp.rm(dir, { recursive: true, force: true });
  });

  it('http:// endpoint with http_proxy: every request of a publish goes through the proxy (absolute-form)', async () => {
    await container('viaproxy');
    proxy.requests.length = 0;
    const endpoint = `http://s3.fixture.invalid:${swiftPort}`;
    const env = { ...swift.env, AWS_ENDPOINT_URL_S3: endpoint, AWS_ENDPOINT_URL: '', http_proxy: proxy.url, no_proxy: '' };
    const store = openTarget('s3://viaproxy/pub', { env });
    try {
      const r = await publishStream({ store, streamDir, jobs: 4 });
      expect(r.uploaded).toHaveLength(2);
    } finally {
      await store.close();
    }
    expect(await objectNames('viaproxy')).toEqual(published.map((k) => `pub/${k}`));
    expect(proxy.requests.every((u) => u.startsWith(`${endpoint}/viaproxy`))).toBe(true);
    const paths = proxy.requests.map((u) => u.replace(/\?.*$/, ''));
    for (const k of published) expect(paths).toContain(`${endpoint}/viaproxy/pub/${k.split('/').map(encodeURIComponent).join('/')}`);
    expect(proxy.requests.some((u) => /[?&]list-type=2/.test(u))).toBe(true);
  });

  it('https:// endpoint with https_proxy: the requests go through a CONNECT tunnel', async () => {
    await container('tunnelled');
    const tls = await startTlsFrontend(Number(swiftPort), 's3.fixture.invalid');
    proxy.requests.length = 0;
    proxy.tunnels.length = 0;
    try {
      const env = { ...swift.env, AWS_ENDPOINT_URL_S3: `https://s3.fixture.invalid:${tls.port}`, AWS_ENDPOINT_URL: '', https_proxy: proxy.url, http_proxy: '', no_proxy: '' };
      const store = new S3Store('tunnelled', '', env, { http: createHttpClient({ env, tls: { ca: tls.cert } }) });
      try {
        const r = await publishStream({ store, streamDir, jobs: 4 });
        expect(r.uploaded).toHaveLength(2);
        expect((await store.get('streams/v1/index.json'))?.toString()).toContain(CID);
      } finally {
        await store.close();
      }
    } finally {
      await tls.close();
    }
    expect(await objectNames('tunnelled')).toEqual(published);
    expect(proxy.tunnels.length).toBeGreaterThan(0);
    expect(new Set(proxy.tunnels)).toEqual(new Set([`s3.fixture.invalid:${tls.port}`]));
    expect(proxy.requests).toEqual([]);
  });

  it('no_proxy lists the endpoint: requests go direct; without it a dead proxy fails with one clear StoreError', async () => {
    await container('direct');
    proxy.requests.length = 0;
    proxy.tunnels.length = 0;
    const env = { ...swift.env, http_proxy: proxy.url, no_proxy: '127.0.0.1' };
    const store = openTarget('s3://direct', { env });
    try {
      expect((await publishStream({ store, streamDir, jobs: 4 })).uploaded).toHaveLength(2);
    } finally {
      await store.close();
    }
    expect(await objectNames('direct')).toEqual(published);
    expect([proxy.requests, proxy.tunnels]).toEqual([[], []]);

    const dead = new S3Store('direct', '', { ...swift.env, http_proxy: 'http://127.0.0.1:9', no_proxy: '' }, { http: createHttpClient({ env: { http_proxy: 'http://127.0.0.1:9' }, retries: 0 }) });
    try {
      const err = await dead.open().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreError);
      expect((err as Error).message).toMatch(/^s3:\/\/direct: HeadBucket: .*ECONNREFUSED \(through proxy http:\/\/127\.0\.0\.1:9\)/);
    } finally {
      await dead.close();
    }
  });

  it('one retry layer: the transport retries a 503 (MEPH_HTTP_RETRIES), the SDK does not retry again', async () => {
    await container('flaky');
    // A reverse proxy in front of Swift that answers the first `failures` PUTs with 503.
    let failures = 0;
    let puts = 0;
    const front = http.createServer((req, res) => {
      if (req.method === 'PUT' && (puts++, failures > 0)) {
        failures--;
        req.resume();
        res.writeHead(503, { 'content-type': 'application/xml' }).end('<?xml version="1.0"?><Error><Code>ServiceUnavailable</Code><Message>try later</Message></Error>');
        return;
      }
      const up = http.request({ host: '127.0.0.1', port: Number(swiftPort), path: req.url, method: req.method, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      up.on('error', () => res.destroy());
      req.pipe(up);
    });
    await new Promise<void>((r) => front.listen(0, '127.0.0.1', () => r()));
    const endpoint = `http://127.0.0.1:${(front.address() as net.AddressInfo).port}`;
    const bytes = Buffer.from('retried\n');
    const body = { bytes, size: bytes.length, md5: createHash('md5').update(bytes).digest('hex') };
    try {
      const env = (retries: string): NodeJS.ProcessEnv => ({ ...swift.env, AWS_ENDPOINT_URL_S3: endpoint, AWS_ENDPOINT_URL: '', MEPH_HTTP_RETRIES: retries, http_proxy: '', no_proxy: '' });
      failures = 2;
      puts = 0;
      const store = new S3Store('flaky', '', env('2'));
      try {
        await store.put('a', body);
      } finally {
        await store.close();
      }
      expect(puts).toBe(3);
      expect(await objectNames('flaky')).toEqual(['a']);

      failures = 1;
      puts = 0;
      const once = new S3Store('flaky', '', env('0'));
      try {
        const err = await once.put('b', body).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(StoreError);
        expect((err as Error).message).toBe('s3://flaky: b: PutObject: ServiceUnavailable (HTTP 503): try later');
      } finally {
        await once.close();
      }
      expect(puts).toBe(1);
    } finally {
      await new Promise<void>((r) => front.close(() => r()));
    }
  });
});
