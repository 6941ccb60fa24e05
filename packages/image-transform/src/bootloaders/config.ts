import { ConfigError } from '../errors.js';

/** One `bootloaders:` entry of a meph2-import config (upstream §2.4). */
export interface BootloaderEntry {
  firmwarePlatform: string;
  packages: string[];
  /** The dpkg architecture the packages are fetched for. */
  arch: string;
  /** Free string copied into the product (`"amd64, i386"`). */
  arches: string;
  /** Mirror base URL; absent = the build host's configured Debian mirror (meph). */
  archive?: string;
  release: string;
  os: string;
  files: BootloaderFileRule[];
  allowUniverse: boolean;
  /** grub-mkimage format (the original's ppc64el entry); meph refuses it at import time. */
  grubFormat?: string;
  grubOutput?: string;
  grubConfig?: string;
}

/** A plain path, a glob in the last component (copied under its basename) or `src, dest`. */
export interface BootloaderFileRule {
  source: string;
  dest?: string;
}

export interface BootloadersConfig {
  productId: string;
  contentId: string;
  bootloaders: BootloaderEntry[];
  /** Archive keyrings (meph: `keyrings:` list); default the system's Debian/Ubuntu archive keyrings. */
  keyrings?: string[];
}

const KNOWN = new Set(['firmware-platform', 'packages', 'arch', 'arches', 'archive', 'release', 'os', 'files', 'allow_universe', 'grub_format', 'grub_output', 'grub_config']);

function unsafe(p: string): boolean {
  return p === '' || p.startsWith('/') || p.split('/').includes('..');
}

/** Validates a parsed `bootloaders:` config; errors name the file and the entry. */
export function parseBootloadersConfig(raw: Record<string, unknown>, file: string): BootloadersConfig {
  const str = (v: unknown, key: string): string => {
    if (typeof v !== 'string' || v.trim() === '') throw new ConfigError(file, 'must be a non-empty string', undefined, key);
    return v.trim();
  };
  const productId = str(raw['product_id'], 'product_id');
  const contentId = str(raw['content_id'], 'content_id');
  for (const k of ['{os}', '{firmware_platform}', '{arch}']) {
    if (!productId.includes(k)) throw new ConfigError(file, `must contain ${k} (e.g. "com.ubuntu.maas.candidate:1:{os}:{firmware_platform}:{arch}")`, undefined, 'product_id');
  }
  const list = raw['bootloaders'];
  if (!Array.isArray(list) || list.length === 0) throw new ConfigError(file, 'must be a non-empty list', undefined, 'bootloaders');
  let keyrings: string[] | undefined;
  if (raw['keyrings'] !== undefined) {
    if (!Array.isArray(raw['keyrings']) || raw['keyrings'].some((k) => typeof k !== 'string')) throw new ConfigError(file, 'must be a list of keyring paths', undefined, 'keyrings');
    keyrings = raw['keyrings'] as string[];
  }
  const bootloaders = list.map((e, i): BootloaderEntry => {
    const at = `bootloaders[${i}]`;
    if (!e || typeof e !== 'object' || Array.isArray(e)) throw new ConfigError(file, 'must be a mapping', undefined, at);
    const o = e as Record<string, unknown>;
    const extra = Object.keys(o).filter((k) => !KNOWN.has(k));
    if (extra.length) throw new ConfigError(file, `unknown key(s) ${extra.join(', ')}`, undefined, at);
    const pkgs = o['packages'];
    if (!Array.isArray(pkgs) || pkgs.length === 0 || pkgs.some((p) => typeof p !== 'string' || !/^[a-z0-9][a-z0-9+.-]+$/.test(p))) throw new ConfigError(file, 'must be a list of Debian package names', undefined, `${at}.packages`);
    const files = o['files'];
    if (!Array.isArray(files) || files.length === 0) throw new ConfigError(file, 'must be a non-empty list', undefined, `${at}.files`);
    const rules = files.map((f, j): BootloaderFileRule => {
      if (typeof f !== 'string') throw new ConfigError(file, 'must be a string "path" or "path, newname"', undefined, `${at}.files[${j}]`);
      const [source, dest, more] = f.split(',').map((s) => s.trim());
      if (more !== undefined || !source || unsafe(source) || (dest !== undefined && (dest === '' || dest.includes('/') || dest === '..'))) {
        throw new ConfigError(file, `"${f}": expected a relative path inside the package, optionally ", newname" (no "..", no absolute paths)`, undefined, `${at}.files[${j}]`);
      }
      return dest === undefined ? { source } : { source, dest };
    });
    const archive = o['archive'] === undefined ? undefined : str(o['archive'], `${at}.archive`);
    if (archive !== undefined && !/^(https?|file):\/\//.test(archive)) throw new ConfigError(file, `"${archive}" is not an http(s):// or file:// URL`, undefined, `${at}.archive`);
    const entry: BootloaderEntry = {
      firmwarePlatform: str(o['firmware-platform'], `${at}.firmware-platform`),
      packages: pkgs as string[],
      arch: str(o['arch'], `${at}.arch`),
      arches: str(o['arches'], `${at}.arches`),
      release: str(o['release'], `${at}.release`),
      os: str(o['os'], `${at}.os`),
      files: rules,
      allowUniverse: o['allow_universe'] === true,
      ...(archive !== undefined ? { archive: archive.replace(/\/+$/, '') } : {}),
    };
    if (o['grub_format'] !== undefined) entry.grubFormat = str(o['grub_format'], `${at}.grub_format`);
    if (o['grub_output'] !== undefined) entry.grubOutput = str(o['grub_output'], `${at}.grub_output`);
    if (o['grub_config'] !== undefined) entry.grubConfig = str(o['grub_config'], `${at}.grub_config`);
    return entry;
  });
  return { productId, contentId, bootloaders, ...(keyrings ? { keyrings } : {}) };
}

/** `com.ubuntu.maas.candidate:1:{os}:{firmware_platform}:{arch}` → the entry's product id. */
export function bootloaderProductId(cfg: BootloadersConfig, e: BootloaderEntry): string {
  return cfg.productId.replaceAll('{os}', e.os).replaceAll('{firmware_platform}', e.firmwarePlatform).replaceAll('{arch}', e.arch);
}
