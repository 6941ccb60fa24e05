import { defineCommand, formatBytes, publishCommit, verifierFromArgs, withKeyringOptions } from '@meph/cli-kit';
import { location } from '../options.js';

function clock(secs: number): string {
  const h = Math.floor(secs / 3600);
  const m = Math.floor((secs % 3600) / 60);
  const s = secs % 60;
  return `${h ? `${h}:` : ''}${String(m).padStart(h ? 2 : 1, '0')}:${String(s).padStart(2, '0')}`;
}

export const mirrorCommand = defineCommand({
  fetches: true,
  command: 'mirror <source> <target> [filters..]',
  describe: 'mirror a stream and the data of the items that match filters into a directory (sstream-mirror successor: parallel, resumable, verified)',
  examples: [
    ['meph2-util mirror --max 1 --keyring /usr/share/keyrings/ubuntu-cloudimage-keyring.gpg https://images.maas.io/ephemeral-v3/stable/ /srv/mirror release=noble arch=amd64', 'newest noble amd64 images with their metadata, signatures checked'],
    ['meph2-util mirror --dry-run --max 2 ./foocloud/streams/v1/index.json /srv/foo arch=i386', 'print the +/- plan and the "N Mb change" line, write nothing'],
    ['meph2-util mirror --jobs 16 --per-host 8 --json http://10.0.0.5/streams/ out/', 'faster over a LAN; machine events on stdout'],
  ],
  epilog:
    'SOURCE is a mirror root, a .../streams/v1/index.(s)json or a products file (path or http(s) URL); TARGET a directory. ' +
    'FILTERs (key=value, key!=value, key~regex, key!~regex, ANDed) select items; --max keeps the newest N matching versions per product, ' +
    'versions that fall out are removed and their files deleted once no mirrored version refers to them (.data/references.json); --keep keeps versions the source dropped while under --max. ' +
    'Metadata (index, products, signatures) is copied byte for byte, unfiltered, like sstream-mirror. ' +
    'Order: data (each file to FILE.part, resumed with Range, size and every checksum verified, then renamed), products, index, deletions, bookkeeping; ' +
    'an interrupted mirror still serves the previous or the new stream, and a rerun finishes it without downloading a file twice. ' +
    'Differences from sstream-mirror: downloads run in parallel (--jobs, --per-host), progress shows bytes, rate and ETA, emptied directories are pruned, ' +
    'and a present file of the wrong size is fetched again instead of kept. A meph addition (the original has no mirror; sstream-mirror is a separate tool). See docs/compat.md.',
  builder: (y) =>
    withKeyringOptions(
      y
        .positional('source', { type: 'string', demandOption: true, describe: 'Mirror root, index or products file (path or http(s) URL)' })
        .positional('target', { type: 'string', demandOption: true, describe: 'Output directory' })
        .positional('filters', { type: 'string', array: true, default: [], describe: 'key=value, key!=value, key~regex, key!~regex' })
        .option('max', { type: 'number', requiresArg: true, describe: 'Keep at most N newest matching versions per product' })
        .option('keep', { type: 'boolean', default: false, describe: 'Keep versions the source no longer has (needs --max)' })
        .option('jobs', { alias: 'j', type: 'number', default: 10, requiresArg: true, describe: 'Downloads in flight in total' })
        .option('per-host', { type: 'number', requiresArg: true, describe: 'Downloads in flight per host (default: the --jobs value)' })
        .option('dry-run', { alias: 'n', type: 'boolean', default: false, describe: 'Print the +/- plan and write nothing' })
        .option('item-download', { type: 'boolean', default: true, describe: 'Download item data (--no-item-download: metadata and bookkeeping only)' })
        .option('wait-lock', { type: 'boolean', default: false, describe: 'Wait for another writer of TARGET instead of failing' }),
    ),
  async run(args, ctx) {
    const ss = await import('@meph/simplestreams');
    const { mirrorStream } = await import('@meph/simplestreams/mirror');
    const filters = ss.parseFilters(args.filters.map(String));
    const { verifier, policy: flagPolicy } = await verifierFromArgs(args, ctx.env, ctx.cwd);
    // Like sstream-mirror: starting from a .sjson means every document must be signed and verify.
    const policy = flagPolicy === 'when-present' && args.source.endsWith('.sjson') ? 'required' : flagPolicy;
    const result = await mirrorStream(args.source, location(ctx, args.target), {
      filters,
      ...(args.max !== undefined ? { max: args.max } : {}),
      keep: args.keep,
      dryRun: args.dryRun,
      itemDownload: args.itemDownload,
      ...(verifier ? { verifier } : {}),
      policy,
      jobs: args.jobs,
      ...(args.perHost !== undefined ? { perHost: args.perHost } : {}),
      env: ctx.env,
      cwd: ctx.cwd,
      signal: ctx.signal,
      waitForLock: args.waitLock,
      onCommit: publishCommit,
      onEvent: (e) => {
        if (e.type === 'mirror-plan') {
          if (args.json) ctx.reporter.emit(e);
          else ctx.reporter.info(e.line);
        } else if (e.type === 'progress') {
          const eta = e.etaSeconds !== undefined ? `, ETA ${clock(e.etaSeconds)}` : '';
          ctx.reporter.emit({ ...e, step: `mirror ${e.files}/${e.filesTotal} files, ${formatBytes(e.bytesPerSecond)}/s${eta}` });
        } else if (args.json) ctx.reporter.emit(e);
      },
    });
    if (!result.dryRun) {
      ctx.reporter.info(`mirrored: ${result.downloaded} file(s) downloaded (${formatBytes(result.bytes)}), ${result.present} already present, ${result.removed.length} removed`);
    }
    if (args.json) ctx.reporter.emit({ type: 'mirror-done', downloaded: result.downloaded, present: result.present, bytes: result.bytes, removed: result.removed, dryRun: result.dryRun });
    return 0;
  },
});
