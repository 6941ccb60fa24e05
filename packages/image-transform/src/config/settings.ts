import { ConfigError } from '../errors.js';
import type { BuildConfig } from './types.js';
import { IMAGE_FORMATS, SQUASHFS_COMPRESSIONS, type ImageFormatSetting, type SquashfsCompression } from './options.js';

export { IMAGE_FORMATS, SQUASHFS_COMPRESSIONS, type ImageFormatSetting, type SquashfsCompression };

/** Environment variables meph2-build reads, by setting. Documented in conf/README.md. */
export const BUILD_ENV = {
  config: ['MEPH_CONFIG', 'MEPH2_CONFIG_YAML'],
  proposed: 'MEPH_PROPOSED',
  enableDi: 'MEPH_ENABLE_DI',
  proposedPackages: 'MEPH_PROPOSED_PACKAGES',
  prePurgePackages: 'MEPH_PRE_PURGE_PACKAGES',
  mirror: 'MEPH_MIRROR',
  imageFormat: 'MEPH_IMAGE_FORMAT',
  squashfsCompression: 'MEPH_SQUASHFS_COMPRESSION',
  squashfsBlockSize: 'MEPH_SQUASHFS_BLOCK_SIZE',
  addRepos: 'M2E_ADD_REPOS',
  addPackages: 'M2E_ADD_PACKAGES',
} as const;

/** Values given on the command line; undefined = not given. */
export interface BuildFlags {
  config?: string;
  /** Like the original, `--proposed` can only switch proposed on. */
  proposed?: boolean;
  enableDi?: boolean;
  proposedPackages?: string[];
  prePurgePackages?: string[];
  mirror?: string;
  imageFormat?: ImageFormatSetting;
  squashfsCompression?: SquashfsCompression;
  squashfsBlockSize?: string;
}

/** The build flags as meph2-build and meph2-cloudimg-sync take them: --enable-di/--disable-di, package lists as CSV. */
export interface BuildFlagOptions {
  proposed?: boolean;
  enableDi?: boolean;
  disableDi?: boolean;
  proposedPackages?: string;
  prePurgePackages?: string;
  mirror?: string;
  imageFormat?: ImageFormatSetting;
  squashfsCompression?: SquashfsCompression;
  squashfsBlockSize?: string;
}

/** {@link BuildFlags} from the command-line form: only what was given, `--proposed` only switching it on. */
export function buildFlagsFrom(o: BuildFlagOptions): BuildFlags {
  const csv = (v: string): string[] => v.split(',').map((s) => s.trim()).filter(Boolean);
  const flags: BuildFlags = {};
  if (o.proposed) flags.proposed = true;
  if (o.enableDi) flags.enableDi = true;
  if (o.disableDi) flags.enableDi = false;
  if (o.proposedPackages !== undefined) flags.proposedPackages = csv(o.proposedPackages);
  if (o.prePurgePackages !== undefined) flags.prePurgePackages = csv(o.prePurgePackages);
  if (o.imageFormat) flags.imageFormat = o.imageFormat;
  if (o.squashfsCompression) flags.squashfsCompression = o.squashfsCompression;
  if (o.squashfsBlockSize) flags.squashfsBlockSize = o.squashfsBlockSize;
  if (o.mirror) flags.mirror = o.mirror;
  return flags;
}

/** The effective build settings after flags > env > config file > defaults. */
export interface BuildSettings {
  proposed: boolean;
  enableDi: boolean;
  proposedPackages: string[];
  prePurgePackages: string[];
  mirror?: string;
  imageFormat: ImageFormatSetting;
  squashfsCompression: SquashfsCompression;
  squashfsBlockSize?: string;
  /** M2E_ADD_REPOS / M2E_ADD_PACKAGES (the original's variables; comma- or space-separated). */
  addRepos: string[];
  addPackages: string[];
}

const BLOCK_SIZE_RE = /^(4096|8192|16384|32768|65536|131072|262144|524288|1048576|4K|8K|16K|32K|64K|128K|256K|512K|1M)$/i;

