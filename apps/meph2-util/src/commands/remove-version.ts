import { checkSigningArgs, defineCommand, signIfWanted, withSigningOptions, DOCUMENT_LIMITS_HELP } from '@meph/cli-kit';
import { writeTarget, opIo, summarize, withFilters, withWriteOptions } from '../options.js';

export const removeVersionCommand = defineCommand({
  command: 'remove-version <data_d> <ver> [filters..]',
  describe: 'remove one version from the products of a stream (metadata only)',
  examples: [
    ['meph2-util remove-version stable.d 20200721 release=focal', 'remove 20200721 from every focal product, then sign'],
    ["meph2-util remove-version -n stable.d 20200721 'release~(bionic|xenial)'", 'show what would be removed'],
  ],
  epilog: [
    'Filters match product-level fields only (no inheritance), plus product_name and content_id. Files stay for find-orphans/reap-orphans.',
    'A product left with no version is removed as well (MAAS rejects a product without versions). Nothing is written when nothing matches (signatures are only refreshed if stale).',
    'DATA_D is the mirror root or its streams/v1/index.json. Differences from the original: the emptied product is removed (the original',
    'kept it); a missing stream is one clear error. All differences: docs/compat.md.',
    DOCUMENT_LIMITS_HELP,
  ].join('\n'),
  builder: (y) =>
    withSigningOptions(
      withWriteOptions(
        withFilters(
          y
            .positional('data_d', { type: 'string', demandOption: true, describe: 'Stream directory' })
            .positional('ver', { type: 'string', demandOption: true, describe: 'Version name to remove' })
            .option('keyring', { type: 'string', hidden: true, describe: 'Accepted for compatibility; unused (the stream is read from its own index.json)' }),
        ),
      ),
    ),
  async run(args, ctx) {
    if (!args.dryRun) await checkSigningArgs(args, ctx);
    const { removeVersion } = await import('@meph/stream-ops');
    const { root: target } = await writeTarget(ctx, args.data_d, 'remove-version', { mustExist: true });
    const result = await removeVersion(target, String(args.ver), { ...opIo(args, ctx), filters: args.filters ?? [] });
    ctx.reporter.info(summarize('remove-version', result, args.dryRun));
    if (!args.dryRun) await signIfWanted(args, target, ctx);
  },
});
