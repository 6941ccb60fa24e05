import { PlanError, UnknownReleaseError } from '../errors.js';
import type { BuildConfig, KernelLine, ReleaseConfig } from '../config/types.js';
import type { KernelRequest } from '../converter.js';
import { lookupReleaseInfo } from './release-info.js';
import { formatKname, productId, productSubarch, versionPaths } from './naming.js';

export type ItemName = 'boot-kernel' | 'boot-initrd' | 'boot-dtb' | 'squashfs' | 'root-image.gz' | 'manifest';

/** One item of a planned product: name, ftype and relative path (size/sha256 come later). */
export interface PlannedItem {
  name: ItemName;
  ftype: ItemName;
  path: string;
  /** Only on boot-kernel/boot-initrd/boot-dtb (kept on the item when condensing). */
  kpackage?: string;
}

export interface PlannedProduct {
  productId: string;
  /** Subarch as used in the product id (with the flavour inserted). */
  productSubarch: string;
  kernel: KernelLine;
  /** Fields every item of the product carries (hoisted to the product when condensed). */
  fields: Record<string, string>;
  items: Record<string, PlannedItem>;
}

/** One kernel the converter must install and extract: a KernelRequest whose output paths are still relative to the stream root. */
export type PlannedKernel = KernelRequest;

export interface VersionPlan {
  arch: string;
  release: string;
  /** Release version, e.g. "24.04". */
  releaseVersion: string;
  /** The version name being built, e.g. "20240101". */
  version: string;
  contentId: string;
  products: PlannedProduct[];
  kernels: PlannedKernel[];
  /** Relative paths of the shared image files. */
  squashfsPath?: string;
  rootImageGzPath?: string;
  manifestPath?: string;
  /** `builtin_kernel` resolved for the arch (`none` = purge every kernel). */
  builtinKernel: string;
  /** Every distinct relative file path the version consists of. */
  files: string[];
  warnings: string[];
}

export interface PlanOptions {
  arch: string;
  release: string;
  version: string;
}

/** Version names as the original uses them: a serial, optionally with `.N`. */
const VERSION_NAME_RE = /^[0-9A-Za-z][0-9A-Za-z._-]{0,31}$/;

export function findRelease(config: BuildConfig, release: string): ReleaseConfig {
  const entry = config.releases.find((r) => r.release === release);
  if (!entry) throw new UnknownReleaseError(config.file, release, config.releases.map((r) => r.release));
  return entry;
}

function resolveBuiltinKernel(entry: ReleaseConfig, arch: string): string {
  const b = entry.builtinKernel;
  if (b === null) return 'none';
  if (typeof b === 'string') return b;
  return b[arch] ?? b['default'] ?? 'linux-generic';
}

/**
 * Expands config × (arch, release, version) into products, items and paths, as the
 * original's `create_version` does (upstream-behaviour §2.3). Pure: touches no file.
 */
