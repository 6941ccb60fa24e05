import { PlanError } from '../errors.js';

/**
 * The subarch used in the product id: the flavour is inserted when it is not `generic` —
 * before a trailing `-edge`, else appended (`hwe-24.04-edge` + lowlatency →
 * `hwe-24.04-lowlatency-edge`; `generic-lpae` + generic-lpae → `generic-lpae-generic-lpae`).
 */
export function productSubarch(subarch: string, flavor: string): string {
  if (flavor === 'generic') return subarch;
  if (subarch.endsWith('-edge')) return `${subarch.slice(0, -'-edge'.length)}-${flavor}-edge`;
  return `${subarch}-${flavor}`;
}

/** `<product_id_pre>:<release version>:<arch>:<product subarch>`. */
export function productId(prefix: string, releaseVersion: string, arch: string, psubarch: string): string {
  return `${prefix}:${releaseVersion}:${arch}:${psubarch}`;
}

/** Python-style `%(name)s` formatting, as the original's `kname`. */
export function formatKname(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(/%\((\w+)\)s/g, (_, name: string) => {
    const v = values[name];
    if (v === undefined) throw new PlanError(`kname ${JSON.stringify(template)}: unknown substitution %(${name})s`);
    return v;
  });
}

/** Relative paths of one version's files, as the original's PATH_FORMATS. */
export const versionPaths = {
  base: (release: string, arch: string, version: string): string => `${release}/${arch}/${version}`,
  image: (base: string, name: 'squashfs' | 'root-image.gz' | 'squashfs.manifest' | 'root-image.manifest'): string => `${base}/${name}`,
  boot: (base: string, kname: string, flavor: string, file: 'boot-kernel' | 'boot-initrd' | 'boot-dtb', suffix = ''): string =>
    `${base}/${kname}/${flavor}/${file}${suffix}`,
};
