/**
 * End to end, no fake: a Debian bookworm minbase root tarball (made from this machine's apt
 * mirror by tools/make-bookworm-rootfs.sh, cached in /var/cache/meph-test) → meph2-build with
 * conf/debian-bookworm.yaml → products checked → `meph2-util boot-test` of every product under
 * QEMU. Then two more source types through the real converter (one kernel each, to keep CI
 * time down): a partitioned qcow2 disk image and a squashfs, each booted.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAppProcess } from '@meph/test-support';
import { bookwormRootfs, buildBookworm, minutes, stageTimer } from '@meph/test-support/bookworm';
import { bootTest, mountsUnder, realConverter, type ConverterEvent, type KernelRequest } from '@meph/image-transform';

const SERIAL = '20261125';
let work: string;
let rootfs: string;
const { timings, timed } = stageTimer();
const sh = (cmd: string) => execFileSync('bash', ['-euo', 'pipefail', '-c', cmd], { cwd: work, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

async function sha256(file: string): Promise<string> {
  const h = createHash('sha256');
  await pipeline(createReadStream(file), h);
  return h.digest('hex');
}

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), 'meph-real-build-'));
  rootfs = await timed('rootfs (cached or debootstrap)', async () => bookwormRootfs());
}, minutes(5));

afterAll(() => {
  console.log(`real-build e2e timings (s): ${JSON.stringify(timings)}`);
  rmSync(work, { recursive: true, force: true });
});

describe('meph2-build on a bookworm root tarball, then boot-test of every product', () => {
  it('builds the stream and every flavour boots to userspace on the squashfs', async () => {
    const out = path.join(work, 'stream');
    const build = await timed('meph2-build', () => buildBookworm(rootfs, SERIAL, out, { timeoutMs: minutes(12) }));
    expect(build.stderr).not.toMatch(/error:/);
    expect(build.code).toBe(0);
    expect(build.stdout.trim()).toBe(out);

    // products: one per kernel line, each with the four items, files matching size and sha256
    const streams = path.join(out, 'streams/v1');
    const productsFile = readdirSync(streams).find((n) => n.endsWith('.json') && n !== 'index.json')!;
    const doc = JSON.parse(readFileSync(path.join(streams, productsFile), 'utf8')) as {
      products: Record<string, { kflavor: string; versions: Record<string, { items: Record<string, { path: string; size: number; sha256: string; kpackage?: string }> }> }>;
    };
    const ids = Object.keys(doc.products).sort();
    expect(ids).toEqual(['org.debian.meph.candidate:v3:boot:12:amd64:ga-12', 'org.debian.meph.candidate:v3:boot:12:amd64:ga-12-cloud']);
    expect(ids.map((id) => doc.products[id]!.kflavor)).toEqual(['generic', 'cloud']);
    for (const id of ids) {
      const items = doc.products[id]!.versions[SERIAL]!.items;
      expect(Object.keys(items).sort()).toEqual(['boot-initrd', 'boot-kernel', 'manifest', 'squashfs']);
      for (const item of Object.values(items)) {
        const file = path.join(out, item.path);
        expect(statSync(file).size).toBe(item.size);
        expect(await sha256(file)).toBe(item.sha256);
      }
    }
    const items = doc.products[ids[0]!]!.versions[SERIAL]!.items;
    // the squashfs: xz as MAAS expects, kernel-less; the manifest describes the customised image
    expect(sh(`unsquashfs -s ${path.join(out, items.squashfs!.path)}`)).toMatch(/Compression xz/);
    const manifest = readFileSync(path.join(out, items.manifest!.path), 'utf8');
    expect(manifest).toMatch(/^systemd-sysv\t/m);
    expect(manifest).not.toMatch(/^linux-image-/m);
    expect(readFileSync(path.join(out, items['boot-kernel']!.path)).subarray(0x202, 0x206).toString('latin1')).toBe('HdrS');

    // nothing left behind by the build
    expect(await mountsUnder(work)).toEqual([]);
    expect(readdirSync(out).filter((n) => n.startsWith('.meph-build'))).toEqual([]);

    // boot both flavours at once (one TCG vCPU each)
    const boots = await timed('boot-test (both flavours in parallel)', () =>
      Promise.all(ids.map((id) => runAppProcess('meph2-util', ['boot-test', '--json', '--timeout', '480', out, id], { timeoutMs: minutes(9) }))),
    );
    boots.forEach((b, i) => {
      const events = b.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; [k: string]: unknown });
      const passed = events.find((e) => e.type === 'boot-test-passed');
      expect(passed, `${ids[i]}: ${b.stderr.slice(-3000)}`).toMatchObject({ productId: ids[i], version: SERIAL, rootFsType: 'squashfs', rootSource: '/dev/vda' });
      expect(Object.keys(passed!['stages'] as object)).toEqual(expect.arrayContaining(['kernel', 'initramfs', 'userspace', 'root-check']));
      expect(b.code).toBe(0);
      timings[`boot ${ids[i]!.split(':').pop()}`] = passed!['seconds'] as number;
    });
  }, minutes(20));
});

describe('other source types through the real converter (cloud kernel only)', () => {
  const cloud = (out: string): KernelRequest => ({ package: 'linux-image-cloud-amd64', flavor: 'cloud', kernelPath: path.join(out, 'boot-kernel'), initrdPath: path.join(out, 'boot-initrd') });
  let tree: string;

  beforeAll(async () => {
    tree = path.join(work, 'tree');
    await timed('extract tree for image sources', async () => {
      sh(`mkdir -p tree && tar -xJ -p --numeric-owner --xattrs --xattrs-include='*' -C tree -f ${rootfs}`);
    });
  }, minutes(3));

  async function convertAndBoot(name: string, source: string, expectFormat: string) {
    const out = path.join(work, `out-${name}`);
    const events: ConverterEvent[] = [];
    const res = await timed(`convert ${name}`, () =>
      realConverter({
        arch: 'amd64', release: 'bookworm', version: SERIAL, source, imageFormat: 'auto',
        kernels: [cloud(out)],
        squashfs: { path: path.join(out, 'squashfs'), compression: 'zstd' },
        manifestPath: path.join(out, 'squashfs.manifest'),
        proposed: false, addRepos: [], addPackages: [], prePurgePackages: [], proposedPackages: [],
        workDir: path.join(work, `work-${name}`),
        onEvent: (e) => events.push(e),
      }),
    );
    expect(events.find((e): e is Extract<ConverterEvent, { type: 'log' }> => e.type === 'log' && e.message.startsWith('source '))?.message).toContain(`${expectFormat}`);
    expect(res.files.sort()).toEqual([path.join(out, 'boot-initrd'), path.join(out, 'boot-kernel'), path.join(out, 'squashfs'), path.join(out, 'squashfs.manifest')]);
    expect(sh(`unsquashfs -s ${path.join(out, 'squashfs')}`)).toMatch(/Compression zstd/);
    expect(readdirSync(path.join(work, `work-${name}`))).toEqual([]);
    expect(await mountsUnder(work)).toEqual([]);
    const boot = await timed(`boot ${name}`, () => bootTest({ kernel: path.join(out, 'boot-kernel'), initrd: path.join(out, 'boot-initrd'), squashfs: path.join(out, 'squashfs'), timeoutMs: minutes(8) }));
    expect(boot).toMatchObject({ rootFsType: 'squashfs', rootSource: '/dev/vda' });
  }

  it('a partitioned qcow2 disk image (ext4 root on partition 2)', async () => {
    // GPT: a small first partition, then the root written in place with mke2fs -E offset
    sh(`truncate -s 1600M disk.raw
        printf 'label: gpt\\nstart=2048, size=30720, name=esp\\nstart=32768, name=root\\n' | sfdisk -q disk.raw
        mkfs.ext4 -q -F -L cloudimg-rootfs -d tree -E offset=$((32768 * 512)) disk.raw 1500M
        qemu-img convert -O qcow2 disk.raw bookworm.img && rm disk.raw`);
    await convertAndBoot('qcow2', path.join(work, 'bookworm.img'), 'root-image');
  }, minutes(15));

  it('a squashfs image', async () => {
    sh(`mksquashfs tree bookworm.squashfs -comp zstd -noappend -quiet -no-progress >/dev/null`);
    await convertAndBoot('squashfs', path.join(work, 'bookworm.squashfs'), 'squashfs-image');
  }, minutes(15));
});
