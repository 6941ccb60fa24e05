import { appendFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import https from 'node:https';
import net from 'node:net';
import { promisify } from 'node:util';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVerifier } from '@meph/signer';
import { ChecksumMismatchError, type SignatureVerifier } from '@meph/simplestreams';
import { createTestKey, generateArchive, startFixtureServer, type FixtureServer, type GeneratedArchive, type TestKey } from '../../../tools/fixture-server/index.js';
import { crawlInstallers, type CrawlEvent, type DiItem } from './crawl.js';
import { createHttpClient, HttpStatusError, ProxyError } from '@meph/http';
import { NameCollisionError, PathCollisionError, UnverifiedChecksumsError } from './errors.js';

const run = promisify(execFile);
import { diKernelInfo, downloadDiFile, lookupDiKernel } from './kernel-info.js';

let tmp: string;
let key: TestKey;
let otherKey: TestKey;
let verifier: SignatureVerifier;
let archive: GeneratedArchive;
let server: FixtureServer;
const noSleep = async (): Promise<void> => {};

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'meph-dicrawl-'));
  [key, otherKey] = await Promise.all([createTestKey(), createTestKey('other key <other@fixture.invalid>')]);
  verifier = await createVerifier({ keyrings: [key.keyringPath] });
  archive = await generateArchive(path.join(tmp, 'ubuntu'), {
    suites: { noble: ['20101020ubuntu700'], 'noble-updates': ['20101020ubuntu700', '20101020ubuntu703'] },
    arches: ['amd64', 'arm64'],
    key,
  });
  await generateArchive(path.join(tmp, 'gpgsums'), { suites: { jammy: ['20101020ubuntu600'] }, arches: ['amd64'], key, signing: 'sha256sums-gpg' });
  await generateArchive(path.join(tmp, 'nosums'), { suites: { jammy: ['20101020ubuntu601'] }, arches: ['amd64'], key, omitChecksums: true });
  await generateArchive(path.join(tmp, 'debian'), { suites: { bookworm: ['20230607', '20230607+deb12u15'] }, arches: ['amd64'], key, layout: 'debian' });
  server = await startFixtureServer({ root: tmp });
});

afterAll(async () => {
  await server?.close();
  await key?.cleanup();
  await otherKey?.cleanup();
  await rm(tmp, { recursive: true, force: true });
});

