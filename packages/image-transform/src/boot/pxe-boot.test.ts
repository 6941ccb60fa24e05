import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BootTestError, SourceFormatError } from '../errors.js';
import { maasCommandLine, pxeBootTest } from './pxe-boot.js';

describe('MAAS network boot contract', () => {
  it('renders the ephemeral command line MAAS passes (provisioningserver kernel_opts)', () => {
    expect(maasCommandLine({ rack: '10.0.2.2:5248', imagePath: 'custom/amd64/ga-12/bookworm/candidate', hostname: 'node1', mac: '52:54:00:AB:CD:EF' })).toBe(
      'nomodeset ro root=squash:http://10.0.2.2:5248/images/custom/amd64/ga-12/bookworm/candidate/squashfs ip=::::node1:BOOTIF ip6=off ' +
        "overlayroot=tmpfs overlayroot_cfgdisk=disabled cc:{'datasource_list': ['MAAS']}end_cc " +
        'cloud-config-url=http://10.0.2.2:5248/MAAS/metadata/latest/by-id/meph-boot-test/?op=get_preseed BOOTIF=01-52-54-00-ab-cd-ef',
    );
  });

  it.each(['custom/amd64/../../etc/x', 'custom//ga-12', 'custom/amd64/ga 12/bookworm/candidate'])('refuses the rack path %s before starting anything', async (imagePath) => {
    await expect(pxeBootTest({ firmware: 'bios', imagePath, files: {}, bootloaderArchives: [] })).rejects.toThrow(SourceFormatError);
  });
});

describe('pxeBootTest watchdog', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'meph-pxe-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.skipIf(!existsSync('/usr/lib/ipxe/qemu/efi-virtio.rom'))('fails when the boot stalls, naming the stage, and kills the emulator', async () => {
    // a bootloader archive as the stream carries it (only its file names matter before QEMU runs)
    writeFileSync(path.join(dir, 'lpxelinux.0'), 'pxelinux');
    writeFileSync(path.join(dir, 'ldlinux.c32'), 'core');
    execFileSync('tar', ['-cJf', path.join(dir, 'pxelinux.tar.xz'), '-C', dir, 'lpxelinux.0', 'ldlinux.c32']);
    // stands in for QEMU to test the watchdog: says nothing, never ends
    writeFileSync(path.join(dir, 'silent-qemu'), `#!/bin/sh\necho $$ > ${path.join(dir, 'pid')}\nexec sleep 600\n`);
    chmodSync(path.join(dir, 'silent-qemu'), 0o755);
    const started = Date.now();
    const err = await pxeBootTest({
      firmware: 'bios', imagePath: 'custom/amd64/ga-12/bookworm/candidate', files: {}, bootloaderArchives: [path.join(dir, 'pxelinux.tar.xz')],
      qemu: path.join(dir, 'silent-qemu'), stallMs: 1500, timeoutMs: 60_000,
    }).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(err).toBeInstanceOf(BootTestError);
    expect((err as Error).message).toBe('stalled in stage dhcp: no console output and no HTTP transfer for 2 s');
    expect((err as BootTestError).reachedStage).toBe('dhcp');
    const pid = Number(readFileSync(path.join(dir, 'pid'), 'utf8'));
    expect(existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ')).toBe(false);
  });
});
