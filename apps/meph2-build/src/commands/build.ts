import path from 'node:path';
import { checkSigningArgs, defineCommand, optInSigning, signIfWanted, UsageError, withOptInSigningOptions, withVerbosityOptions, type CommandContext } from '@meph/cli-kit';
import type { BuildEvent } from '@meph/image-transform';
import { BUILD_SETTINGS_OPTIONS } from '@meph/image-transform/options';
import { DEFAULT_CONFIG } from '../default-config.js';
import { describeEvent, eventVerbosity, planText } from '../render.js';

/** Routes library events to the reporter by -v level (the reporter also logs them to --log-file). */
function eventSink(json: boolean, ctx: CommandContext): (e: BuildEvent) => void {
  return (e) => {
    if (e.type === 'progress') return ctx.reporter.emit(e);
    if (json) return ctx.reporter.emit(e);
    if (e.type === 'warning') return ctx.reporter.warn(describeEvent(e));
    ctx.reporter.verbose(eventVerbosity(e), describeEvent(e));
  };
}

export const buildCommand = defineCommand({
  fetches: true,
  command: '$0 <arch> <release> <version-name> <source> <output-dir>',
  describe: 'Build the MAAS v3 boot artifacts (squashfs, kernels, initrds, manifest) and products metadata of one release/arch/version from a cloud image',
  examples: [
    ['$0 --config conf/debian-bookworm.yaml --no-sign amd64 bookworm 20260101 bookworm-root.tar.gz out/', 'build Debian bookworm (generic + cloud kernels) from a root tarball into out/'],
    ['$0 --config conf/meph-v3.yaml --image-format squashfs-image -u amd64 noble 20240101 noble.squashfs out/', 'the original CPC call: noble from a squashfs image, unsigned'],
    ['$0 --dry-run amd64 noble 20240101 https://example.org/noble.squashfs out/', 'print the products, items and paths that would be built; change nothing'],
    ['MAAS_CLOUDIMG2EPH2=fake $0 -u amd64 noble 20240101 any.img out/', 'fast fake build (small placeholder artifacts) for stream-tooling tests'],
  ],
  epilog: [
    'Settings are taken, highest first, from: command-line flags; MEPH_* environment variables',
    '(MEPH_PROPOSED, MEPH_ENABLE_DI, MEPH_PROPOSED_PACKAGES, MEPH_PRE_PURGE_PACKAGES, MEPH_MIRROR,',
    'MEPH_IMAGE_FORMAT, MEPH_SQUASHFS_COMPRESSION, MEPH_SQUASHFS_BLOCK_SIZE); the config file',
    '(--config, else MEPH_CONFIG, else MEPH2_CONFIG_YAML, else conf/meph-v3.yaml); built-in defaults.',
    'M2E_ADD_REPOS and M2E_ADD_PACKAGES add apt repositories/packages to the image, as in the original.',
    'MAAS_CLOUDIMG2EPH2=fake (or fake-maas-cloudimg2eph2) selects the fake converter like --fake; a path or',
    'command name runs that converter with the original\'s converter contract (see conf/README.md).',
    'enable_di / --enable-di adds di-kernel/di-initrd items from the distro\'s netboot installer (Ubuntu:',
    'archive/ports.ubuntu.com; Debian: the image\'s apt mirror), verified through the archive\'s signed Release.',
    'See conf/README.md for the config format.',
    'The output is not signed unless --sign or a key flag is given (as the original, which never signs).',
    'Differences from the original: a request that matches no kernel line fails (exit 1) instead of writing an empty products file;',
    '--dry-run prints the plan and writes nothing (the original ignored it and built) [BUG? fixed]; the default config is',
    'conf/meph-v3.yaml (the original: conf/meph-v2.yaml); a release missing from the config is one clear error (was a crash); the fake',
    'converter works with every config and writes a squashfs. All differences: docs/compat.md.',
  ].join('\n'),
  builder: (y) =>
    withVerbosityOptions(withOptInSigningOptions(
      y
        .positional('arch', { type: 'string', demandOption: true, describe: 'dpkg architecture, e.g. amd64' })
        .positional('release', { type: 'string', demandOption: true, describe: 'release codename, e.g. noble or bookworm' })
        .positional('version-name', { type: 'string', demandOption: true, describe: 'version name (serial) to build, e.g. 20240101 or 20240101.1' })
        .positional('source', { type: 'string', demandOption: true, describe: 'source image: local file or http(s) URL (never modified)' })
        .positional('output-dir', { type: 'string', demandOption: true, describe: 'stream root to write into (created if missing)' })
        .options(BUILD_SETTINGS_OPTIONS)
        .conflicts('enable-di', 'disable-di')
        .option('flat-json', { type: 'string', describe: 'also write a JSON list of every new item to this file' })
        .option('cache-dir', { type: 'string', describe: 'download cache for http(s) sources' })
        .option('kernel-concurrency', { type: 'number', describe: 'kernels built in parallel (default: the converter\'s)' })
        .option('dry-run', { alias: 'n', type: 'boolean', default: false, describe: 'print the plan (products, items, paths) and change nothing' }),
    ), { verbose: 'more log detail: -v every item and converter step, -vv debug output' }),
  async run(args, ctx) {
    if (!/^[a-z0-9]+$/.test(args.arch)) throw new UsageError(`arch ${JSON.stringify(args.arch)} is not a dpkg architecture`, 'e.g. amd64, arm64');
    if (args.kernelConcurrency !== undefined && !(Number.isInteger(args.kernelConcurrency) && args.kernelConcurrency > 0)) {
      throw new UsageError(`--kernel-concurrency ${args.kernelConcurrency} is not a positive integer`);
    }
    const lib = await import('@meph/image-transform');
    const { config, converter: choice, di } = await lib.loadBuildInputs(args, { env: ctx.env, cwd: ctx.cwd, defaultConfig: DEFAULT_CONFIG });
    const settings = lib.resolveBuildSettings(config, lib.buildFlagsFrom(args), ctx.env);
    const onEvent = eventSink(args.json, ctx);
    const outputDir = path.resolve(ctx.cwd, args.outputDir);
    const signing = optInSigning(args);
    if (!args.dryRun) await checkSigningArgs(signing, ctx);

    const result = await lib.buildVersion({
      config,
      arch: args.arch,
      release: args.release,
      version: args.versionName,
      source: /^[a-z]+:\/\//.test(args.source) ? args.source : path.resolve(ctx.cwd, args.source),
      outputDir,
      converter: choice.converter,
      converterName: choice.name,
      settings,
      di,
      ...(args.verbose ? { verbosity: args.verbose } : {}),
      ...(args.flatJson ? { flatJson: path.resolve(ctx.cwd, args.flatJson) } : {}),
      ...(args.cacheDir ? { cacheDir: path.resolve(ctx.cwd, args.cacheDir) } : {}),
      ...(args.kernelConcurrency ? { kernelConcurrency: args.kernelConcurrency } : {}),
      dryRun: args.dryRun,
      signal: ctx.signal,
      onEvent,
      sign: (root) => signIfWanted(signing, root, ctx),
    });

    if (args.dryRun) {
      const converter = `${choice.name} (${choice.reason})`;
      if (args.json) {
        ctx.reporter.emit({ type: 'plan-detail', dryRun: true, converter, needsConversion: result.needsConversion, plan: result.plan, request: result.request });
      } else {
        ctx.reporter.out(planText(result, outputDir, converter));
      }
      return 0;
    }
    const summary = { type: 'build-done', outputDir, products: result.plan.products.length, items: result.items.length, converterRan: result.converterRan, productsPath: result.productsPath };
    if (args.json) ctx.reporter.emit(summary);
    else {
      ctx.reporter.info(`built ${result.plan.products.length} products (${result.items.length} items) for ${args.release}/${args.arch} ${args.versionName}; stream:`);
      ctx.reporter.out(outputDir);
    }
    return 0;
  },
});
