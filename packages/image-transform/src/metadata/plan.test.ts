import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, SHARED_DIR } from '@meph/test-support';
import { loadBuildConfig, parseBuildConfig } from '../config/load.js';
import type { BuildConfig } from '../config/types.js';
import { PlanError, UnknownReleaseError } from '../errors.js';
import { productSubarch } from './naming.js';
import { planVersion } from './plan.js';

let v3: BuildConfig;
let v2: BuildConfig;
beforeAll(async () => {
  v3 = await loadBuildConfig(path.join(SHARED_DIR, 'reference/conf/meph-v3.yaml'));
  v2 = await loadBuildConfig(path.join(SHARED_DIR, 'reference/conf/meph-v2.yaml'));
});

describe('planVersion (create_version)', () => {
  it('seed 1: noble/amd64 with v3 gives exactly the six products, sharing one squashfs', async () => {
    const plan = planVersion(v3, { arch: 'amd64', release: 'noble', version: '20240101' });
    const pre = 'com.ubuntu.maas.candidate:v3:boot:24.04:amd64:';
    expect(plan.products.map((p) => p.productId).sort()).toEqual(
      ['ga-24.04', 'ga-24.04-lowlatency', 'hwe-24.04', 'hwe-24.04-lowlatency', 'hwe-24.04-edge', 'hwe-24.04-lowlatency-edge'].map((s) => pre + s).sort(),
    );
    for (const p of plan.products) {
      expect(Object.keys(p.items).sort()).toEqual(['boot-initrd', 'boot-kernel', 'manifest', 'squashfs']);
      expect(p.items['squashfs']!.path).toBe('noble/amd64/20240101/squashfs');
      expect(p.items['manifest']!.path).toBe('noble/amd64/20240101/squashfs.manifest');
      expect(p.items['boot-kernel']!.kpackage).toBe(p.kernel.package);
      expect(p.items['squashfs']!.kpackage).toBeUndefined();
    }
    expect(plan.kernels).toHaveLength(6);
    expect(plan.files).toHaveLength(2 + 12);
    // the project's own config builds the same products for noble/amd64
    const own = planVersion(await loadBuildConfig(path.join(REPO_ROOT, 'conf/meph-v3.yaml')), { arch: 'amd64', release: 'noble', version: '20240101' });
    expect(own.products.map((p) => p.productId)).toEqual(plan.products.map((p) => p.productId));
    expect(own.products.map((p) => p.kernel.package)).toEqual(plan.products.map((p) => p.kernel.package));
  });

  it('seed 1: product fields are the raw subarch, kflavor, krel, subarches CSV, label, os and distro-info data', () => {
    const plan = planVersion(v3, { arch: 'amd64', release: 'noble', version: '20240101' });
    const ll = plan.products.find((p) => p.productSubarch === 'hwe-24.04-lowlatency-edge')!;
    expect(ll.fields).toMatchObject({
      arch: 'amd64', kflavor: 'lowlatency', krel: 'noble', subarch: 'hwe-24.04-edge', label: 'candidate', os: 'ubuntu', release: 'noble', version: '24.04',
    });
    expect(ll.fields['subarches']!.split(',')).toContain('hwe-24.04');
    expect(ll.fields['subarches']).not.toContain(' ');
    // from /usr/share/distro-info/ubuntu.csv (distro-info-data)
    expect(ll.fields).toMatchObject({ release_codename: 'Noble Numbat', release_title: '24.04 LTS', support_eol: '2029-05-31', support_esm_eol: '2034-04-25' });
  });

  it('seed 2: the flavour insertion rule of the product subarch', () => {
    expect(productSubarch('hwe-22.04-edge', 'lowlatency')).toBe('hwe-22.04-lowlatency-edge');
    expect(productSubarch('generic-lpae', 'generic-lpae')).toBe('generic-lpae-generic-lpae');
    expect(productSubarch('highbank', 'highbank')).toBe('highbank-highbank');
    expect(productSubarch('ga-24.04', 'generic')).toBe('ga-24.04');
    const jammy = planVersion(v3, { arch: 'armhf', release: 'jammy', version: '20240101' });
    expect(jammy.products.map((p) => p.productSubarch)).toContain('generic-lpae-generic-lpae');
  });

  it('seed 3: boot paths use the subarch in v3 and krel in v2, with khdata suffix and dtb', () => {
    const jammy = planVersion(v3, { arch: 'arm64', release: 'jammy', version: '20240101' });
    const edge = jammy.products.find((p) => p.productSubarch === 'hwe-22.04-lowlatency-edge')!;
    expect(edge.items['boot-kernel']!.path).toBe('jammy/arm64/20240101/hwe-22.04-edge/lowlatency/boot-kernel');
    const mustang = jammy.products.find((p) => p.productSubarch === 'xgene-uboot-mustang')!;
    expect(mustang.items['boot-kernel']!.path).toBe('jammy/arm64/20240101/xgene-uboot-mustang/generic/boot-kernel.xgene-mustang');
    expect(mustang.items['boot-dtb']).toEqual({ name: 'boot-dtb', ftype: 'boot-dtb', path: 'jammy/arm64/20240101/xgene-uboot-mustang/generic/boot-dtb.xgene-mustang', kpackage: 'linux-generic' });
    expect(jammy.kernels.find((k) => k.dtb)).toMatchObject({ dtb: { name: 'apm-mustang.dtb' }, kihelper: 'kh-xgene' });

    const trusty = planVersion({ ...v2, enableDi: false }, { arch: 'amd64', release: 'trusty', version: '20160101' });
    const utopic = trusty.products.find((p) => p.kernel.krel === 'utopic')!;
    expect(utopic.items['boot-kernel']!.path).toBe('trusty/amd64/20160101/utopic/generic/boot-kernel');
    expect(utopic.productId).toBe('com.ubuntu.maas.daily:v2:boot:14.04:amd64:hwe-u');
    expect(utopic.items['manifest']!.path).toBe('trusty/amd64/20160101/root-image.manifest');
  });

  it('seed 4: an arch without kernel lines is a warning and an empty plan', () => {
    const plan = planVersion(v3, { arch: 'riscv64', release: 'plucky', version: '20250101' });
    expect(plan.products).toEqual([]);
    expect(plan.warnings[0]).toMatch(/release plucky has no kernel lines for arch riscv64 \(it has: amd64, arm64, armhf, ppc64el, s390x\)/);
  });

  it('seed 5: trusty in v3 also gets root-image.gz; squashfs.manifest stays the manifest', () => {
    const plan = planVersion(v3, { arch: 'amd64', release: 'trusty', version: '20240101' });
    for (const p of plan.products) {
      expect(Object.keys(p.items).sort()).toEqual(['boot-initrd', 'boot-kernel', 'manifest', 'root-image.gz', 'squashfs']);
      expect(p.items['root-image.gz']!.path).toBe('trusty/amd64/20240101/root-image.gz');
    }
    expect(planVersion(v3, { arch: 'amd64', release: 'noble', version: '1' }).rootImageGzPath).toBeUndefined();
  });

  it('a release missing from the config is a clear error (the original crashes)', () => {
    expect(() => planVersion(v3, { arch: 'amd64', release: 'nobel', version: '20240101' })).toThrow(UnknownReleaseError);
    expect(() => planVersion(v3, { arch: 'amd64', release: 'nobel', version: '20240101' })).toThrow(/release "nobel" is not in the config/);
  });

  it('refuses bad version names and duplicate product ids', () => {
    expect(() => planVersion(v3, { arch: 'amd64', release: 'noble', version: '../x' })).toThrow(PlanError);
    const dup = parseBuildConfig(
      `releases:\n - version: "24.04"\n   release: noble\n   kernels:\n    - [noble, amd64, ga-24.04, generic, linux-generic, [generic]]\n    - [noble, amd64, ga-24.04, generic, linux-generic, [generic]]\nsquashfs: true\ncontent_id: a:b\nproduct_id_pre: a:v3:boot\n`,
      'dup.yaml',
    );
    expect(() => planVersion(dup, { arch: 'amd64', release: 'noble', version: '1' })).toThrow(/dup\.yaml:6: product id a:v3:boot:24\.04:amd64:ga-24\.04 is also produced by the kernel line on line 5/);
  });

  it('the Debian config: ga-12 generic and ga-12-cloud, os custom, distro-info from debian.csv', async () => {
    const deb = await loadBuildConfig(path.join(REPO_ROOT, 'conf/debian-bookworm.yaml'));
    const plan = planVersion(deb, { arch: 'amd64', release: 'bookworm', version: '20260101' });
    expect(plan.products.map((p) => p.productId)).toEqual(['org.debian.meph.candidate:v3:boot:12:amd64:ga-12', 'org.debian.meph.candidate:v3:boot:12:amd64:ga-12-cloud']);
    expect(plan.products[1]!.fields).toMatchObject({ os: 'custom', kflavor: 'cloud', subarch: 'ga-12', subarches: 'ga-12', release: 'bookworm', version: '12', release_title: 'Debian 12 (bookworm)', release_codename: 'Bookworm' });
    expect(plan.products[1]!.items['boot-kernel']!.path).toBe('bookworm/amd64/20260101/ga-12/cloud/boot-kernel');
  });
});
