import { access, constants, stat } from 'node:fs/promises';
import type { BootTestEvent } from '../events.js';
import { BootTestError, SourceFormatError } from '../errors.js';
import { BOOT_TEST_DEFAULTS } from './options.js';
import { QemuSession } from './qemu.js';

export interface BootTestOptions {
  kernel: string;
  initrd: string;
  /** The root squashfs, attached read-only as the first virtio disk (/dev/vda). */
  squashfs: string;
  /** Whole boot, default 300 s (TCG on 2 shared cores reaches userspace in ~20–60 s). */
  timeoutMs?: number;
  memoryMb?: number;
  /**
   * Default `tcg`. `kvm` only on request (or MEPH_BOOT_ACCEL=kvm): on the project's machines
   * /dev/kvm opens but nested KVM dies with "KVM internal error … emulation failure" mid-boot,
   * so its mere presence proves nothing.
   */
  accel?: 'kvm' | 'tcg';
  /** Extra kernel parameters. */
  append?: string;
  qemu?: string;
  /** Where the whole serial console is written (default: kept in memory only). */
  consoleFile?: string;
  signal?: AbortSignal;
  onEvent?: (e: BootTestEvent) => void;
}

export type BootStage = 'kernel' | 'initramfs' | 'root-mounted' | 'userspace' | 'root-check';

export interface BootTestResult {
  /** Seconds from QEMU start at which each stage was seen on the console. */
  stages: Partial<Record<BootStage, number>>;
  /** What `findmnt` reported for / from inside the booted system. */
  rootFsType: string;
  rootSource: string;
  accel: string;
  seconds: number;
  consoleTail: string;
}

/**
 * How a pass is proven: the kernel command line carries `systemd.run=` (systemd's
 * run-generator), so once the real systemd of the image is up it runs
 * `findmnt --mountpoint /` as a service whose output goes to the serial console, then powers
 * off. The test passes only when that line shows `squashfs` on `/dev/vda`: userspace was
 * reached (the generator and the unit run under PID 1) and the root is the squashfs. Nothing
 * is added to the image for it, so the artifacts booted are exactly the published ones.
 */
export const ROOT_CHECK = '/usr/bin/findmnt --noheadings --output FSTYPE,SOURCE,TARGET --mountpoint /';

const STAGES: Array<[Exclude<BootStage, 'root-check'>, RegExp]> = [
  ['kernel', /Linux version \d/],
  ['initramfs', /Run \/init as init process|Loading, please wait|Begin: Loading essential drivers/],
  ['root-mounted', /Begin: Running \/scripts\/(local-bottom|init-bottom)|VFS: Mounted root|squashfs: version/],
  ['userspace', /systemd\[1\]: |Welcome to .*!|systemd \d+ running in system mode/],
];
/** The root check's output as journald forwards it to the console: `[  45.06] findmnt[193]: squashfs /dev/vda /`. */
const ROOT_LINE = /^(?:\[\s*[\d.]+\]\s+)?(?:findmnt\[\d+\]:\s+)?(\S+)\s+(\/dev\/\S+)\s+\/\s*$/m;
const FATAL = /Kernel panic - not syncing|KVM internal error|Gave up waiting for root|ALERT! .* does not exist|Dropping to a shell|\(initramfs\)/;

/** Boots kernel + initrd with the squashfs as root under qemu-system-x86_64; see ROOT_CHECK. */
export async function bootTest(o: BootTestOptions): Promise<BootTestResult> {
  for (const f of [o.kernel, o.initrd, o.squashfs]) {
    const st = await stat(f).catch(() => undefined);
    if (!st?.isFile()) throw new SourceFormatError(f, 'does not exist or is not a file', { hint: 'boot-test needs the kernel, initrd and squashfs that were built' });
  }
  const accel = (o.accel ?? process.env['MEPH_BOOT_ACCEL']) === 'kvm' && (await kvmUsable()) ? 'kvm' : 'tcg';
  const timeoutMs = o.timeoutMs ?? BOOT_TEST_DEFAULTS.timeoutSeconds * 1000;
  const cmdline = [
    // overlayroot=disabled: images with overlayroot carry overlayroot=tmpfs in their config; this mode checks the bare squashfs root
    'root=/dev/vda', 'rootfstype=squashfs', 'ro', 'overlayroot=disabled', 'console=ttyS0,115200', 'panic=-1', 'net.ifnames=0',
    `systemd.run="${ROOT_CHECK}"`, 'systemd.run_success_action=poweroff', 'systemd.run_failure_action=poweroff',
    o.append ?? '',
  ].filter(Boolean).join(' ');
  const args = [
    '-accel', accel,
    '-m', String(o.memoryMb ?? BOOT_TEST_DEFAULTS.memoryMb), '-smp', '1',
    '-nographic', '-monitor', 'none', '-serial', 'stdio', '-no-reboot', '-nodefaults',
    '-kernel', o.kernel, '-initrd', o.initrd,
    '-drive', `file=${o.squashfs},format=raw,if=virtio,readonly=on`,
    '-append', cmdline,
  ];
  const stages: Partial<Record<BootStage, number>> = {};
  let rootFsType: string | undefined;
  let rootSource = '';
  const session = new QemuSession();
  const reached = () => (Object.keys(stages) as BootStage[]).pop() ?? 'none';
  const failure = (message: string, hint?: string) => new BootTestError(message, reached(), session.tail(), { hint });
  await session.run({
    qemu: o.qemu ?? 'qemu-system-x86_64',
    args,
    ...(o.consoleFile ? { consoleFile: o.consoleFile } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
    timeoutMs,
    timeoutMessage: () => `no userspace on a squashfs root within ${Math.round(timeoutMs / 1000)} s (reached: ${reached()})`,
    failure,
    onConsole: () => {
      const text = session.text();
      for (const [stage, re] of STAGES) {
        if (stages[stage] === undefined && re.test(text)) {
          stages[stage] = session.elapsed();
          o.onEvent?.({ type: 'boot-stage', stage, seconds: stages[stage] });
        }
      }
      const m = stages.userspace !== undefined ? ROOT_LINE.exec(text) : null;
      if (m && rootFsType === undefined) {
        rootFsType = m[1]!;
        rootSource = m[2]!;
        stages['root-check'] = session.elapsed();
        o.onEvent?.({ type: 'boot-stage', stage: 'root-check', seconds: stages['root-check'], fstype: rootFsType, source: rootSource });
        if (rootFsType === 'squashfs') session.pass();
        else session.fail(failure(`booted, but the root file system is ${rootFsType} on ${rootSource}, not the squashfs`));
      }
      const fatal = FATAL.exec(text);
      if (fatal) session.fail(failure(`boot failed: "${fatal[0]}"`, 'the initramfs could not mount the squashfs root; see the console tail'));
    },
  });
  if (rootFsType !== 'squashfs') {
    throw new BootTestError(`QEMU exited before the root check ran (reached: ${reached()})`, reached(), session.tail());
  }
  return { stages, rootFsType, rootSource, accel, seconds: session.elapsed(), consoleTail: session.tail() };
}

async function kvmUsable(): Promise<boolean> {
  try {
    await access('/dev/kvm', constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}
