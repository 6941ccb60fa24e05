import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NETBOOT_ARCHES, type DistroRelease } from '@meph/di-crawler';
import { resolveNetbootSource } from './source.js';

let dir: string;
let keyring: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'meph-netboot-source-'));
  keyring = path.join(dir, 'archive.gpg');
  await writeFile(keyring, 'not read here');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const far = '2999-01-01';
const distroInfo: DistroRelease[] = [
  { distro: 'ubuntu', version: '24.04 LTS', codename: 'Noble Numbat', series: 'noble', created: '2023-10-20', eol: far },
  { distro: 'ubuntu', version: '14.04 LTS', codename: 'Trusty Tahr', series: 'trusty', created: '2013-10-17', eol: '2019-04-25' },
  { distro: 'debian', version: '12', codename: 'Bookworm', series: 'bookworm', created: '2021-08-14', eol: far },
];

describe('resolveNetbootSource', () => {
  it("without arches, releases or archive: the original's six arches, the supported releases, archive/ports per arch", async () => {
    const s = await resolveNetbootSource({ distro: 'ubuntu', distroInfo, keyrings: [keyring] });
    expect(s.arches).toEqual([...NETBOOT_ARCHES]);
    expect(s.releases).toEqual(['noble']);
    expect(s.archiveFor('amd64')).toBe('http://archive.ubuntu.com/ubuntu');
    expect(s.archiveFor('s390x')).toBe('http://ports.ubuntu.com/ubuntu-ports');
    expect(s.keyrings).toEqual([keyring]);
  });

  it('the given arches, releases and archive win; a Debian archive serves every arch', async () => {
    const s = await resolveNetbootSource({ distro: 'debian', distroInfo, arches: ['arm64'], releases: ['trixie'], archive: 'http://10.0.0.5/debian', keyrings: [keyring] });
    expect(s).toMatchObject({ arches: ['arm64'], releases: ['trixie'], keyrings: [keyring] });
    expect(s.archiveFor('arm64')).toBe('http://10.0.0.5/debian');
  });

  it('a keyring that does not exist is refused before anything is fetched, naming it', async () => {
    await expect(resolveNetbootSource({ distro: 'ubuntu', distroInfo, keyrings: [path.join(dir, 'missing.gpg')] })).rejects.toThrow(/missing\.gpg does not exist/);
  });
});
