import { describe, expect, it } from 'vitest';
import { NETBOOT_ARCHES, supportedReleases, ubuntuDiArchive } from './archives.js';
import type { DistroRelease } from './distro-info.js';
import { NoSupportedReleaseError } from './errors.js';

const info: DistroRelease[] = [
  { distro: 'ubuntu', version: '20.04 LTS', codename: 'Focal Fossa', series: 'focal', created: '2019-10-17', eol: '2025-05-29', eolServer: '2025-05-29', eolEsm: '2030-04-23' },
  { distro: 'ubuntu', version: '23.10', codename: 'Mantic Minotaur', series: 'mantic', created: '2023-04-20', eol: '2024-07-11' },
  { distro: 'ubuntu', version: '24.04 LTS', codename: 'Noble Numbat', series: 'noble', created: '2023-10-20', eol: '2029-05-31' },
  { distro: 'ubuntu', version: '99.04', codename: 'Future', series: 'future', created: '2098-01-01' },
  { distro: 'debian', version: '12', codename: 'Bookworm', series: 'bookworm', created: '2021-08-14', eol: '2026-06-10', eolServer: '2028-06-30' },
];

describe('netboot-mirror defaults', () => {
  it("are the original's six arches, archive.ubuntu.com for x86 and ports for the rest", () => {
    expect(NETBOOT_ARCHES).toEqual(['i386', 'amd64', 'ppc64el', 'armhf', 'arm64', 's390x']);
    expect(NETBOOT_ARCHES.map(ubuntuDiArchive)).toEqual([
      'http://archive.ubuntu.com/ubuntu',
      'http://archive.ubuntu.com/ubuntu',
      ...Array<string>(4).fill('http://ports.ubuntu.com/ubuntu-ports'),
    ]);
  });

  it('take every release distro-info calls supported on the day (ESM counts), per distro', () => {
    const day = new Date('2026-11-30T00:00:00Z');
    expect(supportedReleases('ubuntu', info, day)).toEqual(['focal', 'noble']);
    expect(supportedReleases('debian', info, day)).toEqual(['bookworm']);
  });

  it('none supported is one usage error naming the distro (exit 2)', () => {
    const err = (() => {
      try {
        return supportedReleases('debian', info.filter((r) => r.distro === 'ubuntu'));
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(NoSupportedReleaseError);
    expect(err).toMatchObject({ message: 'no debian release is supported according to distro-info', exitCode: 2, hint: 'name them with --releases' });
  });
});
