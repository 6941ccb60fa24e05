import { existsSync, promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SHARED_DIR } from '@meph/test-support';
import type { ProductsDocument } from '@meph/simplestreams';
import { buildVersion } from './build/build-version.js';
import { commandConverter, converterArgv } from './command-converter.js';
import { loadBuildConfig, parseBuildConfig } from './config/load.js';
import type { BuildConfig } from './config/types.js';
import type { ConvertRequest } from './converter.js';
import { CommandFailedError } from './errors.js';
import { selectConverter } from './select-converter.js';

const SCRIPT = path.join(import.meta.dirname, '__fixtures__', 'site-converter.sh');
const dirs: string[] = [];
let v3: BuildConfig;
let v2: BuildConfig;
beforeAll(async () => {
  v3 = await loadBuildConfig(path.join(SHARED_DIR, 'reference/conf/meph-v3.yaml'));
  v2 = await loadBuildConfig(path.join(SHARED_DIR, 'reference/conf/meph-v2.yaml'));
});
afterEach(async () => {
  for (const d of dirs.splice(0)) await fsp.rm(d, { recursive: true, force: true });
});
async function tmp(): Promise<string> {
  const d = await fsp.mkdtemp(path.join(os.tmpdir(), 'meph-cmdconv-'));
  dirs.push(d);
  await fsp.writeFile(path.join(d, 'source.img'), 'a cloud image');
  return d;
}
async function logOf(file: string): Promise<{ args: string[]; env: string; cwd: string; mirror: string }> {
  const lines = (await fsp.readFile(file, 'utf8')).trimEnd().split('\n');
  return {
    args: lines.filter((l) => l.startsWith('arg ')).map((l) => l.slice(4)),
    env: lines.find((l) => l.startsWith('env '))!.slice(4),
    cwd: lines.find((l) => l.startsWith('cwd '))!.slice(4),
    mirror: lines.find((l) => l.startsWith('mirror'))!.slice(7),
  };
}

