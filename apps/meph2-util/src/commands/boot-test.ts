import { defineCommand, UsageError, verifierFromArgs, withKeyringOptions, type KeyringArgs } from '@meph/cli-kit';
import { BOOT_TEST_DEFAULTS, PXE_BOOT_DEFAULTS, PXE_BOOT_HELP } from '@meph/image-transform/boot-options';
import type { LoadedStream } from '@meph/simplestreams';

interface BootTestArgs extends KeyringArgs {
  streamDir: string;
  productId?: string;
  versionName?: string;
  rest?: string[];
  pxe: boolean;
  firmware: Array<'bios' | 'uefi'>;
  /** Unset: each mode's own default (direct boot BOOT_TEST_DEFAULTS, --pxe PXE_BOOT_DEFAULTS). */
  timeout?: number;
  stall: number;
  memory?: number;
  accel: 'tcg' | 'kvm';
  consoleLog?: string;
}

export const bootTestCommand = defineCommand({
  reads: 'signed',
  command: 'boot-test <stream-dir> [product-id] [version-name] [rest..]',
  describe: "boot a product's boot-kernel + boot-initrd with its squashfs as root under QEMU (virtio disk, or --pxe: from the network the way MAAS boots it)",
  examples: [
    ['meph2-util boot-test --pxe ./out', 'network-boot every kernel product of the stream in BIOS mode with the stream\'s pxelinux bootloader'],
    ['meph2-util boot-test --pxe --firmware bios --firmware uefi --json ./out org.debian.meph.candidate:v3:boot:12:amd64:ga-12', 'BIOS and UEFI (shim + GRUB, OVMF) network boot of one product, JSON events'],
    ['meph2-util boot-test ./out org.debian.meph.candidate:v3:boot:12:amd64:ga-12', 'boot the newest version of the generic flavour'],
    ['meph2-util boot-test --json --timeout 600 ./out org.debian.meph.candidate:v3:boot:12:amd64:ga-12-cloud 20261125', 'one version, JSON stage events, 10 minute limit'],
  ],
  epilog:
    'STREAM-DIR is the local mirror root (or its streams/v1/index.json). VERSION-NAME defaults to the newest. ' +
    'QEMU (qemu-system-x86_64, TCG unless --accel kvm) boots with the squashfs as a read-only virtio disk (root=/dev/vda rootfstype=squashfs) ' +
    'and a serial console; systemd.run= on the kernel command line makes the booted systemd print `findmnt` for / and power off. ' +
    'The test passes only when that shows a squashfs root. Reports the time to each stage (kernel, initramfs, root-mounted, userspace, root-check); ' +
    'on failure prints the console tail and exits 1.\n\n' +
    '--pxe STREAM [PRODUCT…] plays the MAAS rack instead (every product with boot-kernel when none is named; the newest version of each): ' +
    PXE_BOOT_HELP +
    ' Only reads the stream (any images.maas.io-shaped local mirror). meph differs: the original has no boot test. See docs/compat.md.',
  builder: (y) =>
    withKeyringOptions(
      y
        .positional('stream-dir', { type: 'string', demandOption: true, describe: 'Local mirror root or streams/v1/index.json' })
        .positional('product-id', { type: 'string', describe: 'Product id, e.g. org.debian.meph.candidate:v3:boot:12:amd64:ga-12 (required without --pxe)' })
        .positional('version-name', { type: 'string', describe: 'Version name, e.g. 20261125 (default: the newest); with --pxe: more product ids' })
        .positional('rest', { type: 'string', array: true, describe: 'With --pxe: more product ids' })
        .option('pxe', { type: 'boolean', default: false, describe: 'Network-boot as MAAS does (TFTP bootloader, HTTP kernel/initrd/squashfs, overlay root)' })
        .option('firmware', { choices: ['bios', 'uefi'] as const, array: true, nargs: 1, default: [...PXE_BOOT_DEFAULTS.firmwares] as Array<'bios' | 'uefi'>, describe: 'With --pxe: bios (pxelinux), uefi (shim + GRUB under OVMF); repeat for both' })
        .option('timeout', { type: 'number', defaultDescription: String(BOOT_TEST_DEFAULTS.timeoutSeconds), requiresArg: true, describe: `Seconds before the boot counts as failed (--pxe: per boot, default ${PXE_BOOT_DEFAULTS.timeoutSeconds})` })
        .option('stall', { type: 'number', default: PXE_BOOT_DEFAULTS.stallSeconds, requiresArg: true, describe: 'With --pxe: fail when the console and the HTTP server show no progress for this many seconds' })
        .option('memory', { type: 'number', defaultDescription: String(BOOT_TEST_DEFAULTS.memoryMb), requiresArg: true, describe: `Guest memory in MiB (--pxe: default ${PXE_BOOT_DEFAULTS.memoryMb}; the squashfs is held in RAM)` })
        .option('accel', { choices: ['tcg', 'kvm'] as const, default: 'tcg' as const, describe: 'QEMU accelerator (kvm only where nested KVM works)' })
        .option('console-log', { type: 'string', requiresArg: true, describe: 'Write the whole serial console to this file' }),
    ),
  async run(args, ctx) {
    if (args.timeout !== undefined && !(args.timeout > 0)) throw new UsageError(`--timeout must be a positive number of seconds, got ${String(args.timeout)}`);
    if (args.memory !== undefined && !(Number.isInteger(args.memory) && args.memory >= 256)) throw new UsageError(`--memory must be a whole number of MiB >= 256, got ${String(args.memory)}`);
    const ss = await import('@meph/simplestreams');
    const { bootTest, BootTestError, resolveBootArtifacts } = await import('@meph/image-transform');
    const { verifier, policy } = await verifierFromArgs(args, ctx.env, ctx.cwd, ctx.reporter.warn);
    const stream = await ss.loadStream(args.streamDir, { ...(verifier ? { verifier } : {}), policy, cwd: ctx.cwd, signal: ctx.signal });
    if (args.pxe) return runPxe(stream, args, ctx);
    if (!args.productId) throw new UsageError('boot-test needs a product id (or --pxe to network-boot every product)');
    if (args.rest?.length) throw new UsageError(`unexpected argument(s) ${args.rest.join(' ')}: only --pxe takes several product ids`);
    const target = resolveBootArtifacts(stream, args.productId, args.versionName);
    ctx.reporter.info(`boot-test ${args.productId} ${target.version}: ${target.kernel}`);
    try {
      const result = await bootTest({
        kernel: target.kernel,
        initrd: target.initrd,
        squashfs: target.squashfs,
        timeoutMs: (args.timeout ?? BOOT_TEST_DEFAULTS.timeoutSeconds) * 1000,
        memoryMb: args.memory ?? BOOT_TEST_DEFAULTS.memoryMb,
        accel: args.accel,
        ...(args.consoleLog ? { consoleFile: args.consoleLog } : {}),
        signal: ctx.signal,
        onEvent: (e) => ctx.reporter.emit(e),
      });
      const stages = Object.entries(result.stages).map(([k, v]) => `${k} ${v}s`).join(', ');
      ctx.reporter.emit({ type: 'boot-test-passed', productId: args.productId, version: target.version, rootFsType: result.rootFsType, rootSource: result.rootSource, accel: result.accel, stages: result.stages, seconds: result.seconds });
      if (!args.json) ctx.reporter.out(`PASS ${args.productId} ${target.version}: userspace on ${result.rootFsType} ${result.rootSource} (${result.accel}; ${stages}; total ${result.seconds}s)\n`);
      return 0;
    } catch (e) {
      if (e instanceof BootTestError) {
        if (args.json) ctx.reporter.emit({ type: 'boot-test-failed', productId: args.productId, version: target.version, reached: e.reachedStage, message: e.message, consoleTail: e.consoleTail });
        else ctx.reporter.warn(`console tail of ${args.productId} ${target.version}:\n${e.consoleTail}`);
      }
      throw e;
    }
  },
});

