import { spawnSync } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { PxeBootEvent } from '../events.js';
import { BootTestError, SourceFormatError } from '../errors.js';
import { PXE_BOOT_DEFAULTS } from './options.js';
import { QemuSession } from './qemu.js';

export type PxeFirmware = 'bios' | 'uefi';

/** The stages of a MAAS-style network boot, in order. */
export const PXE_STAGES = ['dhcp', 'bootloader', 'kernel-initrd', 'squashfs', 'userspace', 'checks'] as const;
export type PxeStage = (typeof PXE_STAGES)[number];

export interface PxeBootOptions {
  firmware: PxeFirmware;
  /**
   * What the rack serves over HTTP under /images/: `<os>/<arch>/<subarch>/<release>/<label>`
   * → boot-kernel, boot-initrd, squashfs (local files). A file left out answers 404.
   */
  imagePath: string;
  files: { 'boot-kernel'?: string; 'boot-initrd'?: string; squashfs?: string };
  /** Bootloader archives (archive.tar.xz items) extracted into the TFTP root, as the rack does. */
  bootloaderArchives: string[];
  hostname?: string;
  mac?: string;
  timeoutMs?: number;
  /** Fail when neither the console nor the HTTP server shows any progress for this long (default 150 s). */
  stallMs?: number;
  memoryMb?: number;
  qemu?: string;
  /** OVMF code image for UEFI (default /usr/share/OVMF/OVMF_CODE_4M.fd, else OVMF_CODE.fd). */
  ovmfCode?: string;
  consoleFile?: string;
  signal?: AbortSignal;
  onEvent?: (e: PxeBootEvent) => void;
}

export interface PxeBootResult {
  firmware: PxeFirmware;
  /** Seconds from QEMU start at which each stage ended. */
  stageEnds: Partial<Record<PxeStage, number>>;
  /** Seconds each stage took. */
  stageSeconds: Partial<Record<PxeStage, number>>;
  rootFsType: string;
  lowerFsType: string;
  loopBackingFile: string;
  squashfsBytes: number;
  module: string;
  cmdline: string;
  seconds: number;
  consoleTail: string;
}

/** Modules tried for the modprobe check (first one the booted kernel has as a module and did not load). */
export const MODPROBE_CANDIDATES = ['isofs', 'udf', 'xfs'];

/** The command line MAAS renders for an ephemeral boot (provisioningserver kernel_opts), with meph's console and check. */
export function maasCommandLine(o: { rack: string; imagePath: string; hostname: string; mac: string }): string {
  return [
    'nomodeset', 'ro', `root=squash:http://${o.rack}/images/${o.imagePath}/squashfs`,
    `ip=::::${o.hostname}:BOOTIF`, 'ip6=off', 'overlayroot=tmpfs', 'overlayroot_cfgdisk=disabled',
    "cc:{'datasource_list': ['MAAS']}end_cc",
    `cloud-config-url=http://${o.rack}/MAAS/metadata/latest/by-id/meph-boot-test/?op=get_preseed`,
    `BOOTIF=01-${o.mac.toLowerCase().replace(/:/g, '-')}`,
  ].join(' ');
}

/**
 * What the booted system runs (systemd.run=, one ExecStart each, output to the console), then
 * powers off: the root mount, the lower layer's mount, the loop devices with their backing
 * files, and a modprobe of a module that is not loaded. Plain words only, so neither GRUB nor
 * systemd's unit parsing changes them.
 */
function checkParams(): string[] {
  const run = [
    '/usr/bin/findmnt -n -o FSTYPE,SOURCE,OPTIONS --mountpoint /',
    '/usr/bin/findmnt -n -o FSTYPE,SOURCE,TARGET -t squashfs',
    '/usr/sbin/losetup -l -n -O NAME,BACK-FILE',
    // "-": a non-zero exit (no match, one candidate missing) must not stop the later checks
    `-/usr/bin/grep -c -E ^(${MODPROBE_CANDIDATES.join('|')}) /proc/modules`,
    `-/sbin/modprobe -a -v ${MODPROBE_CANDIDATES.join(' ')}`,
    `/usr/bin/grep -o -E ^(${MODPROBE_CANDIDATES.join('|')}) /proc/modules`,
  ];
  return [
    'console=ttyS0,115200', 'panic=-1', 'net.ifnames=0',
    ...run.map((c) => `systemd.run="${c}"`),
    'systemd.run_success_action=poweroff', 'systemd.run_failure_action=poweroff',
  ];
}

