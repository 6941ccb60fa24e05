import { isSupported, type DistroRelease } from './distro-info.js';
import { NoSupportedReleaseError } from './errors.js';

/** The archive families d-i files come from. */
export type DiDistro = 'ubuntu' | 'debian';

/** The original netboot-mirror's arches, its default. */
export const NETBOOT_ARCHES: readonly string[] = ['i386', 'amd64', 'ppc64el', 'armhf', 'arm64', 's390x'];

/** The original's d-i archives: archive.ubuntu.com for x86, ports.ubuntu.com for the rest. */
export function ubuntuDiArchive(arch: string): string {
  return arch === 'i386' || arch === 'amd64' ? 'http://archive.ubuntu.com/ubuntu' : 'http://ports.ubuntu.com/ubuntu-ports';
}

/** Keyring that signs each distro's archive (packages ubuntu-keyring / debian-archive-keyring). */
export const DI_KEYRINGS = {
  ubuntu: { path: '/usr/share/keyrings/ubuntu-archive-keyring.gpg', package: 'ubuntu-keyring' },
  debian: { path: '/usr/share/keyrings/debian-archive-keyring.gpg', package: 'debian-archive-keyring' },
} as const satisfies Record<DiDistro, { path: string; package: string }>;

/** Every release of `distro` that distro-info calls supported (netboot-mirror's default); none is an error. */
export function supportedReleases(distro: DiDistro, distroInfo: readonly DistroRelease[], today?: Date): string[] {
  const releases = distroInfo.filter((r) => r.distro === distro && isSupported(r, today)).map((r) => r.series);
  if (!releases.length) throw new NoSupportedReleaseError(distro);
  return releases;
}
