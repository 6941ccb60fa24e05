/**
 * End to end, no fake: the main job's Debian build (conf/debian-bookworm.yaml from the cached
 * bookworm minbase tarball), bootloaders imported from this machine's Debian mirror
 * (conf/bootloaders-debian.yaml), then `meph2-util boot-test --pxe` the way MAAS boots:
 * BIOS (lpxelinux) for every kernel product, UEFI (shim + GRUB under OVMF) for the generic
 * kernel, and the failures an operator must be told about, each naming its stage. Built once,
 * booted one VM at a time.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliCaptured } from '@meph/test-support';
import { bookwormRootfs, buildBookworm, minutes, stageTimer } from '@meph/test-support/bookworm';
import { BootTestError, pxeBootTest } from '@meph/image-transform';
import { spec } from '../main.js';

const SERIAL = '20261130';
const GENERIC = 'org.debian.meph.candidate:v3:boot:12:amd64:ga-12';
const CLOUD = 'org.debian.meph.candidate:v3:boot:12:amd64:ga-12-cloud';
const IMAGE_DIR = `bookworm/amd64/${SERIAL}`;
let work: string;
let stream: string;
const { timings, timed } = stageTimer();

interface Event {
  type: string;
  [k: string]: unknown;
}
const events = (stdout: string): Event[] => stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Event);

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), 'meph-pxe-e2e-'));
  stream = path.join(work, 'stream');
  const rootfs = bookwormRootfs();
  const build = await timed('meph2-build', () => buildBookworm(rootfs, SERIAL, stream, { timeoutMs: minutes(15) }));
  expect(build.code, build.stderr).toBe(0);
}, minutes(16));

afterAll(() => {
  console.log(`pxe e2e timings (s): ${JSON.stringify(timings)}`);
  rmSync(work, { recursive: true, force: true });
});

describe('boot-test --pxe: MAAS-style network boot of the Debian build', () => {
  it('without bootloader products it fails at once, naming the bootloader stage', async () => {
    const res = await runCliCaptured(spec, ['boot-test', '--pxe', '--no-verify', stream, GENERIC]);
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(/FAIL org\.debian\.meph\.candidate:v3:boot:12:amd64:ga-12 20261130 pxe-bios: stalled in stage bootloader: no pxe\/pxelinux bootloader product/);
    expect(res.stdout).toMatch(/meph2-util import bootloaders-debian\.yaml/);
  });

  it('imports the bootloaders from the Debian mirror and the stream passes verify --maas', async () => {
    const imp = await timed('import bootloaders', () => runCliCaptured(spec, ['import', '--no-sign', 'bootloaders-debian.yaml', stream]));
    expect(imp.code, imp.stderr).toBe(0);
    expect(readdirSync(path.join(stream, 'bootloaders/pxe/i386')).length).toBe(1);
    const verify = await runCliCaptured(spec, ['verify', '--maas', '--no-verify', stream]);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    expect(verify.stdout + verify.stderr).toMatch(/0 error\(s\), 0 warning\(s\)/);
  }, minutes(3));

  it('BIOS: every kernel product boots from the network onto an overlay over the HTTP squashfs, and modprobe works', async () => {
    const res = await timed('bios boots (2 products)', () => runCliCaptured(spec, ['boot-test', '--pxe', '--json', '--no-verify', '--firmware', 'bios', stream]));
    const ev = events(res.stdout);
    const passed = ev.filter((e) => e.type === 'boot-test-passed');
    expect(res.code, JSON.stringify(ev.filter((e) => e.type === 'boot-test-failed'))).toBe(0);
    expect(passed.map((e) => e['productId']).sort()).toEqual([GENERIC, CLOUD]);
    const squashfsSize = statSync(path.join(stream, IMAGE_DIR, 'squashfs')).size;
    for (const p of passed) {
      expect(p).toMatchObject({ firmware: 'bios', rootFsType: 'overlay', lower: 'squashfs', loopBackingFile: '/run/meph-netroot/squashfs', squashfsBytes: squashfsSize, module: expect.stringMatching(/^(isofs|udf|xfs)$/) });
      expect(Object.keys(p['stageSeconds'] as object)).toEqual(['dhcp', 'bootloader', 'kernel-initrd', 'squashfs', 'userspace', 'checks']);
    }
    // the rack really served kernel, initrd and squashfs over HTTP, once per boot
    const served = ev.filter((e) => e.type === 'http-served').map((e) => String(e['path']).split('/').pop());
    expect(served.filter((n) => n === 'squashfs')).toHaveLength(2);
    expect(served.filter((n) => n === 'boot-kernel')).toHaveLength(2);
  }, minutes(16));

  it('UEFI: the generic kernel boots through shim + GRUB under OVMF', async () => {
    const res = await timed('uefi boot', () => runCliCaptured(spec, ['boot-test', '--pxe', '--no-verify', '--firmware', 'uefi', stream, GENERIC]));
    expect(res.code, res.stdout + res.stderr.slice(-3000)).toBe(0);
    expect(res.stdout).toMatch(/^PASS org\.debian\.meph\.candidate:v3:boot:12:amd64:ga-12 20261130 pxe-uefi: \/ overlay over squashfs .*modprobe \w+ ok \(dhcp [\d.]+s, bootloader [\d.]+s, kernel-initrd [\d.]+s, squashfs [\d.]+s, userspace [\d.]+s, checks [\d.]+s; total [\d.]+s\)$/m);
  }, minutes(10));

  const generic = () => ({
    'boot-kernel': path.join(stream, IMAGE_DIR, 'ga-12/generic/boot-kernel'),
    'boot-initrd': path.join(stream, IMAGE_DIR, 'ga-12/generic/boot-initrd'),
    squashfs: path.join(stream, IMAGE_DIR, 'squashfs'),
  });
  const pxeArchives = () => {
    const d = path.join(stream, 'bootloaders/pxe/i386');
    const v = readdirSync(d)[0]!;
    return readdirSync(path.join(d, v)).map((f) => path.join(d, v, f));
  };

  it('a squashfs URL answering 404 fails in the squashfs stage', async () => {
    const { squashfs: _, ...files } = generic();
    const err = await timed('404 boot', () =>
      pxeBootTest({ firmware: 'bios', imagePath: 'custom/amd64/ga-12/bookworm/candidate', files, bootloaderArchives: pxeArchives(), timeoutMs: minutes(8) }).then(
        () => undefined,
        (e: unknown) => e,
      ),
    );
    expect(err).toBeInstanceOf(BootTestError);
    expect((err as BootTestError).reachedStage).toBe('squashfs');
    expect((err as BootTestError).message).toMatch(/404|download of http:\/\/10\.0\.2\.2:\d+\/images\/custom\/amd64\/ga-12\/bookworm\/candidate\/squashfs failed/);
  }, minutes(9));

  it('an initrd without network drivers fails before the squashfs fetch, saying the initramfs found no NIC', async () => {
    // the generic initrd with drivers/net removed (zstd-compressed newc cpio, as Debian's mkinitramfs writes it)
    const x = path.join(work, 'initrd-x');
    mkdirSync(x);
    const initrd = path.join(work, 'initrd-no-net');
    execFileSync('bash', ['-euo', 'pipefail', '-c', `cd ${x} && zstd -dc ${generic()['boot-initrd']} | cpio -id --quiet && rm -rf usr/lib/modules/*/kernel/drivers/net && find . | cpio -o -H newc --quiet | zstd -q -T0 >${initrd}`]);
    cpSync(generic()['boot-kernel'], path.join(work, 'kernel'));
    const err = await timed('no-net boot', () =>
      pxeBootTest({
        firmware: 'bios', imagePath: 'custom/amd64/ga-12/bookworm/candidate', files: { ...generic(), 'boot-initrd': initrd }, bootloaderArchives: pxeArchives(),
        timeoutMs: minutes(8), stallMs: 60_000,
      }).then(
        () => undefined,
        (e: unknown) => e,
      ),
    );
    expect(err).toBeInstanceOf(BootTestError);
    // DHCP in the bootloader worked; the kernel's own DHCP never can: the squashfs is never fetched
    expect((err as BootTestError).reachedStage).toBe('squashfs');
    expect((err as BootTestError).message).toMatch(/no network interface for BOOTIF: no driver for the boot NIC/);
    expect((err as BootTestError).consoleTail).toMatch(/Waiting up to 180 secs for device with address 52:54:00:12:34:56/);
  }, minutes(9));
});
