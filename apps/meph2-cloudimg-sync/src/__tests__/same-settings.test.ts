/**
 * The same config and environment give the same build through meph2-build and
 * meph2-cloudimg-sync (issue 11 §1: cloudimg-sync used to build with proposed=false and no
 * pre-purge packages, and ignored MEPH_IMAGE_FORMAT / MEPH_SQUASHFS_* / M2E_ADD_PACKAGES).
 * Both CLIs print, on --dry-run --json, the converter request each build would send.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BUILD_SETTINGS_OPTIONS } from '@meph/image-transform/options';
import { runAppProcess } from '@meph/test-support';
import { generateCloudFeed, startFixtureServer, type FixtureServer } from '../../../../tools/fixture-server/index.js';

let tmp: string;
let server: FixtureServer;
let config: string;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'meph-same-settings-'));
  await generateCloudFeed(path.join(tmp, 'feed'), { products: [{ release: 'noble', version: '24.04', arch: 'amd64', serials: ['20260101'], releaseTitle: '24.04 LTS', releaseCodename: 'Noble Numbat' }] });
  server = await startFixtureServer({ root: tmp });
  config = path.join(tmp, 'meph.yaml');
  const base = await readFile(path.join(import.meta.dirname, '__fixtures__', 'meph-test.yaml'), 'utf8');
  await writeFile(config, `${base}\nenable_proposed: true\npre_purge_packages: [cloud-init]\n`);
});
afterAll(async () => {
  await server?.close();
  await rm(tmp, { recursive: true, force: true });
});

function events(stdout: string): Array<Record<string, unknown>> {
  return stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
}

it('meph2-build and meph2-cloudimg-sync resolve config + MEPH_* / M2E_* environment into the same converter request', async () => {
  const env = {
    MAAS_CLOUDIMG2EPH2: 'fake',
    MEPH_IMAGE_FORMAT: 'root-tar',
    MEPH_SQUASHFS_COMPRESSION: 'zstd',
    MEPH_SQUASHFS_BLOCK_SIZE: '256K',
    M2E_ADD_PACKAGES: 'htop',
    MEPH_PROPOSED_PACKAGES: 'linux-firmware',
  };
  const out = path.join(tmp, 'out');
  const sync = await runAppProcess('meph2-cloudimg-sync', ['--json', '--dry-run', '--config', config, '--arches', 'amd64', '--source', `${server.url}/feed/streams/v1/index.json`, '--target', 'force', out], { env });
  expect(sync.code, sync.stderr).toBe(0);
  const wouldBuild = events(sync.stdout).filter((e) => e['type'] === 'would-build');
  expect(wouldBuild).toHaveLength(1);
  const syncRequest = wouldBuild[0]!['request'] as Record<string, unknown>;
  const source = String(syncRequest['source']);
  expect(source).toBe(`${server.url}/feed/server/noble/20260101/noble-server-cloudimg-amd64-root.tar.xz`);

  const build = await runAppProcess('meph2-build', ['--json', '--dry-run', '--config', config, 'amd64', 'noble', '20260101', source, out], { env });
  expect(build.code, build.stderr).toBe(0);
  const buildRequest = events(build.stdout).find((e) => e['type'] === 'plan-detail')!['request'] as Record<string, unknown>;

  expect(syncRequest).toMatchObject({
    proposed: true,
    prePurgePackages: ['cloud-init'],
    proposedPackages: ['linux-firmware'],
    imageFormat: 'root-tar',
    squashfs: { compression: 'zstd', blockSize: '256K' },
    addPackages: ['htop'],
  });
  expect(syncRequest).toEqual(buildRequest);
}, 120_000);

it('meph2-build and meph2-cloudimg-sync declare the build-settings flags from one definition (same flags, same help)', async () => {
  const flat = (s: string): string => s.replace(/\s+/g, ' ');
  const [build, sync] = await Promise.all([runAppProcess('meph2-build', ['--help']), runAppProcess('meph2-cloudimg-sync', ['--help'])]);
  for (const [flag, spec] of Object.entries(BUILD_SETTINGS_OPTIONS)) {
    for (const help of [build, sync]) {
      expect(help.code).toBe(0);
      expect(flat(help.stdout), `--${flag}`).toContain(`--${flag}`);
      expect(flat(help.stdout), `--${flag}`).toContain(flat(spec.describe));
    }
  }
}, 60_000);