type Ctx = Parameters<Parameters<typeof defineCommand<BootTestArgs>>[0]['run']>[1];

async function runPxe(stream: LoadedStream, args: BootTestArgs & { json?: boolean }, ctx: Ctx): Promise<number> {
  const { pxeBootStream } = await import('@meph/image-transform');
  if (!(args.stall > 0)) throw new UsageError(`--stall must be a positive number of seconds, got ${String(args.stall)}`);
  const ids = [args.productId, args.versionName, ...(args.rest ?? [])].filter((x): x is string => Boolean(x));
  const boots = pxeBootStream(stream, {
    productIds: ids,
    firmwares: args.firmware,
    // --timeout and --memory not given: the network boot's own defaults apply
    ...(args.timeout !== undefined ? { timeoutMs: args.timeout * 1000 } : {}),
    ...(args.memory !== undefined ? { memoryMb: args.memory } : {}),
    stallMs: args.stall * 1000,
    ...(args.consoleLog ? { consoleFile: args.consoleLog } : {}),
    signal: ctx.signal,
    onStart: (b) => ctx.reporter.info(`boot-test --pxe ${b.productId} ${b.version} pxe-${b.firmware}: bootloader ${b.bootloader.productId} ${b.bootloader.version}`),
    onEvent: (e, b) => ctx.reporter.emit({ ...e, ...b }),
  });
  let failed = 0;
  let total = 0;
  for await (const b of boots) {
    total++;
    const label = `${b.productId} ${b.version} pxe-${b.firmware}`;
    if (b.ok) {
      const r = b.result;
      const stages = Object.entries(r.stageSeconds).map(([k, v]) => `${k} ${v}s`).join(', ');
      ctx.reporter.emit({ type: 'boot-test-passed', mode: 'pxe', firmware: b.firmware, productId: b.productId, version: b.version, stageSeconds: r.stageSeconds, seconds: r.seconds, rootFsType: r.rootFsType, lower: r.lowerFsType, loopBackingFile: r.loopBackingFile, squashfsBytes: r.squashfsBytes, module: r.module });
      if (!args.json) ctx.reporter.out(`PASS ${label}: / ${r.rootFsType} over ${r.lowerFsType} (${r.loopBackingFile}, ${r.squashfsBytes} bytes over HTTP); modprobe ${r.module} ok (${stages}; total ${r.seconds}s)\n`);
      continue;
    }
    const e = b.error;
    failed++;
    ctx.reporter.emit({ type: 'boot-test-failed', mode: 'pxe', firmware: b.firmware, productId: b.productId, version: b.version, stalled: e.reachedStage, message: e.message, consoleTail: e.consoleTail });
    if (!args.json) {
      if (e.consoleTail) ctx.reporter.warn(`console tail of ${label}:\n${e.consoleTail}`);
      ctx.reporter.out(`FAIL ${label}: stalled in stage ${e.reachedStage}: ${e.message}${e.hint ? ` (${e.hint})` : ''}\n`);
    }
  }
  if (failed) ctx.reporter.warn(`${failed} of ${total} network boot(s) failed`);
  return failed ? 1 : 0;
}
