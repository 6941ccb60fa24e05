import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, SHARED_DIR } from '@meph/test-support';
import { ConfigError } from '../errors.js';
import { loadBuildConfig, parseBuildConfig } from './load.js';

const REF = path.join(SHARED_DIR, 'reference/conf');

const MINIMAL = `releases:
 - version: "24.04"
   release: noble
   kernels:
    - [noble, amd64, ga-24.04, generic, linux-generic, [generic, ga-24.04]]
squashfs: true
content_id: com.example:v3:download
product_id_pre: com.example:v3:boot
`;

function configError(text: string): ConfigError {
  try {
    parseBuildConfig(text, 'test.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('loadBuildConfig: the original configs load unchanged', () => {
  it('reads meph-v3.yaml: 17 releases, noble amd64 has 6 kernel lines, kname %(subarch)s', async () => {
    const c = await loadBuildConfig(path.join(REF, 'meph-v3.yaml'));
    expect(c.releases.map((r) => r.release)).toContain('noble');
    expect(c.releases).toHaveLength(17);
    const noble = c.releases.find((r) => r.release === 'noble')!;
    expect(noble.version).toBe('24.04');
    expect(noble.kernels.filter((k) => k.arch === 'amd64')).toHaveLength(6);
    expect(noble.kernels[0]!.subarches.at(-1)).toBe('ga-24.04');
    expect(c).toMatchObject({ squashfs: true, rootImage: false, enableDi: false, kname: '%(subarch)s', os: 'ubuntu', label: 'candidate', distro: 'ubuntu' });
    expect(c.contentId).toBe('com.ubuntu.maas:candidate:v3:download');
    const precise = c.releases.find((r) => r.release === 'precise')!;
    expect(precise.builtinKernel).toEqual({ armhf: 'linux-highbank', default: 'linux-generic' });
    const mustang = c.releases.find((r) => r.release === 'jammy')!.kernels.find((k) => k.subarch === 'xgene-uboot-mustang')!;
    expect(mustang.khdata).toEqual({ suffix: '.xgene-mustang', kihelper: 'kh-xgene', diFormat: 'xgene', dtb: 'apm-mustang.dtb' });
  });

  it('reads meph-v2.yaml: default kname, d-i on, root-image.gz', async () => {
    const c = await loadBuildConfig(path.join(REF, 'meph-v2.yaml'));
    expect(c.releases.map((r) => r.release)).toEqual(['bionic', 'xenial', 'trusty', 'precise']);
    expect(c).toMatchObject({ kname: '%(krel)s', enableDi: true, rootImage: true, squashfs: false });
  });

  it("reads the project's own configs", async () => {
    const v3 = await loadBuildConfig(path.join(REPO_ROOT, 'conf/meph-v3.yaml'));
    expect(v3.releases.map((r) => r.release)).toEqual(['resolute', 'noble', 'jammy', 'focal']);
    const deb = await loadBuildConfig(path.join(REPO_ROOT, 'conf/debian-bookworm.yaml'));
    expect(deb).toMatchObject({ distro: 'debian', os: 'custom' });
    expect(deb.mirror).toBeUndefined();
    expect(deb.releases[0]!.kernels.map((k) => [k.flavor, k.package])).toEqual([
      ['generic', 'linux-image-amd64'],
      ['cloud', 'linux-image-cloud-amd64'],
    ]);
  });
});

describe('parseBuildConfig: errors name the file, line and key', () => {
  it('rejects a YAML float version (seed 4)', () => {
    const err = configError(MINIMAL.replace('version: "24.04"', 'version: 24.10'));
    expect(err.message).toBe('test.yaml:2: releases[noble].version: must be a quoted string such as "24.10", not a YAML number (24.10 would read as 24.1)');
  });

  it('rejects unknown keys at every level', () => {
    expect(configError(`${MINIMAL}sqashfs: true\n`).message).toMatch(/^test\.yaml:9: sqashfs: unknown key \(allowed: /);
    expect(configError(MINIMAL.replace('   release: noble', '   release: noble\n   kernel: x')).message).toMatch(/^test\.yaml:4: releases\[0\]\.kernel: unknown key/);
    expect(configError(MINIMAL.replace('ga-24.04]]', 'ga-24.04], {sufix: .x}]')).message).toMatch(/^test\.yaml:5: releases\[noble\]\.kernels\[0\]\[6\] \(khdata\)\.sufix: unknown key/);
  });

  it('checks kernel lines field by field', () => {
    expect(configError(MINIMAL.replace(', [generic, ga-24.04]', '')).message).toBe(
      'test.yaml:5: releases[noble].kernels[0]: a kernel line has 6 or 7 fields [krel, arch, subarch, flavor, package, subarches, khdata], got 5',
    );
    expect(configError(MINIMAL.replace('linux-generic,', '[linux-generic],')).key).toBe('releases[noble].kernels[0][4] (package)');
    expect(configError(MINIMAL.replace('[generic, ga-24.04]', 'generic')).message).toMatch(/kernels\[0\]\[5\] \(subarches\): must be a list/);
  });

  it('rejects duplicate releases, missing keys, no image, bad kname', () => {
    const dup = MINIMAL.replace('squashfs: true', ` - version: "24.04"\n   release: noble\n   kernels: []\nsquashfs: true`);
    expect(configError(dup.replace(/\nsquashfs/, '\nsquashfs')).message).toMatch(/releases\[noble\]: duplicate release \(first defined on line 2\)/);
    expect(configError(MINIMAL.replace('content_id: com.example:v3:download\n', '')).message).toBe('test.yaml:1: content_id: is required');
    expect(configError(MINIMAL.replace('squashfs: true', 'squashfs: false')).message).toMatch(/test\.yaml:6: squashfs: neither squashfs nor root_image is enabled/);
    expect(configError(`${MINIMAL}kname: '%(kernel)s'\n`).message).toMatch(/kname: unknown substitution %\(kernel\)s/);
    expect(configError(MINIMAL.replace('squashfs: true', 'squashfs: yes please')).message).toMatch(/test\.yaml:6: squashfs: must be true or false/);
  });

  it('reports YAML syntax errors and duplicate keys with their line', () => {
    expect(configError(`${MINIMAL}releases: []\n`).message).toMatch(/^test\.yaml:9: invalid YAML: Map keys must be unique/);
    expect(configError('releases: [\n').message).toMatch(/^test\.yaml:\d+: invalid YAML/);
  });

  it('accepts CSV or list package lists and the meph keys', () => {
    const c = parseBuildConfig(`${MINIMAL}pre_purge_packages: "a, b c"\nproposed_packages: [x, y]\nmirror: http://m.example/debian/\nlabel: daily\n`, 't.yaml');
    expect(c).toMatchObject({ prePurgePackages: ['a', 'b', 'c'], proposedPackages: ['x', 'y'], mirror: 'http://m.example/debian', label: 'daily' });
  });

  it('names a missing file', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'meph-conf-'));
    try {
      await expect(loadBuildConfig(path.join(dir, 'nope.yaml'))).rejects.toThrow(`${path.join(dir, 'nope.yaml')}: no such config file`);
      await writeFile(path.join(dir, 'empty.yaml'), '');
      await expect(loadBuildConfig(path.join(dir, 'empty.yaml'))).rejects.toThrow('the file is empty');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
