import { compareVersions } from '@meph/simplestreams';

/**
 * What MAAS knows about product kinds, item keys and file types (maas-acceptance.md R-PROD,
 * R-ITEMS, R-FILTER). The checks read raw, possibly malformed documents, hence `unknown`.
 */

export type Rec = Record<string, unknown>;

export function isRecord(v: unknown): v is Rec {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function records(v: unknown): Array<[string, Rec]> {
  if (!isRecord(v)) return [];
  return Object.entries(v).filter((e): e is [string, Rec] => isRecord(e[1]));
}

export type ProductKind = 'bootloader' | 'multi-file' | 'single-file';

export const BOOTLOADER_ITEM_KEYS = ['grub2-signed', 'shim-signed', 'grub2', 'syslinux'] as const;
export const MULTI_FILE_ITEM_KEYS = ['boot-kernel', 'boot-initrd', 'manifest', 'squashfs', 'root-image.gz'] as const;
export const SINGLE_FILE_ITEM_KEYS = ['root-tgz', 'manifest'] as const;

/** Item keys the 3.8 model reads for each kind; other items are ignored by it. */
export const MODEL_ITEM_KEYS: Record<ProductKind, readonly string[]> = {
  bootloader: BOOTLOADER_ITEM_KEYS,
  'multi-file': MULTI_FILE_ITEM_KEYS,
  'single-file': SINGLE_FILE_ITEM_KEYS,
};

/** Fields of the 3.8 version models; an item with one of these names clobbers the field. */
export const VERSION_MODEL_FIELDS = ['version_name', 'support_eol', 'support_esm_eol', 'items'];

/** `BootResourceFileType` (3.8) = `BOOT_RESOURCE_FILE_TYPE_CHOICES` (3.7). */
export const MAAS_FTYPES = new Set([
  'root-tgz', 'root-tbz', 'root-txz', 'root-dd', 'root-dd.tar', 'root-dd.raw', 'root-dd.bz2', 'root-dd.gz',
  'root-dd.xz', 'root-dd.tar.bz2', 'root-dd.tar.xz', 'self-extracting', 'root-image.gz', 'squashfs',
  'boot-kernel', 'boot-initrd', 'boot-dtb', 'archive.tar.xz',
]);

/** The bootloaders MAAS downloads: (bootloader-type, os, arch). */
export const SUPPORTED_BOOTLOADERS: ReadonlyArray<readonly [string, string, string]> = [
  ['pxe', 'pxelinux', 'i386'],
  ['uefi', 'grub-efi-signed', 'amd64'],
  ['uefi', 'grub-efi', 'arm64'],
  ['open-firmware', 'grub-ieee1275', 'ppc64el'],
];

/** Files MAAS serves from an extracted bootloader archive, by `<bootloader-type>/<arch>`. */
export const BOOTLOADER_FILES: Record<string, { required: string[] }> = {
  'uefi/amd64': { required: ['bootx64.efi', 'grubx64.efi'] },
  'uefi/arm64': { required: ['bootaa64.efi', 'grubaa64.efi'] },
  'open-firmware/ppc64el': { required: ['bootppc64.bin'] },
  'pxe/i386': { required: ['lpxelinux.0', 'chain.c32', 'ifcpu64.c32', 'ldlinux.c32', 'libcom32.c32', 'libutil.c32'] },
};

export const MAAS_OS_NAMES = new Set(['ubuntu', 'centos', 'rhel', 'ol', 'suse', 'esxi', 'windows', 'custom', 'ubuntu-core']);

/** Item records of one version (the `items` object), tolerant of a malformed document. */
export function versionItems(version: Rec): Array<[string, Rec]> {
  return records(version['items']);
}

function itemKeysOf(product: Rec): Set<string> {
  const keys = new Set<string>();
  for (const [, version] of records(product['versions'])) for (const [k] of versionItems(version)) keys.add(k);
  return keys;
}

/**
 * The kind the product is meant to be, judged the way the 3.8 factory would try it, or
 * undefined when it looks like no MAAS kind at all (cloud image-ids, notifications…).
 */
export function classifyProduct(product: Rec, doc: Rec): ProductKind | undefined {
  if (product['bootloader-type'] !== undefined || doc['bootloader-type'] !== undefined) return 'bootloader';
  const keys = itemKeysOf(product);
  if (BOOTLOADER_ITEM_KEYS.some((k) => keys.has(k))) return 'bootloader';
  if (['boot-kernel', 'boot-initrd', 'squashfs', 'root-image.gz'].some((k) => keys.has(k))) return 'multi-file';
  if ([...keys].some((k) => k.startsWith('root-'))) return 'single-file';
  // an image product whose versions lost their root file: tell the kinds apart by the OS
  if (product['release'] !== undefined && product['subarch'] !== undefined && keys.has('manifest')) {
    const os = flattened('os', doc, product) ?? 'ubuntu';
    return String(os).startsWith('ubuntu') ? 'multi-file' : 'single-file';
  }
  return undefined;
}

/** A field as the 3.7 importer sees it after flattening: lowest level wins, scalars only. */
export function flattened(field: string, ...levels: Array<Rec | undefined>): unknown {
  let value: unknown;
  for (const level of levels) {
    const v = level?.[field];
    if (v !== undefined && (v === null || typeof v !== 'object')) value = v;
  }
  return value;
}

/** Where a product-level field can be found when it is not on the product itself. */
export function foundElsewhere(field: string, product: Rec, doc: Rec): 'top level' | 'versions or items' | undefined {
  if (doc[field] !== undefined) return 'top level';
  for (const [, version] of records(product['versions'])) {
    if (version[field] !== undefined) return 'versions or items';
    for (const [, item] of versionItems(version)) if (item[field] !== undefined) return 'versions or items';
  }
  return undefined;
}

/** Version names in the order both importers use to pick the newest: plain string compare. */
export function newestVersion(product: Rec): string | undefined {
  let newest: string | undefined;
  for (const [name] of records(product['versions'])) if (newest === undefined || compareVersions(name, newest) > 0) newest = name;
  return newest;
}

export function describeType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}
