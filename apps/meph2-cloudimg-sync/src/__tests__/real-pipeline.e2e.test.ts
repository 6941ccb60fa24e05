/**
 * End-to-end: one sync with the REAL image pipeline (no fake converter) from a loopback
 * cloud-images feed whose item is a real Debian bookworm minbase root tarball
 * (tools/make-bookworm-rootfs.sh, cached between runs), with conf/debian-bookworm.yaml.
 * The result must pass `meph2-util verify --data --maas` and `meph2-util boot-test` for
 * every product. Needs root, debootstrap, mksquashfs and qemu-system (TCG is fine).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAppProcess } from '@meph/test-support';
import { BOOKWORM_CONFIG, bookwormRootfs } from '@meph/test-support/bookworm';
import type { ProductsDocument } from '@meph/simplestreams';
import { generateCloudFeed, startFixtureServer, type FixtureServer } from '../../../../tools/fixture-server/index.js';

const CID = 'org.debian.meph:candidate:v3:download';
let tmp: string;
let server: FixtureServer;
let rootTarball: string;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'meph-cloudimg-e2e-'));
  rootTarball = bookwormRootfs();
  await generateCloudFeed(path.join(tmp, 'feed'), {
    products: [{ release: 'bookworm', version: '12', arch: 'amd64', serials: ['20260101'], os: 'debian', releaseTitle: 'Debian 12 (bookworm)' }],
    rootTarball,
  });
  server = await startFixtureServer({ root: tmp });
}, 20 * 60_000);

afterAll(async () => {
  await server?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('meph2-cloudimg-sync with the real image pipeline', () => {
  it('builds bookworm from the loopback feed; verify --data and boot-test pass', async () => {
    const out = path.join(tmp, 'out');
    const env = { ...process.env };
    delete env['MAAS_CLOUDIMG2EPH2'];
    const sync = await runAppProcess(
      'meph2-cloudimg-sync',
      ['--config', BOOKWORM_CONFIG, '--source', `${server.url}/feed/streams/v1/index.json`, '--target', 'force', '--arches', 'amd64', '-u', out],
      { env, timeoutMs: 15 * 60_000 },
    );
    expect(sync.stderr).not.toMatch(/internal error/);
    expect(sync.code, sync.stderr).toBe(0);
    const doc = JSON.parse(await readFile(path.join(out, 'streams/v1', `${CID}.json`), 'utf8')) as ProductsDocument;
    const pids = Object.keys(doc.products).sort();
    expect(pids).toEqual(['org.debian.meph.candidate:v3:boot:12:amd64:ga-12', 'org.debian.meph.candidate:v3:boot:12:amd64:ga-12-cloud']);

    const verify = await runAppProcess('meph2-util', ['verify', '--no-verify', '--data', '--maas', out], { env, timeoutMs: 5 * 60_000 });
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    for (const pid of pids) {
      const boot = await runAppProcess('meph2-util', ['boot-test', out, pid, '20260101'], { env, timeoutMs: 10 * 60_000 });
      expect(boot.code, `${pid}: ${boot.stderr.slice(-3000)}`).toBe(0);
    }
  }, 40 * 60_000);
});
