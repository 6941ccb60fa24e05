/**
 * Classifies a path from an installer `images/` tree (as listed in its SHA256SUMS) into the
 * d-i item data the original crawler derives from it, and derives item keys and local paths.
 * Reproduces the original's table (`file_item_data.json`) exactly.
 */

export type DiFtype = 'kernel' | 'initrd' | 'dtb';

export interface DiFileData {
  ftype: DiFtype;
  'image-format': string;
  'initrd-flavor': string;
  'kernel-flavor': string;
  'kernel-release': string;
}

const IGNORED_SEGMENTS = ['xen/', 'cdrom/', 'gtk/', 'hd-media/'];
const INITRD_NAMES = new Set(['initrd.gz', 'initrd.ubuntu', 'uInitrd']);
const KERNEL_NAMES = new Set(['kernel.ubuntu', 'linux', 'uImage', 'vmlinux', 'vmlinuz']);
/** Board directories that name the image format when they are the 3rd of a 4-part path. */
const BOARD_FORMATS = new Set(['beagleboard', 'pandaboard', 'tegra', 'wandboard', 'wandboard-quad', 'xgene']);
/** Known kernel flavors, in the original's order of preference. */
export const KERNEL_FLAVORS = [
  'armadaxp', 'e500', 'e500mc', 'generic', 'generic-lpae', 'highbank', 'keystone',
  'non-pae', 'omap', 'omap4', 'powerpc', 'powerpc64',
] as const;

/** Paths whose kernel-release prefix is `hwe-` (rolling HWE) or `<codename>-`. */
export interface ClassifyOptions {
  /** The release being crawled; it is the kernel-release of unprefixed paths. */
  release: string;
  /** Codenames recognised as a `<codename>-` prefix (besides `hwe`). */
  codenames: ReadonlySet<string>;
}

/** Only these lines of a SHA256SUMS file are considered (as the original). */
export function isNetbootPath(path: string): boolean {
  return /^(.*netboot|.*device-tree|generic\/)/.test(path);
}

function ftypeOf(basename: string): DiFtype | undefined {
  if (INITRD_NAMES.has(basename)) return 'initrd';
  if (KERNEL_NAMES.has(basename)) return 'kernel';
  if (basename.endsWith('.dtb')) return 'dtb';
  return undefined;
}

/** Returns the kernel-release prefix of a path (`hwe` or a known codename), if any. */
function releasePrefix(firstSegment: string, codenames: ReadonlySet<string>): string | undefined {
  const dash = firstSegment.indexOf('-');
  if (dash <= 0) return undefined;
  const prefix = firstSegment.slice(0, dash);
  return prefix === 'hwe' || codenames.has(prefix) ? prefix : undefined;
}

function imageFormatOf(segments: readonly string[], basename: string): string {
  if (basename === 'apm-mustang.dtb') return 'xgene';
  if (segments.includes('xgene-uboot')) return 'xgene';
  if (segments.length === 4) {
    const board = segments.find((s) => BOARD_FORMATS.has(s));
    if (board) return board;
  }
  return 'default';
}

function kernelFlavorOf(segments: readonly string[], prefix: string | undefined): string {
  for (const segment of segments) {
    for (const flavor of KERNEL_FLAVORS) {
      if (segment === flavor || (prefix !== undefined && segment === `${prefix}-${flavor}`)) return flavor;
    }
  }
  return 'generic';
}

/** Classifies one `images/`-relative path; `null` when the original ignores it. */
export function classifyPath(rawPath: string, options: ClassifyOptions): DiFileData | null {
  const path = rawPath.replace(/^\.\//, '');
  if (IGNORED_SEGMENTS.some((s) => path.includes(s))) return null;
  const segments = path.split('/');
  const basename = segments[segments.length - 1] ?? '';
  const ftype = ftypeOf(basename);
  if (!ftype) return null;
  const prefix = releasePrefix(segments[0] ?? '', options.codenames);
  return {
    ftype,
    'image-format': imageFormatOf(segments, basename),
    'initrd-flavor': 'netboot',
    'kernel-flavor': kernelFlavorOf(segments, prefix),
    'kernel-release': prefix ?? options.release,
  };
}

const FLAVOR_KEYS: Record<string, string> = {
  e500: 'e50',
  e500mc: 'e5m',
  'generic-lpae': 'glp',
  omap4: 'om4',
  powerpc: 'ppc',
  powerpc64: 'pp6',
};

/** The compact item key of the original (`get_kfile_key`). */
export function itemKey(release: string, data: DiFileData, basename: string): string {
  const flavor = data['kernel-flavor'];
  const key =
    release.slice(0, 2) +
    data['kernel-release'].slice(0, 2) +
    (FLAVOR_KEYS[flavor] ?? flavor.slice(0, 3)) +
    data.ftype.slice(0, 2) +
    data['initrd-flavor'].slice(0, 3);
  return data.ftype === 'dtb' ? `${key}.${basename.replace(/\.dtb$/, '')}` : `${key}.${data['image-format']}`;
}

/** Local path of a d-i file under a mirror: `files/<release>/<arch>/<di_version>/<krel>/<flavor>/<name>`. */
export function localPath(release: string, arch: string, diVersion: string, data: DiFileData, basename: string): string {
  const fmt = data['image-format'] === 'default' ? '' : `.${data['image-format']}`;
  const name = data.ftype === 'kernel' ? `kernel${fmt}` : data.ftype === 'initrd' ? `initrd-${data['initrd-flavor']}${fmt}` : `dtb.${basename}`;
  return ['files', release, arch, diVersion, data['kernel-release'], data['kernel-flavor'], name].join('/');
}
