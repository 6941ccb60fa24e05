import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { text as streamText } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpClient, HttpTimeoutError, TooLargeError } from '@meph/http';
import { SHARED_DIR } from '@meph/test-support';
import { startFixtureProxy, startFixtureServer, startTlsFrontend, type FixtureProxy, type FixtureServer, type FixtureTlsServer } from '../../../../tools/fixture-server/index.js';
import { openSource } from './source.js';

// The reader fetches through @meph/http: proxies from the environment, timeouts, size caps.
const STREAMS = path.join(SHARED_DIR, 'reference/streams');
const FOO = 'simplestreams-examples/foocloud';
let server: FixtureServer;
let tls: FixtureTlsServer;
let proxy: FixtureProxy;
let tmp: string;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'meph-source-http-'));
  server = await startFixtureServer({ root: STREAMS });
  tls = await startTlsFrontend(server.port, 'streams.fixture.invalid');
  proxy = await startFixtureProxy();
});
afterAll(async () => {
  await proxy?.close();
  await tls?.close();
  await server?.close();
  await rm(tmp, { recursive: true, force: true });
});

describe('openSource through proxies', () => {
  it('reads an https stream through https_proxy (CONNECT) and an http one through http_proxy', async () => {
    const http = createHttpClient({ env: { https_proxy: proxy.url, http_proxy: proxy.url }, tls: { ca: tls.cert } });
    const secure = openSource(`https://streams.fixture.invalid:${tls.port}/${FOO}`, { http });
    expect((await secure.readIndex()).format).toBe('index:1.0');
    const rel = 'files/release-20121001/foovendor-6.1-server-cloudimg-i386-disk1.img';
    expect((await streamText(await secure.openData(rel))).length).toBeGreaterThan(0);
    expect(proxy.tunnels).toContain(`streams.fixture.invalid:${tls.port}`);
    const plain = openSource(`http://streams.fixture.invalid:${server.port}/${FOO}`, { http });
    expect((await plain.readIndex()).format).toBe('index:1.0');
    expect(proxy.requests).toContain(`http://streams.fixture.invalid:${server.port}/${FOO}/streams/v1/index.json`);
    http.close();
  });

  it('no_proxy sends matching hosts direct', async () => {
    const seen = proxy.requests.length + proxy.tunnels.length;
    const http = createHttpClient({ env: { http_proxy: proxy.url, no_proxy: 'example.org,127.0.0.1' } });
    expect((await openSource(`${server.url}/${FOO}`, { http }).readIndex()).format).toBe('index:1.0');
    expect(proxy.requests.length + proxy.tunnels.length).toBe(seen);
    http.close();
  });
});

describe('openSource against hostile servers', () => {
  it('refuses a document over the cap before reading it, and times out a silent server', async () => {
    const http = createHttpClient({ env: {}, retries: 0, timeouts: { headersMs: 200 } });
    server.setFaults([{ match: `/${FOO}/streams/v1/index.json`, contentLength: 1e13 }]);
    try {
      await expect(openSource(`${server.url}/${FOO}`, { http }).readIndex()).rejects.toThrow(TooLargeError);
      await expect(openSource(`${server.url}/${FOO}`, { http, maxDocumentBytes: 100 }).readText('streams/v1/com.example.foovendor:released:download.json')).rejects.toThrow(TooLargeError);
      server.setFaults([{ match: `/${FOO}/streams/v1/index.json`, hang: true }]);
      await expect(openSource(`${server.url}/${FOO}`, { http }).readIndex()).rejects.toThrow(HttpTimeoutError);
    } finally {
      server.setFaults([]);
      http.close();
    }
  });
});
