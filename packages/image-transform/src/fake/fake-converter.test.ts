import { execFile } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import type { ConvertRequest } from '../converter.js';
import { ConverterUnavailableError, SourceFormatError } from '../errors.js';
import { fakeConverter } from './fake-converter.js';
import { selectConverter } from '../select-converter.js';

const run = promisify(execFile);
const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await fsp.rm(d, { recursive: true, force: true });
});

async function request(over: Partial<ConvertRequest> = {}): Promise<ConvertRequest> {
  const d = await fsp.mkdtemp(path.join(os.tmpdir(), 'meph-fake-'));
  dirs.push(d);
  await fsp.writeFile(path.join(d, 'src.img'), 'x');
  return {
    arch: 'amd64', release: 'noble', version: '20240101', source: path.join(d, 'src.img'), imageFormat: 'auto',
    kernels: [
      { package: 'linux-generic', flavor: 'generic', kernelPath: path.join(d, 'o/k1'), initrdPath: path.join(d, 'o/i1') },
      { package: 'linux-generic-hwe-24.04', flavor: 'generic', kernelPath: path.join(d, 'o/k2'), initrdPath: path.join(d, 'o/i2'), dtb: { name: 'x.dtb', path: path.join(d, 'o/d2') } },
    ],
    squashfs: { path: path.join(d, 'o/squashfs'), compression: 'xz' },
    manifestPath: path.join(d, 'o/squashfs.manifest'),
    rootImageGzPath: path.join(d, 'o/root-image.gz'),
    proposed: false, addRepos: [], addPackages: ['vim'], prePurgePackages: [], proposedPackages: [],
    workDir: path.join(d, 'work'),
    ...over,
  };
}

describe('fakeConverter', () => {
  it('writes every requested output: a real squashfs, a dpkg-query manifest, distinct kernels', async () => {
    const req = await request();
    const res = await fakeConverter(req);
    expect(res.files.sort()).toEqual([req.squashfs!.path, req.manifestPath, req.rootImageGzPath!, ...req.kernels.flatMap((k) => [k.kernelPath, k.initrdPath]), req.kernels[1]!.dtb!.path].sort());
    const { stdout } = await run('unsquashfs', ['-s', req.squashfs!.path]);
    expect(stdout).toMatch(/Compression xz/);
    const { stdout: list } = await run('unsquashfs', ['-l', req.squashfs!.path]);
    expect(list).toContain('squashfs-root/etc/os-release');
    expect(await fsp.readFile(req.manifestPath, 'utf8')).toMatch(/^base-files\t\S+\ncloud-init\t.*\nlinux-generic\t.*\nlinux-generic-hwe-24\.04\t.*\noverlayroot\t.*\nvim\t/s);
    expect(await fsp.readFile(req.kernels[0]!.kernelPath)).not.toEqual(await fsp.readFile(req.kernels[1]!.kernelPath));
    expect(gunzipSync(await fsp.readFile(req.kernels[0]!.initrdPath)).toString()).toContain('package=linux-generic\n');
    // its scratch tree is gone
    expect(await fsp.readdir(req.workDir)).toEqual([]);
  });

  it('is deterministic and honours compression and block size', async () => {
    const a = await request({ squashfs: undefined });
    const base = path.dirname(a.manifestPath);
    const r1 = await fakeConverter({ ...a, squashfs: { path: path.join(base, 's1'), compression: 'zstd', blockSize: '1M' } });
    const r2 = await fakeConverter({ ...a, squashfs: { path: path.join(base, 's2'), compression: 'zstd', blockSize: '1M' } });
    expect(r1.files).toHaveLength(r2.files.length);
    expect(await fsp.readFile(path.join(base, 's1'))).toEqual(await fsp.readFile(path.join(base, 's2')));
    const { stdout } = await run('unsquashfs', ['-s', path.join(base, 's1')]);
    expect(stdout).toMatch(/Compression zstd/);
    expect(stdout).toMatch(/Block size 1048576/);
  });

  it('refuses a missing local source', async () => {
    const req = await request({ source: '/nonexistent/meph-src.img' });
    await expect(fakeConverter(req)).rejects.toBeInstanceOf(SourceFormatError);
  });
});

describe('selectConverter', () => {
  const real = async (): Promise<never> => {
    throw new Error('real');
  };
  it('--fake and MAAS_CLOUDIMG2EPH2=fake|fake-maas-cloudimg2eph2 select the fake', () => {
    expect(selectConverter({ fake: true, env: {}, real }).name).toBe('fake');
    expect(selectConverter({ env: { MAAS_CLOUDIMG2EPH2: 'fake' }, real }).name).toBe('fake');
    expect(selectConverter({ env: { MAAS_CLOUDIMG2EPH2: '/usr/bin/fake-maas-cloudimg2eph2' }, real })).toMatchObject({ name: 'fake', kind: 'fake' });
  });
  it('the main entry does not carry the fake; the chosen fake is loaded on demand and is the same converter', async () => {
    const main = await import('../index.js');
    expect(Object.keys(main).filter((k) => /fake/i.test(k))).toEqual(['FAKE_CONVERTER_NAMES']);
    const viaSelect = await request();
    const direct = await request();
    const a = await selectConverter({ fake: true, env: {} }).converter(viaSelect);
    const b = await fakeConverter(direct);
    expect(a.files.length).toBe(b.files.length);
    const text = async (r: ConvertRequest) => gunzipSync(await fsp.readFile(r.kernels[0]!.initrdPath)).toString().replaceAll(path.dirname(r.source), 'D');
    expect(await text(viaSelect)).toBe(await text(direct));
  });
  it('defaults to the real pipeline; a missing command and a missing pipeline are clear errors', () => {
    expect(selectConverter({ env: {}, real })).toMatchObject({ name: 'real', converter: real });
    expect(selectConverter({ env: { MAAS_CLOUDIMG2EPH2: 'maas-cloudimg2eph2' }, real }).name).toBe('real');
    expect(() => selectConverter({ env: { MAAS_CLOUDIMG2EPH2: 'foo', PATH: '/nonexistent' }, real })).toThrow(/^MAAS_CLOUDIMG2EPH2=foo: no such executable on PATH$/);
    expect(() => selectConverter({ env: { MAAS_CLOUDIMG2EPH2: './no/such/converter' }, real })).toThrow(/^MAAS_CLOUDIMG2EPH2=\.\/no\/such\/converter: no such executable$/);
    expect(() => selectConverter({ env: {} })).toThrow(ConverterUnavailableError);
  });
});
