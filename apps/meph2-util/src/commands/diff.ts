import { defineCommand, verifierFromArgs, withKeyringOptions } from '@meph/cli-kit';
import { location } from '../options.js';

export const diffCommand = defineCommand({
  reads: 'signed',
  command: 'diff <src> <target>',
  describe: 'write the patch (YAML) that would make TARGET follow SRC',
  examples: [
    ['meph2-util diff --new-versions-only --promote candidate.d stable.d -o promote.yaml', 'the daily candidate → stable promotion patch'],
    ['meph2-util diff https://images.maas.io/ephemeral-v3/candidate/ stable.d', 'compare a remote stream with a local one (YAML on stdout)'],
  ],
  epilog: [
    'Output format: header comments, then <products file without label>: <product regex without label>: {labels, <key>: {label: value}, versions:',
    "{'<version>': {labels: [...]}}} — the format of conf/cpc-patch.yaml, which `meph2-util patch` applies. Identical streams give only the header.",
    'A version present on both sides with different files is an error: published versions must never change.',
    'Differences from the original: signed files are checked when a keyring is configured (the original never verified diff input);',
    'a version with different files on the two sides is a one-line error (was an AssertionError). All differences: docs/compat.md.',
  ].join('\n'),
  builder: (y) =>
    withKeyringOptions(
      y
        .positional('src', { type: 'string', demandOption: true, describe: 'Source stream: directory, index file or http(s) URL' })
        .positional('target', { type: 'string', demandOption: true, describe: 'Target stream: directory, index file or http(s) URL' })
        .option('output', { alias: 'o', type: 'string', describe: 'Write the YAML to this file instead of stdout' })
        .option('new-versions-only', { type: 'boolean', default: false, describe: 'Ignore versions that only the target has' })
        .option('latest-only', { type: 'boolean', default: false, describe: 'Only the newest missing version per product, and none older than what the other side has' })
        .option('promote', { type: 'boolean', default: false, describe: 'Give one-sided products/versions both labels and metadata the source value, so the patch promotes' }),
    ),
  async run(args, ctx) {
    const { verifier, policy } = await verifierFromArgs(args, ctx.env, ctx.cwd, ctx.reporter.warn);
    const { loadSourceStream, diffStreams, formatPatch } = await import('@meph/stream-ops');
    const { formatUpdated, writeFileAtomic } = await import('@meph/simplestreams');
    const read = { policy, ...(verifier ? { verifier } : {}) };
    const [src, tgt] = await Promise.all([loadSourceStream(location(ctx, args.src), read), loadSourceStream(location(ctx, args.target), read)]);
    const doc = diffStreams(src.products, tgt.products, { newVersionsOnly: args.newVersionsOnly, latestOnly: args.latestOnly, promote: args.promote });
    const yaml = formatPatch(doc, {
      generator: 'meph2-util-0.1.0',
      date: formatUpdated(),
      source: args.src,
      target: args.target,
      newVersionsOnly: args.newVersionsOnly,
      latestOnly: args.latestOnly,
      promote: args.promote,
    });
    const entries = Object.values(doc).reduce((n, s) => n + Object.keys(s.products).length + (s.notMerged ? 1 : 0), 0);
    if (args.output) {
      await writeFileAtomic(location(ctx, args.output), yaml);
      ctx.reporter.emit({ type: 'diff-written', path: args.output, entries });
    } else ctx.reporter.out(yaml);
    ctx.reporter.info(`diff: ${entries} product entr${entries === 1 ? 'y' : 'ies'} differ`);
  },
});
