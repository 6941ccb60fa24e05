import path from 'node:path';
import { csvList, defineCommand, formatBytes, publishCommit, withVerbosityOptions } from '@meph/cli-kit';
import { location } from '../options.js';

// The original's default arches; literal here so --help loads no library (the default is @meph/di-crawler's NETBOOT_ARCHES).
const DEFAULT_ARCHES = 'i386,amd64,ppc64el,armhf,arm64,s390x';

export const netbootMirrorCommand = defineCommand({
  fetches: true,
  command: 'netboot-mirror <output-d> [filters..]',
  describe: 'mirror debian-installer netboot kernels, initrds and dtbs into a stream directory (the original netboot-mirror)',
  examples: [
    ['meph2-util netboot-mirror --dry-run --releases noble --arches amd64 --max 1 /srv/netboot', 'print the +/- plan and the "N Mb change" line, write nothing'],
    ['meph2-util netboot-mirror --distro debian --releases bookworm --arches amd64,arm64 /srv/netboot', 'Debian netboot files from the host\'s apt mirror, signatures checked with debian-archive-keyring'],
    ['meph2-util netboot-mirror --archive http://10.0.0.5/ubuntu --keyring ./archive.gpg --max 2 /srv/netboot kernel-flavor=generic', 'a local archive mirror, only generic kernels'],
  ],
  epilog:
    'Writes streams/v1/com.ubuntu.installer:released:netboot.json, .data/com.ubuntu.installer:released:netboot, .data/references.json and files/... (no index, like the original). ' +
    'FILTERs (key=value, key!=value, key~regex, key!~regex) select items; --max/--keep and removals follow `meph2-util mirror`. ' +
    'Installer versions are found and verified through the archive\'s signed InRelease/Release (keyring: --keyring, default /usr/share/keyrings/<distro>-archive-keyring.gpg). ' +
    'Differences from the original: --distro, --archive, --keyring, --jobs, --per-host and --json are meph additions; downloads run in parallel and resume from .part; ' +
    'progress (bytes, rate, ETA) is always shown on a terminal, so --progress changes nothing; -v prints one line per file; --log-file appends every message to a file. All differences: docs/compat.md.',
  builder: (y) =>
    withVerbosityOptions(y, { verbose: 'One line per file downloaded or removed', logFile: 'Also append every message, timestamped, to this file (its directory must exist)' })
      .positional('output-d', { type: 'string', demandOption: true, describe: 'Output directory' })
      .positional('filters', { type: 'string', array: true, default: [], describe: 'key=value, key!=value, key~regex, key!~regex' })
      .option('arches', { type: 'string', requiresArg: true, describe: `Architectures, comma-separated (default: ${DEFAULT_ARCHES})` })
      .option('releases', { type: 'string', requiresArg: true, describe: 'Release codenames, comma-separated (default: every release distro-info calls supported)' })
      .option('max', { type: 'number', requiresArg: true, describe: 'Keep at most N newest versions per product' })
      .option('keep', { type: 'boolean', default: false, describe: 'Keep versions the archive no longer has (needs --max)' })
      .option('item-download', { type: 'boolean', default: true, describe: 'Download the files (--no-item-download: metadata and bookkeeping only)' })
      .option('dry-run', { alias: 'n', type: 'boolean', default: false, describe: 'Print the plan and write nothing' })
      .option('progress', { type: 'boolean', default: false, describe: 'Accepted for compatibility (progress is always shown on a terminal)' })
      .option('proposed', { type: 'boolean', default: false, describe: 'Also crawl the -proposed pocket' })
      .option('distro', { choices: ['ubuntu', 'debian'] as const, default: 'ubuntu' as const, describe: 'Archive family: default archive, keyring and releases (meph addition)' })
      .option('archive', { type: 'string', requiresArg: true, describe: 'Archive root holding dists/ (default: archive/ports.ubuntu.com, or the host\'s Debian apt mirror with --distro debian)' })
      .option('keyring', { type: 'string', requiresArg: true, describe: 'Keyring for the archive\'s Release signatures (repeatable)' })
      .option('jobs', { alias: 'j', type: 'number', default: 10, requiresArg: true, describe: 'Downloads in flight in total' })
      .option('per-host', { type: 'number', requiresArg: true, describe: 'Requests in flight per host (default: the --jobs value)' }),
  async run(args, ctx) {
    const ss = await import('@meph/simplestreams');
    const di = await import('@meph/di-crawler');
    const { resolveNetbootSource } = await import('@meph/image-transform');
    const { createVerifier } = await import('@meph/signer');
    const filters = ss.parseFilters(args.filters.map(String));
    const keyringArg: unknown = args.keyring; // a string, or an array when --keyring is repeated
    const keyrings = (Array.isArray(keyringArg) ? keyringArg.map(String) : typeof keyringArg === 'string' ? [keyringArg] : []).map((k) => path.resolve(ctx.cwd, k));
    const distroInfo = di.loadDistroInfo();
    const source = await resolveNetbootSource({
      distro: args.distro,
      distroInfo,
      ...(args.arches !== undefined ? { arches: csvList(args.arches) } : {}),
      ...(args.releases !== undefined ? { releases: csvList(args.releases) } : {}),
      ...(args.archive !== undefined ? { archive: args.archive } : {}),
      keyrings,
    });
    const verifier = await createVerifier({ keyrings: source.keyrings });
    const result = await di.mirrorNetboot(location(ctx, args.outputD), {
      archiveFor: source.archiveFor,
      releases: source.releases,
      arches: source.arches,
      proposed: args.proposed,
      crawl: { verifier, distroInfo },
      filters,
      ...(args.max !== undefined ? { max: args.max } : {}),
      keep: args.keep,
      dryRun: args.dryRun,
      itemDownload: args.itemDownload,
      jobs: args.jobs,
      ...(args.perHost !== undefined ? { perHost: args.perHost } : {}),
      env: ctx.env,
      cwd: ctx.cwd,
      signal: ctx.signal,
      onCommit: publishCommit,
      onCrawlEvent: (e) => {
        if (args.json) ctx.reporter.emit(e);
        else if (e.type === 'di-version') ctx.reporter.verbose(1, `found ${e.product} ${e.version} (${e.files} files, ${e.verifiedBy})`);
        else if (e.type === 'di-error' || e.type === 'di-unverified') ctx.reporter.warn(e.message);
      },
      onEvent: (e) => {
        if (e.type === 'mirror-plan') {
          if (args.json) ctx.reporter.emit(e);
          else ctx.reporter.info(e.line);
        } else if (e.type === 'progress') {
          ctx.reporter.emit({ ...e, step: `netboot-mirror ${e.files}/${e.filesTotal} files, ${formatBytes(e.bytesPerSecond)}/s${e.etaSeconds !== undefined ? `, ETA ${e.etaSeconds}s` : ''}` });
        } else if (args.json) ctx.reporter.emit(e);
        else if (e.type === 'mirror-file') ctx.reporter.verbose(1, `${e.state} ${e.path}`);
        else if (e.type === 'mirror-removed') ctx.reporter.verbose(1, `removed ${e.path}`);
      },
    });
    if (!result.dryRun) ctx.reporter.info(`netboot-mirror: ${result.downloaded} file(s) downloaded (${formatBytes(result.bytes)}), ${result.present} already present, ${result.removed.length} removed`);
    if (args.json) ctx.reporter.emit({ type: 'mirror-done', downloaded: result.downloaded, present: result.present, bytes: result.bytes, removed: result.removed, dryRun: result.dryRun });
    return 0;
  },
});
