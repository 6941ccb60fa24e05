/**
 * compat: every flag of the original meph2-cloudimg-sync (upstream-behaviour §1.2) with the
 * original's argument vectors (the MAAS c-i known caller, the README), against the original's
 * own conf/meph-v3.yaml (copied unchanged into ./conf of a scratch directory), a loopback
 * cloud-images feed and the fake converter. `--source` is added to every argv: the default
 * source is cloud-images.ubuntu.com, which this machine cannot reach. GNUPGHOME holds a
 * default secret key: like the original, the sync must still not sign unless asked.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliCaptured, SHARED_DIR } from '@meph/test-support';
import { expandProducts, type ProductsDocument } from '@meph/simplestreams';
import { createGpgSigner, signStream } from '@meph/signer';
import { generateCloudFeed, startFixtureServer, type FeedProduct, type FixtureServer } from '../../../../tools/fixture-server/index.js';
import { spec } from '../main.js';

const CID = 'com.ubuntu.maas:candidate:v3:download';
let dir: string;
let home: string;
let keyring: string;
let server: FixtureServer;
const noble = (arch: string, serials: string[]): FeedProduct => ({ release: 'noble', version: '24.04', arch, serials, releaseTitle: '24.04 LTS', releaseCodename: 'Noble Numbat' });
const feed = () => `${server.url}/feed/streams/v1/com.ubuntu.cloud:daily:download.json`;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'meph-compat-sync-'));
  await fs.mkdir(path.join(dir, 'conf'));
  await fs.copyFile(path.join(SHARED_DIR, 'reference/conf/meph-v3.yaml'), path.join(dir, 'conf/meph-v3.yaml'));
  home = path.join(dir, 'gnupg');
  await fs.mkdir(home, { mode: 0o700 });
  const genv = { ...process.env, GNUPGHOME: home };
  expect(spawnSync('gpg', ['--batch', '--passphrase', '', '--quick-gen-key', 'feed <feed@example.invalid>', 'ed25519', 'sign', 'never'], { env: genv }).status).toBe(0);
  keyring = path.join(dir, 'feed-keyring.gpg');
  await fs.writeFile(keyring, spawnSync('gpg', ['--batch', '--export'], { env: genv }).stdout);
  await generateCloudFeed(path.join(dir, 'srv/feed'), { products: [noble('amd64', ['20260101', '20260102']), noble('arm64', ['20260102'])] });
  // a signed copy of the feed, for --keyring with an .sjson source
  await fs.cp(path.join(dir, 'srv/feed'), path.join(dir, 'srv/signed'), { recursive: true });
  const fpr = spawnSync('gpg', ['--batch', '--with-colons', '--list-secret-keys'], { env: genv }).stdout.toString().split('\n').find((l) => l.startsWith('fpr:'))!.split(':')[9]!;
  await signStream(path.join(dir, 'srv/signed'), createGpgSigner({ localUser: fpr, gnupgHome: home }));
  server = await startFixtureServer({ root: path.join(dir, 'srv') });
}, 120_000);
afterAll(async () => {
  await server?.close();
  spawnSync('gpgconf', ['--kill', 'gpg-agent'], { env: { ...process.env, GNUPGHOME: home } });
  await fs.rm(dir, { recursive: true, force: true });
});

const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => {
  const e: NodeJS.ProcessEnv = { ...process.env, MAAS_CLOUDIMG2EPH2: 'fake-maas-cloudimg2eph2', GNUPGHOME: home, MEPH_SIGNING_KEY: '', MEPH_GPG_KEY: '', SS_GPG_DEFAULT_KEY: '', MEPH_KEYRING: '', ...extra };
  delete e['MEPH_CONFIG'];
  delete e['MEPH2_CONFIG_YAML'];
  return e;
};
const sync = (args: string[], extra: NodeJS.ProcessEnv = {}) => runCliCaptured(spec, args, { cwd: dir, env: env(extra) });
async function ok(args: string[], extra: NodeJS.ProcessEnv = {}) {
  const r = await sync(args, extra);
  expect(r.code, `meph2-cloudimg-sync ${args.join(' ')}\n${r.stderr}`).toBe(0);
  return r;
}
const products = async (out: string) => JSON.parse(await fs.readFile(path.join(dir, out, 'streams/v1', `${CID}.json`), 'utf8')) as ProductsDocument;
async function builtVersions(out: string): Promise<string[]> {
  const doc = expandProducts(await products(out));
  return [...new Set(Object.values(doc.products).flatMap((p) => Object.entries(p.versions).map(([v, ver]) => `${String(Object.values(ver.items)[0]!['arch'])}/${v}`)))].sort();
}
const manifest = (out: string, arch: string, v: string) => fs.readFile(path.join(dir, out, `noble/${arch}/${v}/squashfs.manifest`), 'utf8');

describe('compat meph2-cloudimg-sync output_d [filters]', () => {
  it("MAAS c-i known caller: --config=conf/meph-v3.yaml --target=force --arches=amd64,arm64 --max=1 out.d/ 'release~(xenial|noble)'", async () => {
    await ok(['--config=conf/meph-v3.yaml', '--target=force', '--arches=amd64,arm64', '--max=1', `--source=${feed()}`, 'out.d/', 'release~(xenial|noble)']);
    expect(await builtVersions('out.d')).toEqual(['amd64/20260102', 'arm64/20260102']);
    expect(Object.keys((await products('out.d')).products)).toContain('com.ubuntu.maas.candidate:v3:boot:24.04:amd64:hwe-24.04-lowlatency-edge');
  });

  it('--max 2 considers the two newest source versions; --arches repeated', async () => {
    await ok(['--config', 'conf/meph-v3.yaml', '--target', 'force', '--arches', 'amd64', '--arches', 'arm64', '--max', '2', '--source', feed(), 'max2.d']);
    expect(await builtVersions('max2.d')).toEqual(['amd64/20260101', 'amd64/20260102', 'arm64/20260102']);
  });

  it('--target PRODUCTS_FILE: what it lists is not rebuilt; --rebuild FROM:TO publishes TO', async () => {
    const target = path.join(dir, 'out.d/streams/v1', `${CID}.json`);
    const none = await ok(['--config', 'conf/meph-v3.yaml', `--target=${target}`, '--arches=amd64', '--source', feed(), '--json', 'again.d']);
    expect(none.stdout).not.toMatch(/"type":"build-done"/);
    await ok(['--config', 'conf/meph-v3.yaml', `--target=${target}`, '--arches=amd64', '--rebuild=20260102:20260102.1', '--source', feed(), 'rebuild.d']);
    expect(await builtVersions('rebuild.d')).toContain('amd64/20260102.1');
  });

  it('--proposed --proposed-packages=base-files and --pre-purge-packages=cloud-init reach the converter', async () => {
    await ok(['--config', 'conf/meph-v3.yaml', '--target=force', '--arches=amd64', '--proposed', '--proposed-packages=base-files', '--pre-purge-packages=cloud-init', '--source', feed(), 'proposed.d', 'arch=amd64']);
    const m = await manifest('proposed.d', 'amd64', '20260102');
    expect(m).toMatch(/^base-files\t0\.meph-fake\+proposed$/m);
    expect(m).toMatch(/^overlayroot\t0\.meph-fake$/m); // not in the proposed list
    expect(m).not.toMatch(/^cloud-init\t/m); // the fake leaves purged packages out
  });

  it('--disable-di with -vvv and --log-file FILE', async () => {
    await ok(['--config', 'conf/meph-v3.yaml', '--target=force', '--arches=amd64', '--disable-di', '-vvv', '--log-file', 'sync.log', '--source', feed(), 'nodi.d']);
    const doc = expandProducts(await products('nodi.d'));
    const ftypes = new Set(Object.values(doc.products).flatMap((p) => Object.values(p.versions).flatMap((v) => Object.values(v.items).map((i) => String(i['ftype'])))));
    expect([...ftypes].filter((f) => f.startsWith('di-'))).toEqual([]);
    expect((await fs.readFile(path.join(dir, 'sync.log'), 'utf8')).split('\n').length).toBeGreaterThan(3);
  });

  it('--keyring K with an .sjson source verifies it; a wrong keyring fails', async () => {
    const signedSource = `${server.url}/signed/streams/v1/com.ubuntu.cloud:daily:download.sjson`;
    await ok(['--config', 'conf/meph-v3.yaml', '--target=force', '--arches=amd64', '--keyring', keyring, '--source', signedSource, 'signed.d']);
    expect(await builtVersions('signed.d')).toEqual(['amd64/20260102']);
    const wrong = await sync(['--config', 'conf/meph-v3.yaml', '--target=force', '--arches=amd64', '--keyring', path.join(SHARED_DIR, 'reference/streams/keys', (await fs.readdir(path.join(SHARED_DIR, 'reference/streams/keys'))).find((f) => f.endsWith('.gpg'))!), '--source', signedSource, 'wrong.d']);
    expect(wrong.code).not.toBe(0);
    expect(existsSync(path.join(dir, 'wrong.d/streams/v1/index.json'))).toBe(false);
  });

  it('--dry-run: the original ignored it and built; meph lists what it would build and writes nothing (docs/compat.md)', async () => {
    const r = await ok(['--config', 'conf/meph-v3.yaml', '--target=force', '--arches=amd64', '--dry-run', '--source', feed(), 'dry.d']);
    expect(r.stdout).toMatch(/noble amd64 20260102 -> 20260102/);
    expect(existsSync(path.join(dir, 'dry.d'))).toBe(false);
  });

  // Implemented by the compatbuild branch (issue 10).
  it('never signs its output when no key is named, even with a default gpg key (the original never signs)', async () => {
    await ok(['--config', 'conf/meph-v3.yaml', '--target=force', '--arches=amd64', '--source', feed(), 'unsigned.d']);
    expect((await fs.readdir(path.join(dir, 'unsigned.d/streams/v1'))).filter((f) => f.endsWith('.sjson') || f.endsWith('.gpg'))).toEqual([]);
  });
});
