import { defineCommand } from '@meph/cli-kit';
import { runStreamEdit, withVersionEditOptions } from '../options.js';

export const removeVersionCommand = defineCommand({
  reads: 'metadata',
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
  ].join('\n'),
  builder: (y) =>
    withVersionEditOptions(y, (v) => v.positional('ver', { type: 'string', demandOption: true, describe: 'Version name to remove' })),
  async run(args, ctx) {
    const { removeVersion } = await import('@meph/stream-ops');
    const edit = (t: { root: string }, io: object) => removeVersion(t.root, args.ver, { ...io, filters: args.filters ?? [] });
    await runStreamEdit('remove-version', args, ctx, args.data_d, edit, { mustExist: true });
  },
});
