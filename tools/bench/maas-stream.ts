// Synthetic MAAS v3 products stream generator shared by the benchmarks (shape of
// ../shared/reference/streams/maas-sitemanager-fixture/ss_product_noble.json: product-level
// arch/label/os/release…, items boot-kernel/boot-initrd/squashfs/manifest with
// ftype/path/sha256/size(/kpackage)).
import { createHash } from 'node:crypto';
import type { ProductsDocument } from '@meph/simplestreams';

export interface MaasShape {
  releases: number;
  arches: readonly string[];
  subarches: number;
  versions: number;
}

export const ITEM_NAMES = ['boot-kernel', 'boot-initrd', 'squashfs', 'manifest'] as const;

export function itemCount(s: MaasShape): number {
  return s.releases * s.arches.length * s.subarches * s.versions * ITEM_NAMES.length;
}

/** `--name N` from the command line, or the default. */
export function numberArg(name: string, dflt: number): number {
  const at = process.argv.indexOf(name);
  return at >= 0 ? Number(process.argv[at + 1]) : dflt;
}

/**
 * The benchmarks' standard shape (20 releases × 5 arches × 25 subarches) with enough versions
 * for at least `items` items; `extraVersions` adds versions beyond that.
 */
export function shapeForItems(items: number, extraVersions = 0): MaasShape {
  const base = { releases: 20, arches: ['amd64', 'arm64', 'ppc64el', 's390x', 'riscv64'], subarches: 25 };
  const perVersion = base.releases * base.arches.length * base.subarches * ITEM_NAMES.length;
  return { ...base, versions: Math.ceil(items / perVersion) + extraVersions };
}

const fakeSha = (s: string): string => createHash('sha256').update(s).digest('hex');

/** Product/version/item names and data paths of a synthetic MAAS stream, in generation order. */
export function* maasItems(s: MaasShape): Generator<{ product: string; release: string; arch: string; subarch: string; version: string; item: string; path: string }> {
  for (let r = 0; r < s.releases; r++) {
    const release = `rel${String(r).padStart(2, '0')}`;
    for (const arch of s.arches)
      for (let k = 0; k < s.subarches; k++) {
        const subarch = `ga-${10 + r}.04-k${k}`;
        const product = `com.ubuntu.maas.stable:v3:boot:${10 + r}.04:${arch}:${subarch}`;
        for (let v = 0; v < s.versions; v++) {
          const version = `2025${String(1 + (v % 12)).padStart(2, '0')}${String(1 + (v % 28)).padStart(2, '0')}.${v}`;
          for (const item of ITEM_NAMES) {
            const path =
              item === 'squashfs' ? `${release}/${arch}/${version}/squashfs` : item === 'manifest' ? `${release}/${arch}/${version}/squashfs.manifest` : `${release}/${arch}/${version}/${subarch}/generic/${item}`;
            yield { product, release, arch, subarch, version, item, path };
          }
        }
      }
  }
}

export function makeMaasStream(s: MaasShape): ProductsDocument {
  const doc: ProductsDocument = { format: 'products:1.0', content_id: 'com.ubuntu.maas:stable:v3:download', datatype: 'image-ids', updated: 'Thu, 24 Jul 2025 08:01:49 +0000', products: {} };
  for (const it of maasItems(s)) {
    const product = (doc.products[it.product] ??= {
      arch: it.arch,
      kflavor: 'generic',
      krel: it.release,
      label: 'stable',
      os: 'ubuntu',
      release: it.release,
      release_codename: `Codename ${it.release}`,
      release_title: `${it.release} LTS`,
      subarch: it.subarch,
      subarches: 'generic,hwe-p,hwe-q,hwe-r,hwe-s,hwe-t,hwe-u,hwe-v,hwe-w,ga-16.04,ga-18.04,ga-20.04,ga-22.04,ga-24.04',
      support_eol: '2029-05-31',
      support_esm_eol: '2034-04-25',
      version: it.release,
      versions: {},
    });
    const version = (product.versions[it.version] ??= { items: {} });
    version.items[it.item] = {
      ftype: it.item === 'manifest' ? 'manifest' : it.item,
      ...(it.item.startsWith('boot-') ? { kpackage: 'linux-generic' } : {}),
      path: it.path,
      sha256: fakeSha(`${it.product}/${it.version}/${it.item}`),
      size: 1000 + (it.path.length * 7919) % 100000,
    };
  }
  return doc;
}
