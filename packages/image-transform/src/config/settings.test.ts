import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { hostDebianMirror, parseDeb822Sources, parseOneLineSources } from './host-mirror.js';
import { parseBuildConfig } from './load.js';
import { buildFlagsFrom, checkSquashfsBlockSize, resolveBuildSettings, resolveConfigPath } from './settings.js';

const config = parseBuildConfig(
  `releases: []\nsquashfs: true\nenable_proposed: true\npre_purge_packages: a,b\nmirror: http://conf.example/debian\ncontent_id: a:b\nproduct_id_pre: a:v3:boot\n`,
  'c.yaml',
);

describe('settings precedence: flags > MEPH_* env > config file > defaults', () => {
  it('uses the config file when nothing overrides it, defaults for the rest', () => {
    expect(resolveBuildSettings(config, {}, {})).toEqual({
      proposed: true, enableDi: false, proposedPackages: [], prePurgePackages: ['a', 'b'], mirror: 'http://conf.example/debian', imageFormat: 'auto', squashfsCompression: 'xz', addRepos: [], addPackages: [],
    });
  });
  it('M2E_ADD_REPOS / M2E_ADD_PACKAGES (the original\'s variables) are part of the settings', () => {
    expect(resolveBuildSettings(config, {}, { M2E_ADD_REPOS: 'ppa:a/b, ppa:c/d', M2E_ADD_PACKAGES: 'x y' })).toMatchObject({ addRepos: ['ppa:a/b', 'ppa:c/d'], addPackages: ['x', 'y'] });
  });
  it('env beats the config file, flags beat env', () => {
    const env = { MEPH_PROPOSED: '0', MEPH_PRE_PURGE_PACKAGES: 'x y', MEPH_MIRROR: 'http://env.example/d/', MEPH_SQUASHFS_COMPRESSION: 'zstd', MEPH_SQUASHFS_BLOCK_SIZE: '256K', MEPH_ENABLE_DI: 'true' };
    expect(resolveBuildSettings(config, {}, env)).toMatchObject({ proposed: false, prePurgePackages: ['x', 'y'], mirror: 'http://env.example/d', squashfsCompression: 'zstd', squashfsBlockSize: '256K', enableDi: true });
    expect(resolveBuildSettings(config, { proposed: true, mirror: 'http://flag.example/d', squashfsCompression: 'gzip', squashfsBlockSize: '1M', enableDi: false }, env)).toMatchObject({
      proposed: true, mirror: 'http://flag.example/d', squashfsCompression: 'gzip', squashfsBlockSize: '1M', enableDi: false,
    });
  });
  it('bad environment values name the variable', () => {
    expect(() => resolveBuildSettings(config, {}, { MEPH_PROPOSED: 'maybe' })).toThrow('environment: MEPH_PROPOSED: "maybe" is not a boolean (use 1/0, true/false)');
    expect(() => resolveBuildSettings(config, {}, { MEPH_SQUASHFS_COMPRESSION: 'lz4' })).toThrow(/MEPH_SQUASHFS_COMPRESSION: "lz4" is not one of xz, zstd, gzip/);
    expect(() => resolveBuildSettings(config, {}, { MEPH_SQUASHFS_BLOCK_SIZE: '3K' })).toThrow(ConfigError);
    expect(() => resolveBuildSettings(config, { mirror: 'ftp://x' }, {})).toThrow('--mirror: "ftp://x" is not an http(s) URL');
    expect(() => resolveBuildSettings(config, {}, { MEPH_MIRROR: 'x' })).toThrow('environment: MEPH_MIRROR: "x" is not an http(s) URL');
    expect(() => checkSquashfsBlockSize('2M', '--squashfs-block-size')).toThrow(/--squashfs-block-size: "2M" is not a squashfs block size/);
  });
  it('config file: --config > MEPH_CONFIG > MEPH2_CONFIG_YAML > default', () => {
    const env = { MEPH_CONFIG: 'a.yaml', MEPH2_CONFIG_YAML: 'b.yaml' };
    expect(resolveConfigPath('f.yaml', env, 'd.yaml')).toBe('f.yaml');
    expect(resolveConfigPath(undefined, env, 'd.yaml')).toBe('a.yaml');
    expect(resolveConfigPath(undefined, { MEPH2_CONFIG_YAML: 'b.yaml' }, 'd.yaml')).toBe('b.yaml');
    expect(resolveConfigPath(undefined, {}, 'd.yaml')).toBe('d.yaml');
  });
});

describe('the host Debian mirror', () => {
  it('parses deb822 and one-line sources', () => {
    const deb822 = 'Types: deb deb-src\nURIs: http://mirror.example/debian/\nSuites: bookworm bookworm-updates\nComponents: main\n\nTypes: deb\nURIs: http://security.example/debian-security\nSuites: bookworm-security\n\nEnabled: no\nTypes: deb\nURIs: http://off.example/\nSuites: x\n';
    expect(parseDeb822Sources(deb822, 'f').map((s) => s.uri)).toEqual(['http://mirror.example/debian/', 'http://security.example/debian-security']);
    expect(parseOneLineSources('# c\ndeb [arch=amd64 signed-by=/k] http://one.example/debian bookworm main contrib\ndeb-src http://x/ y z\n', 'f')).toEqual([
      { uri: 'http://one.example/debian', suites: ['bookworm'], components: ['main', 'contrib'], file: 'f' },
    ]);
  });
  it('picks the first non-security mirror serving the release; none is a clear error', async () => {
    const apt = await mkdtemp(path.join(os.tmpdir(), 'meph-apt-'));
    try {
      await mkdir(path.join(apt, 'sources.list.d'));
      await expect(hostDebianMirror('bookworm', apt)).rejects.toThrow(/no Debian archive mirror is configured on this host/);
      await writeFile(path.join(apt, 'sources.list.d/a.sources'), 'Types: deb\nURIs: http://security.example/debian-security\nSuites: bookworm-security\n');
      await writeFile(path.join(apt, 'sources.list'), 'deb http://old.example/debian bullseye main\ndeb http://new.example/debian/ bookworm main\n');
      expect(await hostDebianMirror('bookworm', apt)).toBe('http://new.example/debian');
      expect(await hostDebianMirror('trixie', apt)).toBe('http://old.example/debian');
    } finally {
      await rm(apt, { recursive: true, force: true });
    }
  });
});

describe('buildFlagsFrom (the command-line form both build CLIs share)', () => {
  it('keeps only what was given; --disable-di turns d-i off, --proposed only on; CSV lists split', () => {
    expect(buildFlagsFrom({})).toEqual({});
    expect(buildFlagsFrom({ proposed: false, disableDi: true, proposedPackages: 'a, b,,c', prePurgePackages: '', mirror: 'http://m/', squashfsCompression: 'zstd' })).toEqual({
      enableDi: false,
      proposedPackages: ['a', 'b', 'c'],
      prePurgePackages: [],
      mirror: 'http://m/',
      squashfsCompression: 'zstd',
    });
    expect(buildFlagsFrom({ proposed: true, enableDi: true, imageFormat: 'root-tar', squashfsBlockSize: '64K' })).toEqual({ proposed: true, enableDi: true, imageFormat: 'root-tar', squashfsBlockSize: '64K' });
  });
});
