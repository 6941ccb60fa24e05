import { createHash } from 'node:crypto';
import { existsSync, promises as fsp, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, SHARED_DIR } from '@meph/test-support';
import { loadStream, type ProductsDocument } from '@meph/simplestreams';
import { checkMaasStream, isBlocking } from '@meph/maas-rules';
import type { Converter, ConvertRequest } from '../converter.js';
import { loadBuildConfig } from '../config/load.js';
import type { BuildConfig } from '../config/types.js';
import { ConverterOutputError, UnknownReleaseError, NothingToBuildError } from '../errors.js';
import { fakeConverter } from '../fake/fake-converter.js';
import { buildVersion, type BuildVersionOptions } from './build-version.js';

const CID = 'com.ubuntu.maas:candidate:v3:download';
let v3: BuildConfig;
let bookworm: BuildConfig;
const dirs: string[] = [];
beforeAll(async () => {
  v3 = await loadBuildConfig(path.join(SHARED_DIR, 'reference/conf/meph-v3.yaml'));
  bookworm = await loadBuildConfig(path.join(REPO_ROOT, 'conf/debian-bookworm.yaml'));
});
afterEach(async () => {
  for (const d of dirs.splice(0)) await fsp.rm(d, { recursive: true, force: true });
});

async function tmp(): Promise<string> {
  const d = await fsp.mkdtemp(path.join(os.tmpdir(), 'meph-build-'));
  dirs.push(d);
  await fsp.writeFile(path.join(d, 'source.img'), 'not really an image');
  return d;
}

/** The fake converter, counting calls and keeping the requests. */
function counting(inner: Converter = fakeConverter): Converter & { calls: ConvertRequest[] } {
  const calls: ConvertRequest[] = [];
  const c = async (req: ConvertRequest) => {
    calls.push(req);
    return inner(req);
  };
  return Object.assign(c, { calls });
}

function options(dir: string, over: Partial<BuildVersionOptions> = {}): BuildVersionOptions {
  return { config: v3, arch: 'amd64', release: 'noble', version: '20240101', source: path.join(dir, 'source.img'), outputDir: path.join(dir, 'out'), converter: fakeConverter, ...over };
}

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

