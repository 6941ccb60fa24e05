/**
 * meph2-build with d-i items (enable_di / --enable-di), against a signed Debian-layout
 * archive served on 127.0.0.1: the netboot kernel/initrd are crawled with @meph/di-crawler
 * (InRelease → SHA256SUMS), published as di-kernel/di-initrd with di_version, and downloaded
 * with checksum verification.
 */
import { existsSync, promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runCliCaptured } from '@meph/test-support';
import { expandProducts, type ProductsDocument } from '@meph/simplestreams';
import { createTestKey, generateArchive, startFixtureServer, type FixtureServer, type GeneratedArchive, type TestKey } from '../../../../tools/fixture-server/index.js';
import { spec } from '../main.js';

const V2 = path.join(import.meta.dirname, '__fixtures__', 'bookworm-v2.yaml');
const CID = 'org.debian.meph:daily:v2:download';
const PID = 'org.debian.meph.daily:v2:boot:12:amd64:ga-12';
const env = { ...process.env, MAAS_CLOUDIMG2EPH2: 'fake' };

let tmp: string;
let key: TestKey;
let server: FixtureServer;
let archive: GeneratedArchive;

beforeAll(async () => {
  tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'meph-build-di-'));
  key = await createTestKey();
  archive = await generateArchive(path.join(tmp, 'debian'), { layout: 'debian', suites: { bookworm: ['20230607', '20230607+deb12u15'] }, arches: ['amd64'], key });
  server = await startFixtureServer({ root: tmp });
  await fsp.writeFile(path.join(tmp, 'root.tar.gz'), 'source');
});
afterAll(async () => {
  await server?.close();
  await key?.cleanup();
  await fsp.rm(tmp, { recursive: true, force: true });
});

async function build(args: string[]) {
  return runCliCaptured(spec, ['--config', V2, ...args], { env, cwd: tmp });
}

describe('meph2-build with enable_di: v2 format with d-i items', () => {
  it('builds root-image.gz + di-kernel/di-initrd from the Debian netboot installer of the image\'s mirror', async () => {
    const out = path.join(tmp, 'out');
    // no --di-archive: for a Debian config the d-i files come from the image's apt mirror
    const r = await build(['--mirror', `${server.url}/debian`, '--di-keyring', key.keyringPath, 'amd64', 'bookworm', '20260101', 'root.tar.gz', out]);
    expect(r.stderr).not.toMatch(/error|warning/);
    expect(r.code).toBe(0);
    const doc = expandProducts(JSON.parse(await fsp.readFile(path.join(out, 'streams/v1', `${CID}.json`), 'utf8')) as ProductsDocument);
    const items = doc.products[PID]!.versions['20260101']!.items;
    expect(Object.keys(items).sort()).toEqual(['boot-initrd', 'boot-kernel', 'di-initrd', 'di-kernel', 'manifest', 'root-image.gz']);
    // the newest installer version wins, files at the original's d-i paths
    expect(items['di-kernel']).toMatchObject({ ftype: 'di-kernel', di_version: '20230607+deb12u15', path: 'bookworm/amd64/di/20230607+deb12u15/bookworm/generic/di-kernel' });
    expect(items['di-initrd']).toMatchObject({ ftype: 'di-initrd', di_version: '20230607+deb12u15', path: 'bookworm/amd64/di/20230607+deb12u15/bookworm/generic/di-initrd' });
    const src = archive.files.find((f) => f.version === '20230607+deb12u15' && f.path === 'netboot/debian-installer/amd64/linux')!;
    expect(items['di-kernel']).toMatchObject({ sha256: src.sha256, size: src.size });
    const data = await fsp.readFile(path.join(out, String(items['di-kernel']!.path)));
    expect(data.length).toBe(src.size);
    expect(existsSync(path.join(out, 'bookworm/amd64/20260101/root-image.gz'))).toBe(true);
    expect(existsSync(path.join(out, 'bookworm/amd64/20260101/squashfs'))).toBe(false);
  });

  it('--disable-di keeps working: no d-i items, no crawl', async () => {
    const out = path.join(tmp, 'out-nodi');
    const before = server.requests.length;
    const r = await build(['--disable-di', '--mirror', `${server.url}/debian`, 'amd64', 'bookworm', '20260101', 'root.tar.gz', out]);
    expect(r.code, r.stderr).toBe(0);
    const doc = expandProducts(JSON.parse(await fsp.readFile(path.join(out, 'streams/v1', `${CID}.json`), 'utf8')) as ProductsDocument);
    expect(Object.keys(doc.products[PID]!.versions['20260101']!.items).sort()).toEqual(['boot-initrd', 'boot-kernel', 'manifest', 'root-image.gz']);
    expect(server.requests.length).toBe(before);
  });

  it('an archive signed by another key fails in one line before converting; nothing is written', async () => {
    const out = path.join(tmp, 'out-badsig');
    const r = await build(['--di-archive', `${server.url}/debian`, '--di-keyring', '/usr/share/keyrings/debian-archive-keyring.gpg', 'amd64', 'bookworm', '20260101', 'root.tar.gz', out]);
    expect(r.code).toBe(1);
    const errors = r.stderr.trim().split('\n').filter((l) => l.includes('error'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^meph2-build: error: d-i archive http:\/\/127\.0\.0\.1:\d+\/debian: cannot crawl the installer for bookworm\/amd64: .*InRelease: signature does not verify/);
    expect(r.stderr).not.toMatch(/converting/);
    expect(existsSync(path.join(out, 'streams'))).toBe(false);
    expect(existsSync(path.join(out, 'bookworm'))).toBe(false);
  });

  it('a kernel flavour without a d-i installer is an error naming it (the original: "no d-i kernel info")', async () => {
    const cfg = path.join(tmp, 'cloud.yaml');
    await fsp.writeFile(cfg, (await fsp.readFile(V2, 'utf8')).replace('ga-12, generic, linux-image-amd64', 'ga-12, cloud, linux-image-cloud-amd64'));
    const r = await runCliCaptured(spec, ['--config', cfg, '--di-archive', `${server.url}/debian`, '--di-keyring', key.keyringPath, 'amd64', 'bookworm', '20260101', 'root.tar.gz', path.join(tmp, 'out-cloud')], { env, cwd: tmp });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^meph2-build: error: no d-i kernel info for bookworm\/amd64 flavor cloud kernel-release bookworm format default/m);
  });

  it('conf/meph-v2.yaml (the original\'s default, via MEPH2_CONFIG_YAML) plans the v2 format: root-image.gz and d-i', async () => {
    const r = await runCliCaptured(spec, ['--dry-run', 'amd64', 'trusty', '20260101', 'root.tar.gz', 'out-v2'], { env: { ...env, MEPH2_CONFIG_YAML: path.join(REPO_ROOT, 'conf/meph-v2.yaml') }, cwd: tmp });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('products file: streams/v1/com.ubuntu.maas:daily:v2:download.json (5 products)');
    expect(r.stdout).toMatch(/product com\.ubuntu\.maas\.daily:v2:boot:14\.04:amd64:hwe-u\n/);
    expect(r.stdout).toMatch(/root-image\.gz +trusty\/amd64\/20260101\/root-image\.gz/);
    expect(r.stdout).toMatch(/boot-kernel +trusty\/amd64\/20260101\/utopic\/generic\/boot-kernel/);
    expect(r.stdout).toContain('d-i: di-kernel and di-initrd per product');
    expect(r.stdout).not.toContain('squashfs');
  });
});