const CONSOLE_MARKS: Array<[PxeStage, RegExp]> = [
  ['dhcp', /Configuring \(net0[^\n]*ok|Station IP address is|net0: \d+\.\d+\.\d+\.\d+\/|PXELINUX \d|lpxelinux\.0\.\.\. ok|bootx64\.efi\.\.\. ok/],
  ['bootloader', /Booting under MAAS direction/],
  ['kernel-initrd', /Linux version \d/],
  // not "Welcome to GRUB!"
  ['userspace', /systemd\[1\]: |systemd \d+ running in system mode|Welcome to (?!GRUB)[^\n]*!/],
];
const FATAL = /Kernel panic - not syncing|meph-netroot: FAILED: [^\n]*\n|Gave up waiting for root|ALERT! .* does not exist|Dropping to a shell|\(initramfs\)|No bootable device|No more network devices|Failed to load image/;

/**
 * Plays the MAAS rack for one network boot under QEMU (TCG): the bootloader archives go into
 * a TFTP root served by QEMU's user network (`tftp=`, `bootfile=`), the pxelinux (BIOS) or
 * GRUB (UEFI, OVMF) config is rendered the way MAAS renders it, kernel, initrd and squashfs are
 * served over HTTP from 127.0.0.1 (10.0.2.2 in the guest), and the guest boots with `-boot n`
 * through the iPXE option ROM. It passes only when the booted system reports `/` as an overlay,
 * a squashfs on a loop device whose backing file is the squashfs fetched over HTTP, and a
 * successful modprobe of a module that was not loaded.
 */
export async function pxeBootTest(o: PxeBootOptions): Promise<PxeBootResult> {
  const qemu = o.qemu ?? 'qemu-system-x86_64';
  const mac = o.mac ?? '52:54:00:12:34:56';
  const hostname = o.hostname ?? 'meph-boot-test';
  const nicRom = '/usr/lib/ipxe/qemu/efi-virtio.rom';
  if (o.firmware === 'bios' && !(await stat(nicRom).catch(() => undefined))) throw new SourceFormatError(nicRom, 'the iPXE option ROM QEMU network-boots with is missing', { hint: 'install ipxe-qemu' });
  let ovmf: string | undefined;
  if (o.firmware === 'uefi') {
    for (const c of o.ovmfCode ? [o.ovmfCode] : ['/usr/share/OVMF/OVMF_CODE_4M.fd', '/usr/share/OVMF/OVMF_CODE.fd']) {
      if (await stat(c).catch(() => undefined)) {
        ovmf = c;
        break;
      }
    }
    if (!ovmf) throw new SourceFormatError(o.ovmfCode ?? '/usr/share/OVMF/OVMF_CODE_4M.fd', 'no OVMF firmware for a UEFI boot', { hint: 'install ovmf' });
  }
  if (!o.imagePath.split('/').every((seg) => /^[A-Za-z0-9._+-]+$/.test(seg) && seg !== '.' && seg !== '..')) {
    throw new SourceFormatError(o.imagePath, 'is not a rack image path <os>/<arch>/<subarch>/<release>/<label> of plain names');
  }
  const work = await mkdtemp(path.join(os.tmpdir(), 'meph-pxe-'));
  const tftp = path.join(work, 'tftp');
  await mkdir(tftp, { recursive: true });
  const session = new QemuSession();
  const elapsed = () => session.elapsed();
  const stageEnds: Partial<Record<PxeStage, number>> = {};
  const mark = (stage: PxeStage, extra: Record<string, unknown> = {}) => {
    if (stageEnds[stage] !== undefined) return;
    stageEnds[stage] = elapsed();
    // earlier stages are over once a later one is
    for (const s of PXE_STAGES.slice(0, PXE_STAGES.indexOf(stage))) stageEnds[s] ??= stageEnds[stage];
    o.onEvent?.({ type: 'boot-stage', stage, seconds: stageEnds[stage], ...extra });
  };
  let squashfsBytes = 0;
  const served = new Map<string, string>();
  for (const [name, file] of Object.entries(o.files)) if (file) served.set(`/images/${o.imagePath}/${name}`, file);
  const server = http.createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0]!;
    const file = served.get(url);
    const name = path.basename(url);
    o.onEvent?.({ type: 'http-request', path: url, status: file ? 200 : 404, seconds: elapsed() });
    if (!file || req.method !== 'GET') {
      res.writeHead(404).end();
      if (name === 'squashfs') setTimeout(() => fail(`the rack answered 404 for ${url}`, 'squashfs', 'the stream lacks this file, or the rack path is wrong'), 1500).unref();
      return;
    }
    if (name === 'boot-kernel') mark('bootloader');
    void stat(file).then((st) => {
      res.writeHead(200, { 'content-length': st.size, 'content-type': 'application/octet-stream' });
      const s = createReadStream(file);
      s.on('data', () => session.progress());
      s.pipe(res);
      res.on('finish', () => {
        o.onEvent?.({ type: 'http-served', path: url, bytes: st.size, seconds: elapsed() });
        if (name === 'boot-initrd') mark('kernel-initrd');
        if (name === 'squashfs') {
          squashfsBytes = st.size;
          mark('squashfs', { bytes: st.size });
        }
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const rack = `10.0.2.2:${port}`;
  const stalled = (): PxeStage => PXE_STAGES.find((s) => stageEnds[s] === undefined) ?? 'checks';
  const failure = (message: string, stage?: PxeStage, hint?: string) => {
    const why = diagnose(session.text());
    return new BootTestError(why ? `${message} (${why})` : message, stage ?? stalled(), session.tail(), { hint });
  };
  const fail = (message: string, stage?: PxeStage, hint?: string) => session.fail(failure(message, stage, hint));
  try {
    await extractBootloaders(o.bootloaderArchives, tftp);
    // the rack also serves the boot files over TFTP (GRUB without HTTP port support falls back to it)
    const tftpImages = path.join(tftp, 'images', o.imagePath);
    await mkdir(tftpImages, { recursive: true });
    for (const name of ['boot-kernel', 'boot-initrd'] as const) {
      const f = o.files[name];
      if (f) await symlink(path.resolve(f), path.join(tftpImages, name));
    }
    const cmdline = `${maasCommandLine({ rack, imagePath: o.imagePath, hostname, mac })} ${checkParams().join(' ')}`;
    const bootfile = await renderBootConfig(o.firmware, tftp, { rack, imagePath: o.imagePath, mac, cmdline });
    const args = [
      '-accel', 'tcg', '-m', String(o.memoryMb ?? PXE_BOOT_DEFAULTS.memoryMb), '-smp', '1',
      // no -nodefaults: without the default VGA, SeaBIOS never runs the NIC's option ROM
      '-nographic', '-monitor', 'none', '-serial', 'stdio', '-no-reboot',
      '-netdev', `user,id=n0,tftp=${tftp},bootfile=${bootfile}`,
      // BIOS: QEMU finds Debian's ipxe-qemu ROM (efi-virtio.rom) itself (SeaBIOS does not run an explicit romfile=
      // path). UEFI: no option ROM, OVMF's own PXE: shim fetching GRUB through iPXE's PXE base code gets a
      // buffer-sized image ("Malformed binary after Attribute Certificate Table") and refuses it
      '-device', `virtio-net-pci,netdev=n0,mac=${mac}${o.firmware === 'uefi' ? ',romfile=' : ''}`,
      '-boot', 'n',
    ];
    if (ovmf) {
      const vars = path.join(work, 'OVMF_VARS.fd');
      await copyFile(ovmf.includes('_4M') ? '/usr/share/OVMF/OVMF_VARS_4M.fd' : '/usr/share/OVMF/OVMF_VARS.fd', vars);
      args.push('-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${ovmf}`, '-drive', `if=pflash,format=raw,unit=1,file=${vars}`);
    }
    o.onEvent?.({ type: 'pxe-boot-start', firmware: o.firmware, bootfile, rack: `http://${rack}`, cmdline });
    const checks = { root: '', lower: '', loops: '', before: -1, after: '' };
    const timeoutMs = o.timeoutMs ?? PXE_BOOT_DEFAULTS.timeoutSeconds * 1000;
    const stallMs = o.stallMs ?? PXE_BOOT_DEFAULTS.stallSeconds * 1000;
    await session.run({
      qemu,
      args,
      ...(o.consoleFile ? { consoleFile: o.consoleFile } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
      timeoutMs,
      timeoutMessage: () => `no network boot within ${Math.round(timeoutMs / 1000)} s: stalled in stage ${stalled()}`,
      stallMs,
      stallMessage: () => `stalled in stage ${stalled()}: no console output and no HTTP transfer for ${Math.round(stallMs / 1000)} s`,
      failure: (message, hint) => failure(message, undefined, hint),
      onConsole: () => {
        const text = session.text();
        for (const [stage, re] of CONSOLE_MARKS) if (stageEnds[stage] === undefined && re.test(text)) mark(stage);
        if (stageEnds.userspace !== undefined && !session.hasPassed) {
          // whole lines only: a check's output may arrive in several chunks
          const lines = text.slice(0, text.lastIndexOf('\n') + 1);
          const line = (re: RegExp) => re.exec(lines)?.[1]?.trim() ?? '';
          checks.root ||= line(/findmnt\[\d+\]:\s+(\S+\s+\S+\s+\S*lowerdir\S*)/);
          checks.lower ||= line(/findmnt\[\d+\]:\s+(squashfs\s+\/dev\/loop\d+\s+\S+)/);
          checks.loops ||= line(/losetup\[\d+\]:\s+(\/dev\/loop\d+\s+\S+)/);
          const before = /grep\[\d+\]:\s+(\d+)\s*$/m.exec(lines);
          if (before && checks.before < 0) checks.before = Number(before[1]);
          checks.after ||= line(new RegExp(`grep\\[\\d+\\]:\\s+(${MODPROBE_CANDIDATES.join('|')})\\s*$`, 'm'));
          const rootLine = /findmnt\[\d+\]:\s+(\S+)\s+(\S+)\s+\S*\/\s*$/m.exec(lines);
          if (!checks.root && /findmnt\[\d+\]:\s+(?!squashfs)\S+/.test(lines) && rootLine) checks.root = `${rootLine[1]} ${rootLine[2]}`;
          if (checks.after) {
            mark('checks');
            session.pass();
          }
          if (/kernel-command-line\.service: (Main process exited|Failed)|Failed to start kernel-command-line/.test(text) && !checks.after) {
            setTimeout(() => fail('the checks inside the booted system failed (see the console tail)', 'checks'), 3000).unref();
          }
        }
        const fatal = FATAL.exec(text);
        if (fatal) fail(`boot failed: "${fatal[0].trim()}"`, stalled());
      },
    });
    if (!session.hasPassed) throw new BootTestError(`QEMU exited in stage ${stalled()} before the checks passed`, stalled(), session.tail());
    const [rootFsType] = checks.root.split(/\s+/);
    const [lowerFsType, lowerDev] = checks.lower.split(/\s+/);
    const loop = checks.loops.split(/\s+/);
    const problems: string[] = [];
    if (rootFsType !== 'overlay') problems.push(`/ is ${checks.root || 'not reported'}, not an overlay`);
    if (lowerFsType !== 'squashfs') problems.push('no squashfs lower layer is mounted');
    if (loop[0] !== lowerDev || !loop[1]) problems.push(`the squashfs (${lowerDev ?? '?'}) is not on a loop device backed by a file (${checks.loops || 'none'})`);
    if (squashfsBytes === 0) problems.push('the squashfs was never fetched over HTTP');
    if (checks.before !== 0) problems.push(`a module of ${MODPROBE_CANDIDATES.join('/')} was already loaded before the modprobe check`);
    if (problems.length) throw new BootTestError(`booted, but ${problems.join('; ')}`, 'checks', session.tail());
    const stageSeconds: Partial<Record<PxeStage, number>> = {};
    let prev = 0;
    for (const s of PXE_STAGES) {
      const end = stageEnds[s];
      if (end === undefined) continue;
      stageSeconds[s] = Math.round((end - prev) * 10) / 10;
      prev = end;
    }
    return {
      firmware: o.firmware, stageEnds, stageSeconds, rootFsType: rootFsType!, lowerFsType: lowerFsType!, loopBackingFile: loop[1]!,
      squashfsBytes, module: checks.after, cmdline, seconds: elapsed(), consoleTail: session.tail(),
    };
  } finally {
    server.closeAllConnections();
    server.close();
    await rm(work, { recursive: true, force: true });
  }
}

/** What the console says about a stall, in words an operator can act on. */
function diagnose(text: string): string | undefined {
  if (/Waiting up to \d+ secs for (device|any network device)/.test(text) && !/IP-Config: \S+ complete|network up:/.test(text)) {
    return 'the initramfs found no network interface for BOOTIF: no driver for the boot NIC in the initrd?';
  }
  if (/IP-Config: no response/.test(text) && !/IP-Config: \S+ complete/.test(text)) return 'the initramfs got no DHCP answer';
  if (/meph-netroot: fetching squashfs/.test(text) && !/squashfs fetched/.test(text)) return 'the squashfs download did not complete';
  if (/PXELINUX \d/.test(text) && !/Linux version \d/.test(text)) return 'pxelinux started but did not boot the kernel';
  return undefined;
}

/** Extracts bootloader archives as the rack does: only regular files at the archive root. */
async function extractBootloaders(archives: string[], dir: string): Promise<void> {
  for (const a of archives) {
    const list = spawnSync('tar', ['-tvJf', a], { encoding: 'utf8', maxBuffer: 1 << 24 });
    if (list.status !== 0) throw new SourceFormatError(a, `not a readable tar.xz: ${list.stderr.trim().split('\n').pop() ?? ''}`);
    const names: string[] = [];
    for (const line of list.stdout.split('\n').filter(Boolean)) {
      const name = line.split(/\s+/).slice(5).join(' ');
      if (!line.startsWith('-') || name.includes('/') || name === '..' || name === '.') continue;
      names.push(name);
    }
    if (names.length === 0) continue;
    const x = spawnSync('tar', ['-xJf', a, '-C', dir, '--no-same-owner', '--no-same-permissions', '--', ...names], { encoding: 'utf8' });
    if (x.status !== 0) throw new SourceFormatError(a, `cannot extract: ${x.stderr.trim()}`);
  }
}

/** Writes the config MAAS would serve for this machine; returns the DHCP boot file name. */
async function renderBootConfig(fw: PxeFirmware, tftp: string, o: { rack: string; imagePath: string; mac: string; cmdline: string }): Promise<string> {
  const base = `http://${o.rack}/images/${o.imagePath}`;
  const need = async (f: string, what: string) => {
    if (!(await stat(path.join(tftp, f)).catch(() => undefined))) {
      throw new BootTestError(`the bootloader archives have no ${f} (${what})`, 'bootloader', '', { hint: `import the ${fw === 'bios' ? 'pxe (pxelinux)' : 'uefi (grub-efi-signed)'} bootloader product into the stream (meph2-util import bootloaders-debian.yaml)` });
    }
  };
  if (fw === 'bios') {
    await need('lpxelinux.0', 'the BIOS network bootloader');
    await need('ldlinux.c32', 'pxelinux core module');
    const cfg = ['DEFAULT execute', 'LABEL execute', '  SAY Booting under MAAS direction...', `  KERNEL ${base}/boot-kernel`, `  INITRD ${base}/boot-initrd`, `  APPEND ${o.cmdline}`, ''].join('\n');
    await mkdir(path.join(tftp, 'pxelinux.cfg'), { recursive: true });
    await writeFile(path.join(tftp, 'pxelinux.cfg', `01-${o.mac.toLowerCase().replace(/:/g, '-')}`), cfg);
    await writeFile(path.join(tftp, 'pxelinux.cfg', 'default'), cfg);
    return 'lpxelinux.0';
  }
  await need('bootx64.efi', 'shim');
  await need('grubx64.efi', 'GRUB');
  // GRUB's lexer would strip the single quotes of the cloud-config argument: keep it in double quotes
  const args = o.cmdline.replace("cc:{'datasource_list': ['MAAS']}end_cc", `"cc:{'datasource_list': ['MAAS']}end_cc"`);
  // MAAS's GRUB (Ubuntu) reads (http,host:port); upstream GRUB spells the port (http,host,port); a GRUB
  // with neither falls back to the same files over TFTP, where the rack serves them too
  const [host, port] = o.rack.split(':');
  const rel = `/images/${o.imagePath}`;
  const load = (cmd: string, file: string, extra = '') =>
    `  if ${cmd} (http,${o.rack})${rel}/${file}${extra}; then true; elif ${cmd} (http,${host},${port})${rel}/${file}${extra}; then true; else ${cmd} (tftp)${rel}/${file}${extra}; fi`;
  const cfg = [
    'set default="0"', 'set timeout=0',
    "menuentry 'Ephemeral' {", "  echo 'Booting under MAAS direction...'",
    load('linux', 'boot-kernel', ` ${args}`), load('initrd', 'boot-initrd'), '}', '',
  ].join('\n');
  // MAAS answers every grub.cfg path; where the netboot GRUB looks depends on its build prefix
  for (const d of ['grub', 'debian-installer/amd64/grub', 'boot/grub']) {
    await mkdir(path.join(tftp, d), { recursive: true });
    await writeFile(path.join(tftp, d, 'grub.cfg'), cfg);
  }
  await writeFile(path.join(tftp, 'grub.cfg'), cfg);
  return 'bootx64.efi';
}
