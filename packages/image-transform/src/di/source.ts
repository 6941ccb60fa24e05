import { existsSync } from 'node:fs';
import { DI_KEYRINGS, NETBOOT_ARCHES, supportedReleases, ubuntuDiArchive, type DiDistro, type DistroRelease } from '@meph/di-crawler';
import type { BuildConfig } from '../config/types.js';
import { hostDebianMirror } from '../config/host-mirror.js';
import { DiUnavailableError } from '../errors.js';

/** Where d-i files come from; every field optional (defaults below). */
export interface DiSourceOptions {
  /** Archive root (holding `dists/`) for every arch: `--di-archive`. */
  archive?: string;
  /** Keyrings verifying the archive's Release/SHA256SUMS: `--di-keyring`. */
  keyrings?: readonly string[];
}

/** A resolved d-i source: archive root per arch and the keyrings to verify it with. */
export interface DiSource {
  archiveFor: (arch: string) => string;
  keyrings: string[];
}

/**
 * Resolves the d-i archive and keyrings: `--di-archive`/`--di-keyring` when given; otherwise
 * for Ubuntu configs the original's archive/ports hosts and the Ubuntu archive keyring, for
 * Debian configs the image's apt mirror (`mirror`: flag, env, config) or else the build host's
 * configured Debian mirror, and the Debian archive keyring.
 */
export async function resolveDiSource(config: Pick<BuildConfig, 'distro' | 'mirror'>, release: string, options: DiSourceOptions & { mirror?: string } = {}): Promise<DiSource> {
  const keyringInfo = DI_KEYRINGS[config.distro];
  const keyrings = options.keyrings?.length ? [...options.keyrings] : [keyringInfo.path];
  for (const k of keyrings) {
    if (!existsSync(k)) {
      const hint = options.keyrings?.length ? 'give an existing keyring with --di-keyring' : `apt-get install ${keyringInfo.package}, or give --di-keyring FILE`;
      throw new DiUnavailableError(options.archive ?? `of ${config.distro}`, `keyring ${k} does not exist`, { hint });
    }
  }
  if (options.archive) {
    const archive = options.archive;
    return { archiveFor: () => archive, keyrings };
  }
  if (config.distro === 'debian') {
    const mirror = options.mirror ?? config.mirror ?? (await hostDebianMirror(release));
    if (!mirror) throw new DiUnavailableError('of debian', 'no Debian mirror is configured in this host\'s apt sources', { hint: 'pass --di-archive URL or --mirror URL' });
    return { archiveFor: () => mirror, keyrings };
  }
  return { archiveFor: ubuntuDiArchive, keyrings };
}

/** What netboot-mirror asks for; absent fields take the original's defaults. */
export interface NetbootSourceOptions extends DiSourceOptions {
  distro: DiDistro;
  /** Default: the original's six arches ({@link NETBOOT_ARCHES}). */
  arches?: readonly string[];
  /** Default: every release distro-info calls supported. */
  releases?: readonly string[];
  distroInfo: readonly DistroRelease[];
}

/**
 * The releases, arches, archive per arch and keyrings a netboot mirror crawls: the given ones,
 * else the original netboot-mirror's defaults; the archive and keyrings as {@link resolveDiSource}
 * (Ubuntu: archive/ports; Debian: the host's configured mirror).
 */
export async function resolveNetbootSource(options: NetbootSourceOptions): Promise<DiSource & { arches: string[]; releases: string[] }> {
  const arches = [...(options.arches ?? NETBOOT_ARCHES)];
  const releases = options.releases ? [...options.releases] : supportedReleases(options.distro, options.distroInfo);
  const source = await resolveDiSource({ distro: options.distro }, releases[0]!, {
    ...(options.archive ? { archive: options.archive } : {}),
    ...(options.keyrings?.length ? { keyrings: options.keyrings } : {}),
  });
  return { ...source, arches, releases };
}
