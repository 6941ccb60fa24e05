import { defineCommand, UsageError, verifierFromArgs, withKeyringOptions, type KeyringArgs, SIGNATURE_POLICY_HELP, DOCUMENT_LIMITS_HELP } from '@meph/cli-kit';
import { compareVersions, resolveInside, type LoadedStream } from '@meph/simplestreams';

interface BootTestArgs extends KeyringArgs {
  streamDir: string;
  productId: string;
  versionName?: string;
  timeout: number;
  memory: number;
  accel: 'tcg' | 'kvm';
  consoleLog?: string;
}

export const bootTestCommand = defineCommand<BootTestArgs>({
  command: 'boot-test <stream-dir> <product-id> [version-name]',
  describe: "boot a product's boot-kernel + boot-initrd with its squashfs as root under QEMU and check userspace runs on the squashfs",
  examples: [
    ['meph2-util boot-test ./out org.debian.meph.candidate:v3:boot:12:amd64:ga-12', 'boot the newest version of the generic flavour'],
    ['meph2-util boot-test --json --timeout 600 ./out org.debian.meph.candidate:v3:boot:12:amd64:ga-12-cloud 20261125', 'one version, JSON stage events, 10 minute limit'],
  ],
  epilog:
    'STREAM-DIR is the local mirror root (or its streams/v1/index.json). VERSION-NAME defaults to the newest. ' +
    'QEMU (qemu-system-x86_64, TCG unless --accel kvm) boots with the squashfs as a read-only virtio disk (root=/dev/vda rootfstype=squashfs) ' +
    'and a serial console; systemd.run= on the kernel command line makes the booted systemd print `findmnt` for / and power off. ' +
    'The test passes only when that shows a squashfs root. Reports the time to each stage (kernel, initramfs, root-mounted, userspace, root-check); ' +
    'on failure prints the console tail and exits 1.' +
    '\n' +
    SIGNATURE_POLICY_HELP +
    '\n' +
    DOCUMENT_LIMITS_HELP,
  builder: (y) =>
    withKeyringOptions(
      y
        .positional('stream-dir', { type: 'string', demandOption: true, describe: 'Local mirror root or streams/v1/index.json' })
        .positional('product-id', { type: 'string', demandOption: true, describe: 'Product id, e.g. org.debian.meph.candidate:v3:boot:12:amd64:ga-12' })
        .positional('version-name', { type: 'string', describe: 'Version name, e.g. 20261125 (default: the newest)' })
        .option('timeout', { type: 'number', default: 300, requiresArg: true, describe: 'Seconds before the boot counts as failed' })
        .option('memory', { type: 'number', default: 1024, requiresArg: true, describe: 'Guest memory in MiB' })
        .option('accel', { choices: ['tcg', 'kvm'] as const, default: 'tcg' as const, describe: 'QEMU accelerator (kvm only where nested KVM works)' })
        .option('console-log', { type: 'string', requiresArg: true, describe: 'Write the whole serial console to this file' }),
    ).nargs('keyring', 1) as never,
  async run(args, ctx) {
    if (!(args.timeout > 0)) throw new UsageError(`--timeout must be a positive number of seconds, got ${String(args.timeout)}`);
    if (!(Number.isInteger(args.memory) && args.memory >= 256)) throw new UsageError(`--memory must be a whole number of MiB >= 256, got ${String(args.memory)}`);
    const ss = await import('@meph/simplestreams');
    const { bootTest, BootTestError } = await import('@meph/image-transform');
    const { verifier, policy } = await verifierFromArgs(args, ctx.env, ctx.cwd, ctx.reporter.warn);
    const stream = await ss.loadStream(args.streamDir, { ...(verifier ? { verifier } : {}), policy, cwd: ctx.cwd, signal: ctx.signal });
    const target = resolveBootArtifacts(stream, args.productId, args.versionName);
    ctx.reporter.info(`boot-test ${args.productId} ${target.version}: ${target.kernel}`);
    try {
      const result = await bootTest({
        kernel: target.kernel,
        initrd: target.initrd,
        squashfs: target.squashfs,
        timeoutMs: args.timeout * 1000,
        memoryMb: args.memory,
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

export interface BootArtifacts {
  version: string;
  kernel: string;
  initrd: string;
  squashfs: string;
}

/** Finds the product's version (newest by default) and the local paths of its boot files. */
export function resolveBootArtifacts(stream: LoadedStream, productId: string, version?: string): BootArtifacts {
  const root = stream.source.root;
  if (/^https?:\/\//.test(root)) throw new UsageError(`boot-test needs a local stream directory, not ${root}`, 'mirror it first (meph2-util insert)');
  const found = stream.products.find((p) => p.doc.products[productId]);
  const product = found?.doc.products[productId];
  if (!product || !found) {
    const known = stream.products.flatMap((p) => Object.keys(p.doc.products)).slice(0, 8);
    throw new UsageError(`no product ${productId} in ${root}`, known.length ? `products there include ${known.join(', ')}` : 'the stream has no products');
  }
  const names = Object.keys(product.versions).sort(compareVersions);
  const v = version ?? names[names.length - 1];
  const ver = v === undefined ? undefined : product.versions[v];
  if (!ver || v === undefined) throw new UsageError(`product ${productId} has no version ${version ?? '(none at all)'}`, names.length ? `versions: ${names.join(', ')}` : undefined);
  const item = (ftype: string): string => {
    const it = Object.entries(ver.items).find(([name, i]) => (i.ftype ?? name) === ftype)?.[1];
    if (!it?.path) throw new UsageError(`${productId} ${v} has no ${ftype} item`, 'boot-test needs boot-kernel, boot-initrd and squashfs');
    return resolveInside(root, it.path, found.path);
  };
  return { version: v, kernel: item('boot-kernel'), initrd: item('boot-initrd'), squashfs: item('squashfs') };
}
