import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAppProcess, SHARED_DIR } from '@meph/test-support';
import { startFixtureProxy, startFixtureServer, startTlsFrontend, type FixtureProxy, type FixtureServer, type FixtureTlsServer } from '../../../../tools/fixture-server/index.js';

// `meph2-build <url>` downloads with the real converter's acquire step: through the proxy
// variables, with retries. The source is not an image, so the build stops right after the
// download, at detection, which is enough to see how it was fetched.
const V3 = path.join(SHARED_DIR, 'reference/conf/meph-v3.yaml');
let dir: string;
let server: FixtureServer;
let tls: FixtureTlsServer;
let proxy: FixtureProxy;
let caFile: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'meph2-build-url-'));
  await writeFile(path.join(dir, 'noble.img'), randomBytes(5000));
  server = await startFixtureServer({ root: dir });
  tls = await startTlsFrontend(server.port, 'images.fixture.invalid');
  proxy = await startFixtureProxy();
  caFile = path.join(dir, 'ca.pem');
  await writeFile(caFile, tls.cert);
});
afterAll(async () => {
  await proxy?.close();
  await tls?.close();
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

const build = (url: string, env: NodeJS.ProcessEnv) =>
  runAppProcess('meph2-build', ['--config', V3, '-u', '--disable-di', 'amd64', 'noble', '20240101', url, path.join(dir, `out-${Math.random().toString(36).slice(2)}`)], {
    cwd: dir,
    env: { MAAS_CLOUDIMG2EPH2: '', MEPH_HTTP_RETRIES: '2', http_proxy: '', https_proxy: '', no_proxy: '', ...env },
  });

describe('meph2-build with an http(s) source', () => {
  it('goes through https_proxy (CONNECT) and retries a 503', async () => {
    server.setFaults([{ match: '/noble.img', status: 503, times: 1 }]);
    const before = server.requests.length;
    const r = await build(`https://images.fixture.invalid:${tls.port}/noble.img`, { https_proxy: proxy.url, NODE_EXTRA_CA_CERTS: caFile });
    server.setFaults([]);
    expect(r.stderr).toContain('acquire: done');
    expect(r.stderr).toMatch(/error: .*noble\.img: no root file system found/);
    expect(r.code).toBe(1);
    expect(proxy.tunnels).toContain(`images.fixture.invalid:${tls.port}`);
    expect(server.requests.slice(before).map((q) => `${q.path} ${q.status}`)).toEqual(['/noble.img 503', '/noble.img 200']);
  });

  it('goes through http_proxy for http URLs, and not for hosts in no_proxy', async () => {
    const n = proxy.requests.length;
    let r = await build(`http://images.fixture.invalid:${server.port}/noble.img`, { http_proxy: proxy.url });
    expect(r.stderr).toContain('acquire: done');
    expect(proxy.requests.slice(n)).toEqual([`http://images.fixture.invalid:${server.port}/noble.img`]);
    r = await build(`${server.url}/noble.img`, { http_proxy: proxy.url, no_proxy: '127.0.0.1' });
    expect(r.stderr).toContain('acquire: done');
    expect(proxy.requests.length).toBe(n + 1);
  });
});
