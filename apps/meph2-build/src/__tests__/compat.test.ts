/**
 * compat: every flag of the original meph2-build (upstream-behaviour §1.1) with the original's
 * argument vectors (README and known callers), run against the original's own config files
 * (copied unchanged from ../shared/reference/conf into ./conf of a scratch directory, so the
 * argv stays `--config conf/meph-v3.yaml …`), with the fake converter. GNUPGHOME holds a
 * default secret key: like the original, meph2-build must still not sign unless asked.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliCaptured, SHARED_DIR } from '@meph/test-support';
import { expandProducts, type ProductsDocument } from '@meph/simplestreams';
import { createTestKey, generateArchive, startFixtureServer } from '../../../../tools/fixture-server/index.js';
import { spec } from '../main.js';

let dir: string;
let home: string;
const CID = 'com.ubuntu.maas:candidate:v3:download';

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join((await import('node:os')).tmpdir(), 'meph-compat-build-'));
  await fs.mkdir(path.join(dir, 'conf'));
  for (const f of ['meph-v3.yaml', 'meph-v2.yaml']) await fs.copyFile(path.join(SHARED_DIR, 'reference/conf', f), path.join(dir, 'conf', f));
  await fs.writeFile(path.join(dir, 'livecd.ubuntu-cpc.squashfs'), 'stand-in source image (the fake converter does not read it)\n');
  home = path.join(dir, 'gnupg');
  await fs.mkdir(home, { mode: 0o700 });
  const gen = spawnSync('gpg', ['--batch', '--passphrase', '', '--quick-gen-key', 'compat <compat@example.invalid>', 'ed25519', 'sign', 'never'], { env: { ...process.env, GNUPGHOME: home } });
  expect(gen.status).toBe(0);
});
afterAll(async () => {
  spawnSync('gpgconf', ['--kill', 'gpg-agent'], { env: { ...process.env, GNUPGHOME: home } });
  await fs.rm(dir, { recursive: true, force: true });
});

const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => {
  const e: NodeJS.ProcessEnv = { ...process.env, MAAS_CLOUDIMG2EPH2: 'fake-maas-cloudimg2eph2', GNUPGHOME: home, MEPH_SIGNING_KEY: '', MEPH_GPG_KEY: '', SS_GPG_DEFAULT_KEY: '', ...extra };
  delete e['MEPH_CONFIG'];
  if (!('MEPH2_CONFIG_YAML' in extra)) delete e['MEPH2_CONFIG_YAML'];
  return e;
};
const build = (args: string[], extra: NodeJS.ProcessEnv = {}) => runCliCaptured(spec, args, { cwd: dir, env: env(extra) });
async function ok(args: string[], extra: NodeJS.ProcessEnv = {}) {
  const r = await build(args, extra);
  expect(r.code, `meph2-build ${args.join(' ')}\n${r.stderr}`).toBe(0);
  return r;
}
const products = async (out: string, cid = CID) => JSON.parse(await fs.readFile(path.join(dir, out, 'streams/v1', `${cid}.json`), 'utf8')) as ProductsDocument;

describe('compat meph2-build arch release version_name img_url output_d', () => {
  it('known caller (v3): --config conf/meph-v3.yaml --image-format squashfs-image -vv amd64 bionic 20181018 livecd.ubuntu-cpc.squashfs binary/maas_v3/', async () => {
    const r = await ok(['--config', 'conf/meph-v3.yaml', '--image-format', 'squashfs-image', '-vv', 'amd64', 'bionic', '20181018', 'livecd.ubuntu-cpc.squashfs', 'binary/maas_v3/']);
    const doc = await products('binary/maas_v3');
    expect(Object.keys(doc.products).sort()).toEqual(
      ['ga-18.04', 'ga-18.04-lowlatency', 'hwe-18.04', 'hwe-18.04-edge', 'hwe-18.04-lowlatency', 'hwe-18.04-lowlatency-edge'].map((s) => `com.ubuntu.maas.candidate:v3:boot:18.04:amd64:${s}`).sort(),
    );
    const squash = new Set(Object.values(expandProducts(doc).products).map((p) => p.versions['20181018']!.items['squashfs']!.path));
    expect([...squash]).toEqual(['bionic/amd64/20181018/squashfs']);
    expect(r.stderr.split('\n').length).toBeGreaterThan(10); // -vv: every step
  });

  it('README: --config=conf/meph-v3.yaml amd64 xenial 20160101 IMG xenial-output.d/', async () => {
    await ok(['--config=conf/meph-v3.yaml', 'amd64', 'xenial', '20160101', 'livecd.ubuntu-cpc.squashfs', 'xenial-output.d/']);
    const doc = await products('xenial-output.d');
    expect(Object.keys(doc.products).every((p) => p.startsWith('com.ubuntu.maas.candidate:v3:boot:16.04:amd64:'))).toBe(true);
    expect(existsSync(path.join(dir, 'xenial-output.d/streams/v1/index.json'))).toBe(true);
  });

  it('--flat-json FILE lists every new item with product_name, version_name, item_name', async () => {
    await ok(['--config', 'conf/meph-v3.yaml', '--flat-json', 'flat.json', 'amd64', 'noble', '20240101', 'livecd.ubuntu-cpc.squashfs', 'flat.d']);
    const flat = JSON.parse(await fs.readFile(path.join(dir, 'flat.json'), 'utf8')) as Array<Record<string, unknown>>;
    expect(flat.length).toBe(6 * 4);
    for (const e of flat) expect(Object.keys(e)).toEqual(expect.arrayContaining(['product_name', 'version_name', 'item_name', 'sha256', 'path']));
    expect(new Set(flat.map((e) => e['version_name']))).toEqual(new Set(['20240101']));
  });

  it('-v / --log-file FILE: log lines go to the file', async () => {
    await ok(['--config', 'conf/meph-v3.yaml', '-v', '--log-file', 'build.log', 'amd64', 'noble', '20240102', 'livecd.ubuntu-cpc.squashfs', 'log.d']);
    expect((await fs.readFile(path.join(dir, 'build.log'), 'utf8')).split('\n').length).toBeGreaterThan(3);
  });

  it('--proposed reaches the converter (its manifest comes from -proposed)', async () => {
    await ok(['--config', 'conf/meph-v3.yaml', '--proposed', 'amd64', 'noble', '20240103', 'livecd.ubuntu-cpc.squashfs', 'proposed.d']);
    expect(await fs.readFile(path.join(dir, 'proposed.d/noble/amd64/20240103/squashfs.manifest'), 'utf8')).toMatch(/^base-files\t0\.meph-fake\+proposed$/m);
    await ok(['--config', 'conf/meph-v3.yaml', 'amd64', 'noble', '20240103', 'livecd.ubuntu-cpc.squashfs', 'not-proposed.d']);
    expect(await fs.readFile(path.join(dir, 'not-proposed.d/noble/amd64/20240103/squashfs.manifest'), 'utf8')).not.toMatch(/proposed/);
  });

  it('--dry-run: the original ignored it and built; meph prints the plan and writes nothing (docs/compat.md)', async () => {
    const r = await ok(['--dry-run', '--config', 'conf/meph-v3.yaml', 'amd64', 'noble', '20240104', 'livecd.ubuntu-cpc.squashfs', 'dry.d']);
    expect(r.stdout + r.stderr).toMatch(/product com\.ubuntu\.maas\.candidate:v3:boot:24\.04:amd64:ga-24\.04/);
    expect(existsSync(path.join(dir, 'dry.d'))).toBe(false);
  });

  it('MEPH2_CONFIG_YAML=conf/meph-v2.yaml --disable-di: the v2 matrix without d-i items', async () => {
    await ok(['--disable-di', 'amd64', 'bionic', '20181019', 'livecd.ubuntu-cpc.squashfs', 'v2.d'], { MEPH2_CONFIG_YAML: 'conf/meph-v2.yaml' });
    const index = JSON.parse(await fs.readFile(path.join(dir, 'v2.d/streams/v1/index.json'), 'utf8')) as { index: Record<string, { path: string }> };
    const [cid] = Object.keys(index.index);
    expect(cid).toMatch(/v2/);
    const doc = await products('v2.d', cid);
    const ftypes = new Set(Object.values(expandProducts(doc).products).flatMap((p) => Object.values(p.versions['20181019']!.items).map((i) => i['ftype'])));
    expect([...ftypes].filter((f) => String(f).startsWith('di-'))).toEqual([]);
  });

  it('img_url as an http URL; M2E_ADD_PACKAGES reaches the converter', async () => {
    const server = await startFixtureServer({ root: dir });
    try {
      await ok(['--config', 'conf/meph-v3.yaml', 'amd64', 'noble', '20240108', `${server.url}/livecd.ubuntu-cpc.squashfs`, 'url.d'], { M2E_ADD_PACKAGES: 'vim htop' });
    } finally {
      await server.close();
    }
    const manifest = await fs.readFile(path.join(dir, 'url.d/noble/amd64/20240108/squashfs.manifest'), 'utf8');
    expect(manifest).toMatch(/^vim\t/m);
    expect(manifest).toMatch(/^htop\t/m);
  });

  // Implemented by the compatbuild branch (issue 10).
  it('never signs its output when no key is named, even with a default gpg key (the original never signs)', async () => {
    await ok(['--config', 'conf/meph-v3.yaml', 'amd64', 'noble', '20240105', 'livecd.ubuntu-cpc.squashfs', 'unsigned.d']);
    expect((await fs.readdir(path.join(dir, 'unsigned.d/streams/v1'))).filter((f) => f.endsWith('.sjson') || f.endsWith('.gpg'))).toEqual([]);
  });
  // Ubuntu's archive is not reachable here: the d-i files come from a fixture archive (signed
  // like Ubuntu's) through --di-archive/--di-keyring, added to the known caller's argv.
  it('known caller (v2): --image-format squashfs-image -vv --enable-di amd64 bionic 20181018 … binary/maas/ adds di-kernel/di-initrd', async () => {
    const key = await createTestKey();
    const server = await startFixtureServer({ root: path.join(dir, 'srv') });
    try {
      await generateArchive(path.join(dir, 'srv/archive'), { suites: { bionic: ['20101020ubuntu543'], 'bionic-updates': ['20101020ubuntu543.1'] }, arches: ['amd64'], key });
      await ok(['--config', 'conf/meph-v2.yaml', '--image-format', 'squashfs-image', '-vv', '--enable-di', '--di-archive', `${server.url}/archive`, '--di-keyring', key.keyringPath, 'amd64', 'bionic', '20181018', 'livecd.ubuntu-cpc.squashfs', 'binary/maas/']);
    } finally {
      await server.close();
      await key.cleanup();
    }
    const index = JSON.parse(await fs.readFile(path.join(dir, 'binary/maas/streams/v1/index.json'), 'utf8')) as { index: Record<string, unknown> };
    const doc = await products('binary/maas', Object.keys(index.index)[0]);
    const ftypes = new Set(Object.values(expandProducts(doc).products).flatMap((p) => Object.values(p.versions['20181018']!.items).map((i) => i['ftype'])));
    expect(ftypes).toContain('di-kernel');
    expect(ftypes).toContain('di-initrd');
  });
  it('MAAS_CLOUDIMG2EPH2=/path/to/converter runs that command with the original contract', async () => {
    const conv = path.join(dir, 'my-converter');
    await fs.writeFile(conv, '#!/bin/sh\necho "$@" > "$(dirname "$0")/converter-args"\nexit 1\n', { mode: 0o755 });
    await build(['--config', 'conf/meph-v3.yaml', '-u', 'amd64', 'noble', '20240106', 'livecd.ubuntu-cpc.squashfs', 'custom.d'], { MAAS_CLOUDIMG2EPH2: conv });
    expect(await fs.readFile(path.join(dir, 'converter-args'), 'utf8')).toMatch(/livecd\.ubuntu-cpc\.squashfs/);
  });
  it('an arch with no kernel line for the release fails (non-zero) instead of building nothing', async () => {
    const r = await build(['--config', 'conf/meph-v3.yaml', '-u', 'riscv64', 'bionic', '20240107', 'livecd.ubuntu-cpc.squashfs', 'none.d']);
    expect(r.code).not.toBe(0);
  });
});