describe('crawlInstallers against a signed fixture archive', () => {
  it('finds every version through the signed InRelease chain, with the original item fields', async () => {
    const events: CrawlEvent[] = [];
    const { doc, stats } = await crawlInstallers({
      archive: `${server.url}/ubuntu`, releases: ['noble'], arches: ['amd64', 'arm64'], verifier, onEvent: (e) => events.push(e),
    });
    expect(doc.content_id).toBe('com.ubuntu.installer:released:netboot');
    expect(Object.keys(doc.products).sort()).toEqual(['com.ubuntu.installer:netboot:24.04:amd64', 'com.ubuntu.installer:netboot:24.04:arm64']);
    const amd = doc.products['com.ubuntu.installer:netboot:24.04:amd64']!;
    expect(amd).toMatchObject({ arch: 'amd64', release: 'noble', version: '24.04', release_codename: 'Noble Numbat' });
    // "current" is a symlink to the newest version and is skipped; the version seen in two pockets is kept once.
    expect(Object.keys(amd.versions).sort()).toEqual(['20101020ubuntu700', '20101020ubuntu703']);
    expect(amd.versions['20101020ubuntu700']!['pocket']).toBe('release');
    expect(amd.versions['20101020ubuntu703']!['pocket']).toBe('updates');
    const items = amd.versions['20101020ubuntu703']!.items as Record<string, DiItem>;
    expect(Object.keys(items).sort()).toEqual(['nohwgeninnet.default', 'nohwgenkenet.default', 'nonogeninnet.default', 'nonogenkenet.default']);
    const kernel = items['nonogenkenet.default']!;
    const src = archive.files.find((f) => f.suite === 'noble-updates' && f.arch === 'amd64' && f.version === '20101020ubuntu703' && f.path === 'netboot/ubuntu-installer/amd64/linux')!;
    expect(kernel).toMatchObject({
      ftype: 'kernel', 'image-format': 'default', 'initrd-flavor': 'netboot', 'kernel-flavor': 'generic', 'kernel-release': 'noble',
      basename: 'linux', sha256: src.sha256, size: src.size, path: 'files/noble/amd64/20101020ubuntu703/noble/generic/kernel',
      url: `${server.url}/ubuntu/dists/noble-updates/main/installer-amd64/20101020ubuntu703/images/netboot/ubuntu-installer/amd64/linux`,
    });
    expect(kernel.md5).toMatch(/^[0-9a-f]{32}$/);
    expect(kernel.pubdate).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(items['nohwgenkenet.default']!.path).toBe('files/noble/amd64/20101020ubuntu703/hwe/generic/kernel');
    const arm = doc.products['com.ubuntu.installer:netboot:24.04:arm64']!.versions['20101020ubuntu703']!.items as Record<string, DiItem>;
    expect(arm['nonogenkenet.xgene']!.path).toBe('files/noble/arm64/20101020ubuntu703/noble/generic/kernel.xgene');
    expect(arm['nonogendtnet.apm-mustang']!.path).toBe('files/noble/arm64/20101020ubuntu703/noble/generic/dtb.apm-mustang.dtb');
    expect(events.some((e) => e.type === 'di-version' && String(e.verifiedBy).startsWith('Release InRelease'))).toBe(true);
    expect(stats.retries).toBe(0);
  });

  it('crawls a Debian installer tree (versions like 20230607+deb12u15) the same way', async () => {
    const { doc } = await crawlInstallers({ archive: `${server.url}/debian/dists`, releases: ['bookworm'], arches: ['amd64'], verifier });
    const p = doc.products['com.ubuntu.installer:netboot:12:amd64']!;
    expect(Object.keys(p.versions).sort()).toEqual(['20230607', '20230607+deb12u15']);
    const info = diKernelInfo(doc);
    const hit = lookupDiKernel(info, { release: 'bookworm', arch: 'amd64', flavor: 'generic', krel: 'bookworm' });
    expect(hit.diVersion).toBe('20230607+deb12u15'); // lexically greatest wins
    expect(hit.kernel.basename).toBe('linux');
    expect(hit.initrd.basename).toBe('initrd.gz');
    expect(() => lookupDiKernel(info, { release: 'bookworm', arch: 'amd64', flavor: 'generic', krel: 'bookworm', format: 'xgene' })).toThrow(/no d-i kernel info for bookworm\/amd64 flavor generic kernel-release bookworm format xgene/);
  });

  it('uses SHA256SUMS.gpg and the directory listing when Release does not list the installer', async () => {
    const events: CrawlEvent[] = [];
    const { doc } = await crawlInstallers({ archive: `${server.url}/gpgsums`, releases: ['jammy'], arches: ['amd64'], verifier, onEvent: (e) => events.push(e) });
    expect(Object.keys(doc.products['com.ubuntu.installer:netboot:22.04:amd64']!.versions)).toEqual(['20101020ubuntu600']);
    expect(events).toContainEqual(expect.objectContaining({ type: 'di-suite', via: 'listing' }));
    expect(events).toContainEqual(expect.objectContaining({ type: 'di-version', verifiedBy: expect.stringMatching(/^SHA256SUMS\.gpg/) }));
  });

  it('refuses a checksum list signed by a key not in the keyring', async () => {
    const wrong = await createVerifier({ keyrings: [otherKey.keyringPath] });
    await expect(crawlInstallers({ archive: `${server.url}/ubuntu`, releases: ['noble'], arches: ['amd64'], verifier: wrong })).rejects.toThrow(UnverifiedChecksumsError);
    await expect(crawlInstallers({ archive: `${server.url}/gpgsums`, releases: ['jammy'], arches: ['amd64'], verifier: wrong })).rejects.toThrow(/SHA256SUMS: signature .*SHA256SUMS.gpg does not verify/);
  });

  it('refuses a SHA256SUMS that does not match the signed Release, naming it', async () => {
    const dir = path.join(tmp, 'tampered');
    await generateArchive(dir, { suites: { noble: ['20101020ubuntu710'] }, arches: ['amd64'], key });
    await appendFile(path.join(dir, 'dists/noble/main/installer-amd64/20101020ubuntu710/images/SHA256SUMS'), `${'0'.repeat(64)}  ./netboot/evil/linux\n`);
    const err = await crawlInstallers({ archive: `${server.url}/tampered`, releases: ['noble'], arches: ['amd64'], verifier }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(UnverifiedChecksumsError);
    expect((err as Error).message).toMatch(/installer-amd64\/20101020ubuntu710\/images\/SHA256SUMS: does not match the signed Release/);
  });

  it('falls back to the HTML listing only when there is no checksum list, and only when allowed', async () => {
    await expect(crawlInstallers({ archive: `${server.url}/nosums`, releases: ['jammy'], arches: ['amd64'], verifier })).rejects.toThrow(/SHA256SUMS: is missing/);
    const { doc } = await crawlInstallers({ archive: `${server.url}/nosums`, releases: ['jammy'], arches: ['amd64'], verifier, allowUnverified: true });
    const items = doc.products['com.ubuntu.installer:netboot:22.04:amd64']!.versions['20101020ubuntu601']!.items as Record<string, DiItem>;
    expect(Object.keys(items).sort()).toEqual(['jahwgeninnet.default', 'jahwgenkenet.default', 'jajageninnet.default', 'jajagenkenet.default']);
    const files = (await readdir(path.join(tmp, 'nosums/dists/jammy/main/installer-amd64/20101020ubuntu601/images'))).sort();
    expect(files).not.toContain('SHA256SUMS');
    expect(items['jajagenkenet.default']!.sha256).toBe(await sha(path.join(tmp, 'nosums/dists/jammy/main/installer-amd64/20101020ubuntu601/images/netboot/ubuntu-installer/amd64/linux')));
  });

  it('two different files with one item key are a name collision; one path with two contents a path collision', async () => {
    const dir = path.join(tmp, 'collide');
    await generateArchive(dir, { suites: { jammy: ['20101020ubuntu650'] }, arches: ['amd64'], key, signing: 'sha256sums-gpg' });
    const images = path.join(dir, 'dists/jammy/main/installer-amd64/20101020ubuntu650/images');
    // netboot/vmlinuz classifies exactly like netboot/ubuntu-installer/amd64/linux
    await writeFile(path.join(images, 'netboot/vmlinuz'), 'another kernel\n');
    await appendFile(path.join(images, 'SHA256SUMS'), `${await sha(path.join(images, 'netboot/vmlinuz'))}  ./netboot/vmlinuz\n`);
    await key.detachSign(path.join(images, 'SHA256SUMS'));
    const err = await crawlInstallers({ archive: `${server.url}/collide`, releases: ['jammy'], arches: ['amd64'], verifier }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(NameCollisionError);
    expect((err as Error).message).toMatch(/com.ubuntu.installer:netboot:22.04:amd64: name collision: .*\/netboot\/ubuntu-installer\/amd64\/linux and .*\/netboot\/vmlinuz both map to item jajagenkenet.default/);

    const two = path.join(tmp, 'twopockets');
    await generateArchive(two, { suites: { jammy: ['20101020ubuntu651'] }, arches: ['amd64'], key });
    await generateArchive(two, { suites: { 'jammy-updates': ['20101020ubuntu651'] }, arches: ['amd64'], key, salt: 'rebuilt' });
    const err2 = await crawlInstallers({ archive: `${server.url}/twopockets`, releases: ['jammy'], arches: ['amd64'], verifier }).catch((e: Error) => e);
    expect(err2).toBeInstanceOf(PathCollisionError);
    expect((err2 as Error).message).toMatch(/path collision: .* and .* would both be stored as files\/jammy\/amd64\/20101020ubuntu651\/(jammy|hwe)\/generic\//);
  });

  it('a missing suite is skipped, not an error', async () => {
    const events: CrawlEvent[] = [];
    const { doc } = await crawlInstallers({ archive: `${server.url}/ubuntu`, releases: ['noble'], arches: ['amd64'], proposed: true, verifier, onEvent: (e) => events.push(e) });
    expect(Object.keys(doc.products)).toHaveLength(1);
    expect(events).toContainEqual(expect.objectContaining({ type: 'di-suite-missing', suite: 'noble-proposed' }));
  });
});

async function sha(file: string): Promise<string> {
  const { createHash } = await import('node:crypto');
  return createHash('sha256').update(await readFile(file)).digest('hex');
}

describe('HTTP behaviour: retries, bounded concurrency, checksums on download, proxies', () => {
  it('retries injected 5xx and dropped connections with backoff, then succeeds', async () => {
    const sums = '/ubuntu/dists/noble/main/installer-amd64/20101020ubuntu700/images/SHA256SUMS';
    server.setFaults([
      { match: sums, status: 503, times: 2 },
      { match: /\/ubuntu-installer\/amd64\/linux$/, methods: ['HEAD'], drop: 'head', times: 1 },
    ]);
    const delays: number[] = [];
    const events: CrawlEvent[] = [];
    try {
      const { doc, stats } = await crawlInstallers({
        archive: `${server.url}/ubuntu`, releases: ['noble'], arches: ['amd64'], verifier,
        httpOptions: { sleep: async (ms) => void delays.push(ms), random: () => 0.5, backoffMs: 100 },
        onEvent: (e) => events.push(e),
      });
      expect(Object.keys(doc.products['com.ubuntu.installer:netboot:24.04:amd64']!.versions)).toHaveLength(2);
      expect(stats.retries).toBe(3);
      expect(delays.sort((a, b) => a - b)).toEqual([100, 100, 200]); // 100·2^(n-1)·(0.5+0.5)
      expect(events.filter((e) => e.type === 'http-retry').map((e) => (e as { reason: string }).reason)).toContainEqual('HTTP 503');
    } finally {
      server.setFaults([]);
    }
  });

  it('gives up after the configured attempts with a clear error', async () => {
    server.setFaults([{ match: /SHA256SUMS$/, status: 500 }]);
    try {
      const client = createHttpClient({ retries: 2, sleep: noSleep });
      const url = `${server.url}/ubuntu/dists/noble/main/installer-amd64/20101020ubuntu700/images/SHA256SUMS`;
      const err = await client.getText(url).catch((e: Error) => e);
      expect(err).toBeInstanceOf(HttpStatusError);
      expect((err as Error).message).toBe(`${url}: HTTP 500 Internal Server Error (gave up after 3 attempts)`);
    } finally {
      server.setFaults([]);
    }
  });

  it('keeps at most concurrencyPerHost requests in flight', async () => {
    // Requests of earlier tests (e.g. the aborted crawl) may still be held by the server's
    // latency timer: start counting only once the server is idle.
    const idleBy = Date.now() + 10_000;
    while (server.stats.inFlight > 0 && Date.now() < idleBy) await new Promise((r) => setTimeout(r, 10));
    expect(server.active()).toEqual([]);
    server.setLatency(30);
    const before = server.stats.maxInFlight;
    server.stats.maxInFlight = 0;
    try {
      await crawlInstallers({ archive: `${server.url}/ubuntu`, releases: ['noble'], arches: ['amd64', 'arm64'], verifier, httpOptions: { concurrencyPerHost: 3 } });
      // The bound must hold; reaching it exactly depends on scheduling on a loaded machine.
      expect(server.stats.maxInFlight).toBeLessThanOrEqual(3);
      expect(server.stats.maxInFlight).toBeGreaterThanOrEqual(2);
    } finally {
      server.setLatency(0);
      server.stats.maxInFlight = Math.max(before, server.stats.maxInFlight);
    }
  });

  it('downloads with checksum verification: a corrupted file fails alone, a dropped one is retried', async () => {
    const { doc } = await crawlInstallers({ archive: `${server.url}/ubuntu`, releases: ['noble'], arches: ['amd64'], verifier });
    const items = doc.products['com.ubuntu.installer:netboot:24.04:amd64']!.versions['20101020ubuntu703']!.items as Record<string, DiItem>;
    const out = path.join(tmp, 'dl');
    const client = createHttpClient({ sleep: noSleep });
    server.setFaults([
      { match: /20101020ubuntu703\/images\/netboot\/ubuntu-installer\/amd64\/linux$/, corrupt: true },
      { match: /20101020ubuntu703\/images\/netboot\/ubuntu-installer\/amd64\/initrd.gz$/, drop: 'body', times: 1 },
    ]);
    try {
      const results = await Promise.allSettled(Object.values(items).map((it) => downloadDiFile(client, it, out)));
      const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(failed).toHaveLength(1);
      expect(failed[0]!.reason).toBeInstanceOf(ChecksumMismatchError);
      expect(String(failed[0]!.reason.message)).toMatch(/amd64\/linux: sha256 mismatch: expected [0-9a-f]{64}, got [0-9a-f]{64}/);
      await expect(readFile(path.join(out, items['nonogenkenet.default']!.path))).rejects.toThrow(/ENOENT/);
      const initrd = await readFile(path.join(out, items['nonogeninnet.default']!.path));
      expect(initrd.length).toBe(items['nonogeninnet.default']!.size);
      expect(client.stats.retries).toBe(1);
      const leftovers = (await readdir(path.join(out, 'files/noble/amd64/20101020ubuntu703/noble/generic'))).filter((f) => f.endsWith('.part'));
      expect(leftovers).toEqual([]);
    } finally {
      server.setFaults([]);
      client.close();
    }
  });

  it('goes through http_proxy (absolute-URI requests) and honours no_proxy', async () => {
    const seen: string[] = [];
    const proxy = http.createServer((req, res) => {
      seen.push(req.url ?? '');
      const target = new URL(req.url ?? '');
      // the archive host name only exists for the proxy
      const up = http.request({ host: '127.0.0.1', port: server.port, path: target.pathname, method: req.method, headers: { ...req.headers, host: `127.0.0.1:${server.port}` } }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      up.on('error', () => res.writeHead(502).end());
      req.pipe(up);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    try {
      const archiveUrl = `http://archive.fixture.invalid:${server.port}/ubuntu`;
      const { doc } = await crawlInstallers({
        archive: archiveUrl, releases: ['noble'], arches: ['amd64'], verifier,
        httpOptions: { env: { http_proxy: proxyUrl, no_proxy: 'localhost,.example.org' } },
      });
      expect(Object.keys(doc.products)).toEqual(['com.ubuntu.installer:netboot:24.04:amd64']);
      expect(seen[0]).toBe(`${archiveUrl}/dists/noble/InRelease`);
      expect(seen.length).toBeGreaterThan(8);
      const n = seen.length;
      const direct = createHttpClient({ env: { http_proxy: proxyUrl, no_proxy: '127.0.0.1' } });
      expect(await direct.getText(`${server.url}/ubuntu/dists/noble/Release`)).toContain('Suite: noble');
      direct.close();
      expect(seen.length).toBe(n);
    } finally {
      await new Promise<void>((r) => proxy.close(() => r()));
    }
  });
});

describe('https through a CONNECT proxy', () => {
  it('tunnels https requests through https_proxy and verifies the server certificate', async () => {
    const dir = path.join(tmp, 'tls');
    await mkdir(dir);
    await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', '/CN=archive.fixture.invalid',
      '-addext', 'subjectAltName=DNS:archive.fixture.invalid', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')]);
    const cert = await readFile(path.join(dir, 'cert.pem'));
    const tlsServer = https.createServer({ key: await readFile(path.join(dir, 'key.pem')), cert }, (req, res) => {
      const up = http.request({ host: '127.0.0.1', port: server.port, path: req.url, method: req.method, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      req.pipe(up);
    });
    await new Promise<void>((r) => tlsServer.listen(0, '127.0.0.1', () => r()));
    const tlsPort = (tlsServer.address() as AddressInfo).port;
    const tunnels: string[] = [];
    const proxy = http.createServer((_req, res) => res.writeHead(405).end());
    proxy.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
      tunnels.push(req.url ?? '');
      if (!req.url?.startsWith('archive.fixture.invalid:')) {
        client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
        return;
      }
      const upstream = net.connect(tlsPort, '127.0.0.1', () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.write(head);
        upstream.pipe(client);
        client.pipe(upstream);
      });
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
      client.on('close', () => upstream.destroy());
    });
    const sockets = new Set<net.Socket>();
    for (const srv of [proxy, tlsServer]) srv.on('connection', (sock: net.Socket) => sockets.add(sock));
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    try {
      const { doc } = await crawlInstallers({
        archive: `https://archive.fixture.invalid:${tlsPort}/ubuntu`, releases: ['noble'], arches: ['amd64'], verifier,
        httpOptions: { env: { https_proxy: proxyUrl }, tls: { ca: cert } },
      });
      expect(Object.keys(doc.products)).toEqual(['com.ubuntu.installer:netboot:24.04:amd64']);
      expect(tunnels.length).toBeGreaterThan(0);
      expect(new Set(tunnels)).toEqual(new Set([`archive.fixture.invalid:${tlsPort}`]));
      // an untrusted certificate is refused; a refused tunnel is a ProxyError
      const strict = createHttpClient({ env: { https_proxy: proxyUrl }, retries: 0 });
      await expect(strict.getText(`https://archive.fixture.invalid:${tlsPort}/ubuntu/dists/noble/Release`)).rejects.toThrow(/self-signed certificate/);
      await expect(strict.getText(`https://other.fixture.invalid:${tlsPort}/x`)).rejects.toThrow(new ProxyError(`${proxyUrl}`, `CONNECT other.fixture.invalid:${tlsPort} refused: HTTP 403`));
      strict.close();
    } finally {
      for (const sock of sockets) sock.destroy();
      await new Promise<void>((r) => proxy.close(() => r()));
      await new Promise<void>((r) => tlsServer.close(() => r()));
    }
  });
});

describe('fixture archive sanity', () => {
  it('SHA256SUMS lines are what the crawler parses', async () => {
    const text = await readFile(path.join(tmp, 'ubuntu/dists/noble/main/installer-amd64/20101020ubuntu700/images/SHA256SUMS'), 'utf8');
    expect(text).toMatch(/^[0-9a-f]{64} {2}\.\/netboot\/ubuntu-installer\/amd64\/linux$/m);
    await writeFile(path.join(tmp, 'scratch'), '');
  });
});
