import { existsSync } from 'node:fs';
import type { BuildConfig } from '../config/types.js';
import { hostDebianMirror } from '../config/host-mirror.js';
import { DiUnavailableError } from '../errors.js';

/** The original's d-i archives: archive.ubuntu.com for x86, ports.ubuntu.com for the rest. */
export function ubuntuDiArchive(arch: string): string {
  return arch === 'i386' || arch === 'amd64' ? 'http://archive.ubuntu.com/ubuntu' : 'http://ports.ubuntu.com/ubuntu-ports';
}

/** Keyring that signs each distro's archive (packages ubuntu-keyring / debian-archive-keyring). */
export const DI_KEYRINGS = {
  ubuntu: { path: '/usr/share/keyrings/ubuntu-archive-keyring.gpg', package: 'ubuntu-keyring' },
  debian: { path: '/usr/share/keyrings/debian-archive-keyring.gpg', package: 'debian-archive-keyring' },
} as const;

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
export async function resolveDiSource(config: BuildConfig, release: string, options: DiSourceOptions & { mirror?: string } = {}): Promise<DiSource> {
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