function envError(name: string, value: string, detail: string): ConfigError {
  return new ConfigError('environment', `${JSON.stringify(value)} ${detail}`, undefined, name);
}

function envBool(env: NodeJS.ProcessEnv, name: string): boolean | undefined {
  const v = env[name];
  if (v === undefined || v === '') return undefined;
  if (/^(1|true|yes|on)$/i.test(v)) return true;
  if (/^(0|false|no|off)$/i.test(v)) return false;
  throw envError(name, v, 'is not a boolean (use 1/0, true/false)');
}

function envCsv(env: NodeJS.ProcessEnv, name: string): string[] | undefined {
  const v = env[name];
  return v === undefined ? undefined : v.split(/[\s,]+/).filter(Boolean);
}

function envChoice<T extends string>(env: NodeJS.ProcessEnv, name: string, choices: readonly T[]): T | undefined {
  const v = env[name];
  if (v === undefined || v === '') return undefined;
  if (!(choices as readonly string[]).includes(v)) throw envError(name, v, `is not one of ${choices.join(', ')}`);
  return v as T;
}

/** Checks a mksquashfs block size (4K … 1M, a power of two). */
export function checkSquashfsBlockSize(value: string, source: string): string {
  if (!BLOCK_SIZE_RE.test(value)) throw new ConfigError(source, `${JSON.stringify(value)} is not a squashfs block size (a power of two from 4K to 1M, e.g. 128K or 1M)`);
  return value;
}

/**
 * Which config file to load: `--config` > MEPH_CONFIG > MEPH2_CONFIG_YAML (the original's
 * variable) > the given default (the project's conf/meph-v3.yaml).
 */
export function resolveConfigPath(flag: string | undefined, env: NodeJS.ProcessEnv, fallback: string): string {
  if (flag) return flag;
  for (const name of BUILD_ENV.config) if (env[name]) return env[name];
  return fallback;
}

/** Merges flags, MEPH_* environment variables, config file values and defaults, in that order. */
export function resolveBuildSettings(config: BuildConfig, flags: BuildFlags, env: NodeJS.ProcessEnv): BuildSettings {
  const e = BUILD_ENV;
  const envBlock = env[e.squashfsBlockSize] || undefined;
  const envMirror = env[e.mirror] || undefined;
  if (envMirror !== undefined && !/^https?:\/\/\S+$/.test(envMirror)) throw envError(e.mirror, envMirror, 'is not an http(s) URL');
  const settings: BuildSettings = {
    proposed: flags.proposed === true ? true : (envBool(env, e.proposed) ?? config.enableProposed),
    enableDi: flags.enableDi ?? envBool(env, e.enableDi) ?? config.enableDi,
    proposedPackages: flags.proposedPackages ?? envCsv(env, e.proposedPackages) ?? config.proposedPackages,
    prePurgePackages: flags.prePurgePackages ?? envCsv(env, e.prePurgePackages) ?? config.prePurgePackages,
    imageFormat: flags.imageFormat ?? envChoice(env, e.imageFormat, IMAGE_FORMATS) ?? 'auto',
    squashfsCompression: flags.squashfsCompression ?? envChoice(env, e.squashfsCompression, SQUASHFS_COMPRESSIONS) ?? 'xz',
    addRepos: envCsv(env, e.addRepos) ?? [],
    addPackages: envCsv(env, e.addPackages) ?? [],
  };
  if (flags.mirror !== undefined && !/^https?:\/\/\S+$/.test(flags.mirror)) {
    throw new ConfigError('--mirror', `${JSON.stringify(flags.mirror)} is not an http(s) URL`);
  }
  const mirror = flags.mirror ?? envMirror ?? config.mirror;
  if (mirror !== undefined) settings.mirror = mirror.replace(/\/+$/, '');
  const block = flags.squashfsBlockSize ?? (envBlock === undefined ? undefined : checkSquashfsBlockSize(envBlock, `environment: ${e.squashfsBlockSize}`));
  if (block !== undefined) settings.squashfsBlockSize = checkSquashfsBlockSize(block, '--squashfs-block-size');
  return settings;
}