describe('buildVersion with the fake converter', () => {
  it('writes data, then the products file with only the new products, then the index', async () => {
    const dir = await tmp();
    const out = path.join(dir, 'out');
    const events: string[] = [];
    const r = await buildVersion(options(dir, { onEvent: (e) => events.push(e.type), now: new Date('2026-07-23T10:07:14Z') }));
    expect(r.converterRan).toBe(true);
    const doc = JSON.parse(await fsp.readFile(path.join(out, 'streams/v1', `${CID}.json`), 'utf8')) as ProductsDocument;
    expect(doc).toMatchObject({ format: 'products:1.0', content_id: CID, datatype: 'image-downloads', updated: 'Thu, 23 Jul 2026 10:07:14 +0000' });
    expect(Object.keys(doc.products)).toHaveLength(6);
    const ga = doc.products['com.ubuntu.maas.candidate:v3:boot:24.04:amd64:ga-24.04']!;
    // condensed MAAS-safely: product fields on the product, item fields on the items
    expect(ga).toMatchObject({ arch: 'amd64', kflavor: 'generic', krel: 'noble', label: 'candidate', os: 'ubuntu', release: 'noble', subarch: 'ga-24.04', version: '24.04', release_title: '24.04 LTS' });
    const items = ga.versions['20240101']!.items;
    expect(Object.keys(items).sort()).toEqual(['boot-initrd', 'boot-kernel', 'manifest', 'squashfs']);
    expect(Object.keys(items['boot-kernel']!).sort()).toEqual(['ftype', 'kpackage', 'path', 'sha256', 'size']);
    expect(Object.keys(items['squashfs']!).sort()).toEqual(['ftype', 'path', 'sha256', 'size']);
    for (const item of Object.values(items)) {
      const file = path.join(out, item.path!);
      expect(item.sha256).toBe(sha256(file));
      expect(item.size).toBe((await fsp.stat(file)).size);
    }
    const index = JSON.parse(await fsp.readFile(path.join(out, 'streams/v1/index.json'), 'utf8'));
    expect(index.index[CID]).toMatchObject({ path: `streams/v1/${CID}.json`, format: 'products:1.0', datatype: 'image-downloads', products: Object.keys(doc.products).sort() });
    // original dump format: indent 1, sorted keys, trailing newline
    expect(await fsp.readFile(path.join(out, 'streams/v1', `${CID}.json`), 'utf8')).toMatch(/^\{\n "content_id": .*\n\}\n$/s);
    // no scratch area left behind
    expect((await fsp.readdir(out)).filter((n) => n.startsWith('.meph-build'))).toEqual([]);
    expect(events.indexOf('converter-done')).toBeLessThan(events.indexOf('products-written'));
    expect(events.indexOf('products-written')).toBeLessThan(events.indexOf('index-written'));
    expect(r.items).toHaveLength(24);
  });

  it('the stream parses with loadStream and passes checkMaasStream for MAAS 3.7 and 3.8', async () => {
    const dir = await tmp();
    const own = await loadBuildConfig(path.join(REPO_ROOT, 'conf/meph-v3.yaml'));
    await buildVersion(options(dir, { config: own }));
    const stream = await loadStream(path.join(dir, 'out'));
    expect(stream.products).toHaveLength(1);
    for (const maasVersion of ['3.7', '3.8'] as const) {
      const findings = await checkMaasStream(stream, { maasVersion, checkData: true, commissioningRelease: 'noble' });
      expect(findings).toEqual([]);
    }
  });

  it("with the original's v3 config too (its hwe products do not list their own subarch, which MAAS does not need)", async () => {
    const dir = await tmp();
    await buildVersion(options(dir));
    const findings = await checkMaasStream(await loadStream(path.join(dir, 'out')), { checkData: true });
    expect(findings).toEqual([]);
  });

  it('the Debian stream (os custom, ga-12 / ga-12-cloud) passes checkMaasStream too', async () => {
    const dir = await tmp();
    const fake = counting();
    await buildVersion(options(dir, { config: bookworm, release: 'bookworm', version: '20260101', converter: fake }));
    // no mirror in the config: the build host's configured Debian mirror is passed on
    expect(fake.calls[0]!.mirror).toMatch(/^https?:\/\//);
    const stream = await loadStream(path.join(dir, 'out'));
    const findings = await checkMaasStream(stream, { maasVersion: 'both', checkData: true });
    expect(findings.filter(isBlocking)).toEqual([]);
    expect(findings).toEqual([]);
  });

  it('seed 6: a re-run with every output present does not call the converter', async () => {
    const dir = await tmp();
    const first = counting();
    await buildVersion(options(dir, { converter: first }));
    expect(first.calls).toHaveLength(1);
    const again = counting();
    const events: string[] = [];
    const r = await buildVersion(options(dir, { converter: again, onEvent: (e) => events.push(e.type) }));
    expect(again.calls).toHaveLength(0);
    expect(r.converterRan).toBe(false);
    expect(events).toContain('converter-skipped');
    expect(Object.keys(r.products!.products)).toHaveLength(6);
    // one output missing: the converter runs again
    await fsp.rm(path.join(dir, 'out/noble/amd64/20240101/hwe-24.04/generic/boot-initrd'));
    await buildVersion(options(dir, { converter: again }));
    expect(again.calls).toHaveLength(1);
  });

  it('passes the request the original passes: kernels, squashfs, manifest, proposed, package lists', async () => {
    const dir = await tmp();
    const fake = counting();
    await buildVersion(options(dir, {
      converter: fake,
      settings: { proposed: true, squashfsCompression: 'zstd', squashfsBlockSize: '1M', prePurgePackages: ['snapd'], imageFormat: 'squashfs-image' },
      addPackages: ['vim'],
    }));
    const req = fake.calls[0]!;
    expect(req).toMatchObject({ arch: 'amd64', release: 'noble', version: '20240101', proposed: true, imageFormat: 'squashfs-image', prePurgePackages: ['snapd'], addPackages: ['vim'] });
    expect(req.squashfs).toMatchObject({ compression: 'zstd', blockSize: '1M' });
    expect(req.kernels.map((k) => k.package)).toEqual([
      'linux-generic', 'linux-image-lowlatency', 'linux-generic-hwe-24.04', 'linux-lowlatency-hwe-24.04', 'linux-generic-hwe-24.04-edge', 'linux-lowlatency-hwe-24.04-edge',
    ]);
    // the converter writes into a scratch area inside the output dir, never in place
    expect(req.squashfs!.path).toMatch(new RegExp(`^${path.join(dir, 'out')}/\\.meph-build\\.\\d+\\.[^/]+/data/noble/amd64/20240101/squashfs$`));
    expect(req.mirror).toBeUndefined();
  });

  it('--dry-run plans without creating anything', async () => {
    const dir = await tmp();
    const fake = counting();
    const r = await buildVersion(options(dir, { converter: fake, dryRun: true }));
    expect(r.plan.products).toHaveLength(6);
    expect(r.needsConversion).toBe(true);
    expect(r.request!.kernels).toHaveLength(6);
    expect(fake.calls).toHaveLength(0);
    expect(existsSync(path.join(dir, 'out'))).toBe(false);
  });

  it('seed 4: an arch without kernels is an error naming release and arch (the original: exit 0, empty products); nothing written', async () => {
    const dir = await tmp();
    const err = await buildVersion(options(dir, { release: 'plucky', arch: 'riscv64' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NothingToBuildError);
    expect((err as Error).message).toMatch(/release plucky has no kernel lines for arch riscv64; nothing to build$/);
    expect((err as NothingToBuildError).hint).toMatch(/arches with kernel lines for plucky: amd64, arm64, armhf, ppc64el, s390x/);
    await expect(buildVersion(options(dir, { release: 'plucky', arch: 'riscv64', dryRun: true }))).rejects.toBeInstanceOf(NothingToBuildError);
    expect(existsSync(path.join(dir, 'out'))).toBe(false);
  });

  it('an unknown release is an error before anything is written', async () => {
    const dir = await tmp();
    await expect(buildVersion(options(dir, { release: 'nobel' }))).rejects.toBeInstanceOf(UnknownReleaseError);
    expect(existsSync(path.join(dir, 'out'))).toBe(false);
  });

  it('a converter that leaves out a file: error, no metadata, no scratch left', async () => {
    const dir = await tmp();
    const lazy: Converter = async (req) => {
      const r = await fakeConverter(req);
      await fsp.rm(req.kernels[2]!.initrdPath);
      return r;
    };
    await expect(buildVersion(options(dir, { converter: lazy, converterName: 'lazy' }))).rejects.toThrow(ConverterOutputError);
    await expect(buildVersion(options(dir, { converter: lazy, converterName: 'lazy' }))).rejects.toThrow(/lazy did not produce 1 requested file\(s\): noble\/amd64\/20240101\/hwe-24.04\/generic\/boot-initrd/);
    const out = path.join(dir, 'out');
    expect(await fsp.readdir(out)).toEqual([]);
  });

  it('an aborted build removes its scratch area and writes no metadata', async () => {
    const dir = await tmp();
    const ac = new AbortController();
    const slow: Converter = async (req) => {
      const r = await fakeConverter(req);
      ac.abort(new Error('SIGTERM'));
      return r;
    };
    await expect(buildVersion(options(dir, { converter: slow, signal: ac.signal }))).rejects.toThrow('SIGTERM');
    expect(await fsp.readdir(path.join(dir, 'out'))).toEqual([]);
  });

  it('removes scratch areas left by a crashed build, keeps those of live builds', async () => {
    const dir = await tmp();
    const out = path.join(dir, 'out');
    await fsp.mkdir(path.join(out, '.meph-build.999999999.abc/data'), { recursive: true });
    await fsp.mkdir(path.join(out, `.meph-build.${process.pid}.live`), { recursive: true });
    await buildVersion(options(dir));
    expect((await fsp.readdir(out)).filter((n) => n.startsWith('.meph-build')).sort()).toEqual([`.meph-build.${process.pid}.live`]);
  });

  it('--flat-json lists every new item with product/version/item names, keys sorted, indent 2', async () => {
    const dir = await tmp();
    const flat = path.join(dir, 'items.json');
    await buildVersion(options(dir, { flatJson: flat }));
    const text = await fsp.readFile(flat, 'utf8');
    const list = JSON.parse(text) as Array<Record<string, unknown>>;
    expect(list).toHaveLength(24);
    const k = list.find((i) => i['item_name'] === 'boot-kernel' && i['product_name'] === 'com.ubuntu.maas.candidate:v3:boot:24.04:amd64:hwe-24.04-edge')!;
    expect(k).toMatchObject({ version_name: '20240101', kpackage: 'linux-generic-hwe-24.04-edge', kflavor: 'generic', subarch: 'hwe-24.04-edge', ftype: 'boot-kernel' });
    expect(Object.keys(k)).toEqual(Object.keys(k).sort());
    expect(text.startsWith('[\n  {\n    "arch": "amd64",')).toBe(true);
  });

  it('calls the sign hook after the index is written', async () => {
    const dir = await tmp();
    let sawIndex = false;
    await buildVersion(options(dir, { sign: async (root) => void (sawIndex = existsSync(path.join(root, 'streams/v1/index.json'))) }));
    expect(sawIndex).toBe(true);
  });
});