export function planVersion(config: BuildConfig, options: PlanOptions): VersionPlan {
  const { arch, release, version } = options;
  if (!VERSION_NAME_RE.test(version)) {
    throw new PlanError(`version name ${JSON.stringify(version)} is not valid`, { hint: 'use a serial such as 20240101 or 20240101.1 (letters, digits, . _ -, at most 32 characters)' });
  }
  const entry = findRelease(config, release);
  const plan: VersionPlan = {
    arch,
    release,
    releaseVersion: entry.version,
    version,
    contentId: config.contentId,
    products: [],
    kernels: [],
    builtinKernel: resolveBuiltinKernel(entry, arch),
    files: [],
    warnings: [],
  };
  const lines = entry.kernels.filter((k) => k.arch === arch);
  if (lines.length === 0) {
    const arches = [...new Set(entry.kernels.map((k) => k.arch))].sort();
    plan.warnings.push(`${config.file}: release ${release} has no kernel lines for arch ${arch} (it has: ${arches.join(', ') || 'none'}); nothing to build`);
    return plan;
  }

  const base = versionPaths.base(release, arch, version);
  const items: Partial<Record<ItemName, PlannedItem>> = {};
  if (config.squashfs) {
    plan.squashfsPath = versionPaths.image(base, 'squashfs');
    items.squashfs = { name: 'squashfs', ftype: 'squashfs', path: plan.squashfsPath };
  }
  if (config.rootImage || release === 'trusty') {
    plan.rootImageGzPath = versionPaths.image(base, 'root-image.gz');
    items['root-image.gz'] = { name: 'root-image.gz', ftype: 'root-image.gz', path: plan.rootImageGzPath };
  }
  plan.manifestPath = versionPaths.image(base, config.squashfs ? 'squashfs.manifest' : 'root-image.manifest');
  items.manifest = { name: 'manifest', ftype: 'manifest', path: plan.manifestPath };

  const info = lookupReleaseInfo(config.distro, release);
  const releaseFields: Record<string, string> = {};
  const title = entry.releaseTitle ?? info?.releaseTitle ?? entry.version;
  releaseFields['release_title'] = title;
  const codename = entry.releaseCodename ?? info?.releaseCodename;
  if (codename) releaseFields['release_codename'] = codename;
  const eol = entry.supportEol ?? info?.supportEol;
  if (eol) {
    releaseFields['support_eol'] = eol;
    releaseFields['support_esm_eol'] = entry.supportEsmEol ?? info?.supportEsmEol ?? eol;
  }

  const kernelsByPath = new Map<string, PlannedKernel>();
  const ids = new Map<string, KernelLine>();
  for (const k of lines) {
    const psubarch = productSubarch(k.subarch, k.flavor);
    const id = productId(config.productIdPre, entry.version, arch, psubarch);
    const dup = ids.get(id);
    if (dup) throw new PlanError(`${config.file}:${k.line}: product id ${id} is also produced by the kernel line on line ${dup.line}`, { hint: 'each kernel line of a release/arch needs a distinct subarch/flavour' });
    ids.set(id, k);

    const kname = formatKname(config.kname, {
      krel: k.krel, arch, subarch: k.subarch, flavor: k.flavor, kflavor: k.flavor, release, version: entry.version, version_name: version,
    });
    const suffix = k.khdata.suffix ?? '';
    const kernelPath = versionPaths.boot(base, kname, k.flavor, 'boot-kernel', suffix);
    const initrdPath = versionPaths.boot(base, kname, k.flavor, 'boot-initrd', suffix);
    const dtbPath = k.khdata.dtb ? versionPaths.boot(base, kname, k.flavor, 'boot-dtb', suffix) : undefined;
    const prior = kernelsByPath.get(kernelPath);
    if (prior && prior.package !== k.package) {
      throw new PlanError(`${config.file}:${k.line}: kernel ${k.package} would be written to ${kernelPath}, where ${prior.package} also goes`, { hint: 'give the kernel lines distinct subarches or use a kname with %(subarch)s' });
    }
    if (!prior) {
      const pk: PlannedKernel = { package: k.package, flavor: k.flavor, kernelPath, initrdPath };
      if (dtbPath) pk.dtb = { name: k.khdata.dtb!, path: dtbPath };
      if (k.khdata.kihelper) pk.kihelper = k.khdata.kihelper;
      kernelsByPath.set(kernelPath, pk);
    }

    const productItems: Record<string, PlannedItem> = {
      'boot-kernel': { name: 'boot-kernel', ftype: 'boot-kernel', path: kernelPath, kpackage: k.package },
      'boot-initrd': { name: 'boot-initrd', ftype: 'boot-initrd', path: initrdPath, kpackage: k.package },
    };
    if (dtbPath) productItems['boot-dtb'] = { name: 'boot-dtb', ftype: 'boot-dtb', path: dtbPath, kpackage: k.package };
    for (const it of Object.values(items)) productItems[it.name] = { ...it };

    plan.products.push({
      productId: id,
      productSubarch: psubarch,
      kernel: k,
      fields: {
        arch,
        kflavor: k.flavor,
        krel: k.krel,
        label: config.label,
        os: config.os,
        release,
        subarch: k.subarch,
        subarches: k.subarches.join(','),
        version: entry.version,
        ...releaseFields,
      },
      items: productItems,
    });
  }
  plan.kernels = [...kernelsByPath.values()];
  plan.files = [...new Set(plan.products.flatMap((p) => Object.values(p.items).map((i) => i.path)))].sort();
  return plan;
}
