import { access, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliCaptured } from '@meph/test-support';
import { NETBOOT_ARCHES } from '@meph/di-crawler';
import { verifyFile, type ProductsDocument } from '@meph/simplestreams';
import { spec } from '../main.js';
import { createTestKey, generateArchive, startFixtureServer, type FixtureServer, type TestKey } from '../../../../tools/fixture-server/index.js';
import { tempDir } from './stream-fixture.js';

// Issue 13: netboot-mirror against a signed Debian-layout fixture archive on 127.0.0.1.
const ENV = { http_proxy: '', https_proxy: '', MEPH_HTTP_RETRIES: '1' };
const PRODUCTS = 'streams/v1/com.ubuntu.installer:released:netboot.json';
const PID = 'com.ubuntu.installer:netboot:12:amd64';

let dir: string;
let key: TestKey;
let other: TestKey;
let server: FixtureServer;
beforeAll(async () => {
  dir = await tempDir('meph-netboot-mirror-');
  [key, other] = await Promise.all([createTestKey(), createTestKey('other <other@fixture.invalid>')]);
  await generateArchive(path.join(dir, 'debian'), { suites: { bookworm: ['20230607', '20230607+deb12u15'] }, arches: ['amd64'], key, layout: 'debian' });
  server = await startFixtureServer({ root: dir });
}, 60_000);
afterAll(async () => {
  await server?.close();
  await key?.cleanup();
  await other?.cleanup();
  await rm(dir, { recursive: true, force: true });
});

const netboot = (out: string, extra: string[], keyring = key.keyringPath) =>
  runCliCaptured(spec, ['netboot-mirror', '--distro', 'debian', '--archive', `${server.url}/debian`, '--keyring', keyring, '--releases', 'bookworm', '--arches', 'amd64', ...extra, out], { cwd: dir, env: ENV });

async function mirroredVersions(out: string): Promise<string[]> {
  const tree = JSON.parse(await readFile(path.join(out, '.data/com.ubuntu.installer:released:netboot'), 'utf8')) as ProductsDocument;
  const versions = tree.products[PID]!.versions;
  for (const v of Object.values(versions)) for (const item of Object.values(v.items)) await verifyFile(path.join(out, item.path!), item);
  return Object.keys(versions).sort();
}

describe('meph2-util netboot-mirror', () => {
  it('--dry-run prints the original\'s plan lines and writes nothing', async () => {
    const out = path.join(dir, 'dry');
    const r = await netboot(out, ['--dry-run', '--max', '1']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`^\\+ ${PID.replace(/\./g, '\\.')} 20230607\\+deb12u15 \\S+ files/bookworm/amd64/20230607\\+deb12u15/\\S+ 0 Mb$`, 'm'));
    expect(r.stderr).not.toMatch(/^\+ \S+ 20230607 /m);
    expect(r.stderr).toMatch(/^0 Mb change$/m);
    await expect(access(out)).rejects.toThrow();
  });

  it('mirrors the newest version, then drops it for a newer one and deletes its files', async () => {
    const out = path.join(dir, 'real');
    const log = path.join(dir, 'netboot.log');
    const r1 = await netboot(out, ['--max', '1', '-v', '--log-file', log]);
    expect(r1.code, r1.stderr).toBe(0);
    expect(await mirroredVersions(out)).toEqual(['20230607+deb12u15']);
    await access(path.join(out, PRODUCTS));
    await expect(access(path.join(out, 'streams/v1/index.json'))).rejects.toThrow(); // like the original: no index
    expect(await readFile(log, 'utf8')).toMatch(/^\S+Z downloaded files\/bookworm\/amd64\/20230607\+deb12u15\//m);

    await generateArchive(path.join(dir, 'debian'), { suites: { bookworm: ['20230607+deb12u15', '20230607+deb12u16'] }, arches: ['amd64'], key, layout: 'debian' });
    const r2 = await netboot(out, ['--max', '1']);
    expect(r2.code, r2.stderr).toBe(0);
    expect(r2.stderr).toMatch(/^- \S+ 20230607\+deb12u15 /m);
    expect(await mirroredVersions(out)).toEqual(['20230607+deb12u16']);
    await expect(access(path.join(out, 'files/bookworm/amd64/20230607+deb12u15'))).rejects.toThrow();
  });

  it('refuses an archive signed by a key not in the keyring, in one line', async () => {
    const r = await netboot(path.join(dir, 'bad'), ['--max', '1'], other.keyringPath);
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n').filter((l) => l.startsWith('meph2-util: error:'))).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    await expect(access(path.join(dir, 'bad', PRODUCTS))).rejects.toThrow();
  });

  it('an unreachable archive (Ubuntu\'s from a network that cannot reach it; here a closed port) gives one line naming the URL, nothing written', async () => {
    const closed = await new Promise<number>((resolve) => {
      const srv = net.createServer().listen(0, '127.0.0.1', () => {
        const port = (srv.address() as net.AddressInfo).port;
        srv.close(() => resolve(port));
      });
    });
    const out = path.join(dir, 'unreachable');
    const r = await runCliCaptured(spec, ['netboot-mirror', '--archive', `http://127.0.0.1:${closed}/ubuntu`, '--keyring', key.keyringPath, '--releases', 'noble', '--arches', 'amd64', out], { cwd: dir, env: ENV });
    expect(r.code).toBe(1);
    const lines = r.stderr.split('\n').filter(Boolean);
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^meph2-util: error: http://127\\.0\\.0\\.1:${closed}/ubuntu/dists/noble\\S*/InRelease: cannot fetch: ECONNREFUSED`));
    await expect(access(out)).rejects.toThrow();
  });
});

describe('netboot-mirror --help', () => {
  it("names the library's default arches (the literal in the command cannot drift from NETBOOT_ARCHES)", async () => {
    const r = await runCliCaptured(spec, ['netboot-mirror', '--help']);
    expect(r.stdout.replace(/\s+/g, ' ')).toContain(`(default: ${NETBOOT_ARCHES.join(',')})`);
  });
});