describe('MAAS_CLOUDIMG2EPH2=<command>: a site converter run with the original\'s contract', () => {
  it('selectConverter runs a path (or a name on PATH) as a command converter', () => {
    const env = { MAAS_CLOUDIMG2EPH2: SCRIPT };
    expect(selectConverter({ env })).toMatchObject({ kind: 'command', name: SCRIPT, reason: `MAAS_CLOUDIMG2EPH2=${SCRIPT}` });
    expect(selectConverter({ env: { MAAS_CLOUDIMG2EPH2: 'site-converter.sh', PATH: path.dirname(SCRIPT) } })).toMatchObject({ kind: 'command', name: SCRIPT });
  });

  it('v3 (squashfs): the argument vector, environment and outputs of the original; the raw root image is discarded', async () => {
    const dir = await tmp();
    const out = path.join(dir, 'out');
    const log = path.join(dir, 'argv.log');
    const env = { ...process.env, SITE_CONVERTER_LOG: log, MAAS_CLOUDIMG2EPH2: SCRIPT };
    const { converter, name } = selectConverter({ env });
    const logs: string[] = [];
    const r = await buildVersion({
      config: v3, arch: 'amd64', release: 'noble', version: '20260101', source: path.join(dir, 'source.img'), outputDir: out, converter, converterName: name,
      settings: { proposed: true, proposedPackages: ['cloud-init'], prePurgePackages: ['cloud-init', 'snapd'], imageFormat: 'squashfs-image', addPackages: ['htop'], mirror: 'http://mirror.example/ubuntu' },
      verbosity: 2,
      onEvent: (e) => e.type === 'log' && logs.push(String(e['message'])),
    });
    expect(r.plan.products).toHaveLength(6);
    const { args, env: m2e, cwd, mirror } = await logOf(log);
    expect(mirror).toBe('http://mirror.example/ubuntu'); // the original's UBUNTU_MIRROR
    // the converter runs in <out>/.meph-build.<pid>.<x>/work and writes to the sibling data/ (moved into place after)
    expect(path.basename(cwd)).toBe('work');
    expect(path.dirname(path.dirname(cwd))).toBe(out);
    const base = path.join(path.dirname(cwd), 'data', 'noble/amd64/20260101');
    expect(args.slice(0, 12)).toEqual([
      '-v', '-v', '--format=squashfs-image', '--proposed', '--proposed-packages=cloud-init', '--pre-purge-packages=cloud-init,snapd', '--no-gzip',
      '--kernel=none', '--arch=amd64', `--manifest=${base}/squashfs.manifest`, path.join(dir, 'source.img'), `${base}/root-image.gz`,
    ]);
    expect(args.slice(12)).toContain(`--krd-pack=linux-generic,${base}/ga-24.04/generic/boot-kernel,${base}/ga-24.04/generic/boot-initrd`);
    expect(args.filter((a) => a.startsWith('--krd-pack='))).toHaveLength(r.plan.kernels.length);
    expect(m2e).toBe('M2E_ADD_PACKAGES=htop');
    expect(logs).toContain(`site converter: ${path.join(dir, 'source.img')} -> ${base}/root-image.gz (kernel none)`);
    // outputs moved into place; the raw root image (no root_image in v3) is not published
    expect(existsSync(path.join(out, 'noble/amd64/20260101/squashfs'))).toBe(true);
    expect(existsSync(path.join(out, 'noble/amd64/20260101/root-image.gz'))).toBe(false);
    expect(await fsp.readFile(path.join(out, 'noble/amd64/20260101/ga-24.04/generic/boot-kernel'), 'utf8')).toBe('site kernel for linux-generic\n');
    const doc = JSON.parse(await fsp.readFile(r.productsPath!, 'utf8')) as ProductsDocument;
    expect(Object.keys(doc.products)).toHaveLength(6);
  });

  it('v2 (root-image.gz, no squashfs): --no-squashfs, the output is the published root-image.gz', async () => {
    const dir = await tmp();
    const out = path.join(dir, 'out');
    const log = path.join(dir, 'argv.log');
    const converter = commandConverter(SCRIPT, { env: { ...process.env, SITE_CONVERTER_LOG: log } });
    await buildVersion({ config: v2, arch: 'amd64', release: 'bionic', version: '20260101', source: path.join(dir, 'source.img'), outputDir: out, converter, settings: { enableDi: false } });
    const { args } = await logOf(log);
    expect(args).toContain('--no-squashfs');
    expect(args).not.toContain('--no-gzip');
    expect(args).toContain('--kernel=none'); // bionic has no builtin_kernel: every kernel is purged
    const gz = await fsp.readFile(path.join(out, 'bionic/amd64/20260101/root-image.gz'));
    expect([...gz.subarray(0, 2)]).toEqual([0x1f, 0x8b]);
    expect(existsSync(path.join(out, 'bionic/amd64/20260101/root-image.manifest'))).toBe(true);
  });

  it('a failing converter is one line with its telling output; nothing is published', async () => {
    const dir = await tmp();
    const out = path.join(dir, 'out');
    const converter = commandConverter(SCRIPT, { env: { ...process.env, SITE_CONVERTER_FAIL: '3' } });
    const err = await buildVersion({ config: v3, arch: 'amd64', release: 'noble', version: '20260101', source: path.join(dir, 'source.img'), outputDir: out, converter }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandFailedError);
    expect((err as Error).message).toBe(`converter ${SCRIPT} failed (exit 3): E: Unable to locate package linux-site-special`);
    expect(existsSync(path.join(out, 'streams'))).toBe(false);
    expect((await fsp.readdir(out)).filter((n) => n.startsWith('.meph-build.'))).toEqual([]);
  });

  it('dtb and kihelper go into --krd-pack as in the original', () => {
    const req: ConvertRequest = {
      arch: 'arm64', release: 'jammy', version: '1', source: '/s.img', imageFormat: 'auto', manifestPath: '/o/squashfs.manifest', proposed: false,
      addRepos: [], addPackages: [], prePurgePackages: [], proposedPackages: [], workDir: '/w', squashfs: { path: '/o/squashfs', compression: 'xz' },
      kernels: [{ package: 'linux-generic', flavor: 'generic', kernelPath: '/o/k', initrdPath: '/o/i', dtb: { name: 'apm-mustang.dtb', path: '/o/d' }, kihelper: 'kh-xgene' }],
    };
    expect(converterArgv(req).args).toEqual([
      '--no-gzip', '--kernel=linux-generic', '--arch=arm64', '--manifest=/o/squashfs.manifest', '/s.img', '/o/root-image.gz',
      '--krd-pack=linux-generic,/o/k,/o/i,--dtb=apm-mustang.dtb=/o/d,--kihelper=kh-xgene',
    ]);
  });
});
