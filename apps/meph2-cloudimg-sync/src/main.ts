import path from 'node:path';
import {
  checkSigningArgs,
  csvList,
  defineCli,
  defineCommand,
  optInSigning,
  packageConfDir,
  signIfWanted,
  signingWanted,
  SIGNATURE_POLICY_HELP,
  UsageError,
  verifierFromArgs,
  withKeyringOptions,
  withOptInSigningOptions,
  withVerbosityOptions,
} from '@meph/cli-kit';
import { BUILD_SETTINGS_OPTIONS } from '@meph/image-transform/options';

export const DEFAULT_SOURCE = 'http://cloud-images.ubuntu.com/daily/streams/v1/com.ubuntu.cloud:daily:download.json';
/** The project's own build matrix (shipped in this package's conf/), as meph2-build's default. */
const DEFAULT_CONFIG = path.join(packageConfDir(import.meta.url), 'meph-v3.yaml');

/** A repeatable string option: absent, once or several times. */
function listOf(v: string | string[] | undefined): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}


const command = defineCommand({
  fetches: true,
  command: '$0 <output-dir> [filters..]',
  describe: 'Build the cloud-image versions a MAAS stream lacks and write the updated stream',
  examples: [
    ['$0 --config conf/meph-v3.yaml --target force --arches amd64 --max 1 -u out.d "release~(noble|jammy)"', 'the MAAS CI call: build the newest noble and jammy amd64 images, unsigned'],
    ['$0 --config conf/debian-bookworm.yaml --source http://127.0.0.1:8080/streams/v1/index.json --target out.d --dry-run out.d', 'show what a sync would build, build nothing'],
    ['$0 --target force --rebuild 20260101:20260101.1 -u out.d release=noble arch=amd64', 'rebuild serial 20260101 as MAAS version 20260101.1'],
  ],
  epilog:
    '"Already built" compares (release, arch, version) of the target\'s primary-kernel products with the feed, so the daily and candidate feeds both work. ' +
    'The output holds the target\'s current products (metadata only) plus every new version that built; failed builds are listed and the exit status is 1. ' +
    'A failed run never replaces the stream with one holding fewer versions: when nothing built (or versions would be lost) the stream is left untouched. ' +
    'Build settings are resolved exactly as meph2-build does (flags > MEPH_* environment > config). ' +
    'MAAS_CLOUDIMG2EPH2=fake (or fake-maas-cloudimg2eph2, or --fake) selects the fake converter; a path or command name runs that converter with the original\'s contract (conf/README.md). ' +
    'Unlike meph\'s stream-editing commands, and like the original, the output is not signed unless --sign or a key flag is given. ' +
    'Differences from the original: --dry-run lists what would be built and writes nothing (the original ignored it) [BUG? fixed]; ' +
    '--source may be a products file, an index or a mirror root (an index no longer yields nothing). All differences: docs/compat.md.' +
    '\n' +
    SIGNATURE_POLICY_HELP,
  builder: (y) =>
    withVerbosityOptions(withOptInSigningOptions(withKeyringOptions(y)), {
      verbose: 'More progress messages (repeatable)',
      logFile: 'Also append every message and event, timestamped (events as JSON), to this file (its directory must exist)',
    })
      .positional('output-dir', { type: 'string', demandOption: true, describe: 'Output stream root' })
      .positional('filters', { type: 'string', array: true, default: [], describe: 'Filters on source items (key=value, key!=value, key~regex, key!~regex)' })
      .options(BUILD_SETTINGS_OPTIONS)
      .alias('di-archive', 'archive')
      .option('source', { type: 'string', default: DEFAULT_SOURCE, describe: 'Cloud-image feed: products file, index or mirror root (.sjson = must verify)' })
      .option('target', { type: 'string', describe: 'Existing MAAS stream that says what is built (default: config default_target); "force" = empty' })
      .option('max', { type: 'number', default: 1, describe: 'Consider the N newest versions of each source product' })
      // Not `array: true`: yargs arrays swallow the positional arguments that follow.
      .option('arches', { type: 'string', describe: 'Arches to build, comma-separated or repeated (default: by host, as the original)' })
      .option('rebuild', { type: 'string', describe: 'FROM:TO — treat source version FROM as not built and publish it as TO (repeatable)' })
      .option('proposed-packages', { type: 'string', describe: 'CSV of packages to take from -proposed (with --proposed)' })
      .option('pre-purge-packages', { type: 'string', describe: 'CSV of packages to purge and reinstall' })
      .option('jobs', { alias: 'j', type: 'number', default: 2, describe: 'Release/arch pairs built at once' })
      .option('dry-run', { alias: 'n', type: 'boolean', default: false, describe: 'Print (release, arch, source serial → MAAS version) to build; build and write nothing' })
      .check((a) => {
        if (a.disableDi && a.enableDi) throw new UsageError('--disable-di conflicts with --enable-di');
        if (a.max !== undefined && (!Number.isInteger(a.max) || a.max < 1)) throw new UsageError(`--max ${String(a.max)}: must be a positive integer`);
        if (a.jobs !== undefined && (!Number.isInteger(a.jobs) || a.jobs < 1)) throw new UsageError(`--jobs ${String(a.jobs)}: must be a positive integer`);
        return true;
      }),
  async run(args, ctx) {
    const lib = await import('@meph/image-transform');

    const { configPath, config, converter: choice, di } = await lib.loadBuildInputs(args, { env: ctx.env, cwd: ctx.cwd, defaultConfig: DEFAULT_CONFIG });
    const request = lib.resolveSyncRequest({
      ...(args.arches ? { arches: csvList(args.arches) } : {}),
      filters: args.filters,
      rebuild: listOf(args.rebuild),
      ...(args.target !== undefined ? { target: args.target } : {}),
      source: args.source,
      config,
      configPath,
      cwd: ctx.cwd,
    });
    const signing = optInSigning(args);
    if (!args.dryRun) await checkSigningArgs(signing, ctx);
    const { verifier, policy } = await verifierFromArgs(args, ctx.env, ctx.cwd, ctx.reporter.warn);
    ctx.reporter.verbose(1, `converter: ${choice.name} (${choice.reason})`);

    const result = await lib.runSync({
      config,
      flags: lib.buildFlagsFrom(args),
      env: ctx.env,
      source: request.source,
      target: request.target,
      outputDir: path.resolve(ctx.cwd, args.outputDir),
      arches: request.arches,
      filters: request.filters,
      max: args.max,
      rebuild: request.rebuild,
      di,
      ...(verifier ? { verifier } : {}),
      policy,
      converter: choice.converter,
      converterName: choice.name,
      jobs: args.jobs,
      dryRun: args.dryRun,
      verbosity: args.verbose,
      signal: ctx.signal,
      onEvent: (e) => {
        if (e.type === 'progress' || e.type === 'build-failed' || e.type === 'build-done' || e.type === 'warning' || e.type === 'http-retry' || e.type === 'stream-untouched' || args.verbose > 0) ctx.reporter.emit(e);
      },
    });

    if (args.dryRun) {
      if (!args.json) {
        for (const j of result.plan.jobs) ctx.reporter.out(`${j.release} ${j.arch} ${j.sourceVersion} -> ${j.version}`);
        ctx.reporter.info(`dry run: ${result.plan.jobs.length} version(s) would be built, ${result.plan.skipped.length} already built; nothing was written`);
      } else {
        ctx.reporter.emit({ type: 'settings', settings: result.settings, converter: choice.name });
        for (const { job: j, request } of result.requests) ctx.reporter.emit({ type: 'would-build', release: j.release, arch: j.arch, sourceVersion: j.sourceVersion, version: j.version, request });
      }
      return 0;
    }
    if (result.streamWritten && signingWanted(signing)) await signIfWanted(signing, path.resolve(ctx.cwd, args.outputDir), ctx);
    ctx.reporter.info(
      `${result.built.length} version(s) built, ${result.plan.skipped.length} already built, ${result.failures.length} failed; ` +
        (result.streamWritten ? `stream: ${result.productsPath}` : 'stream left untouched'),
    );
    if (result.failures.length) {
      for (const f of result.failures) ctx.reporter.warn(`failed: ${f.job.release} ${f.job.arch} ${f.job.sourceVersion} -> ${f.job.version}: ${f.error.message}`);
      throw new lib.SyncBuildFailedError(result.failures.length, result.built.length, result.streamWritten);
    }
    return 0;
  },
});

export const spec = defineCli({
  name: 'meph2-cloudimg-sync',
  version: '0.1.0',
  describe: 'Keep a MAAS stream in step with a cloud-image feed, building only what is new',
  commands: [command],
});
