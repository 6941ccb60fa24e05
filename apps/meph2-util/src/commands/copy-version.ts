import { defineCommand } from '@meph/cli-kit';
import { runStreamEdit, withVersionEditOptions } from '../options.js';

export const copyVersionCommand = defineCommand({
  reads: 'metadata',
  command: 'copy-version <data_d> <from_version> <to_version> [filters..]',
  describe: 'duplicate a version under a new (higher) name, with its files, so clients move off a bad image',
  examples: [['meph2-util copy-version stable.d 20260720 20260720.1 release=noble', 'republish noble 20260720 as 20260720.1, then sign']],
  epilog: [
    'FROM is replaced by TO in every item path and each new file is copied once (symlinks are recreated, not followed; shared files once).',
    'Filters match product-level fields only. Running it again after an interruption completes it; a TO that already exists with other',
    'content is an error (a published version never changes). DATA_D is the mirror root or its streams/v1/index.json.',
    'TO must sort after FROM as a plain string (MAAS uses the string-greatest version) and be a version name: letters, digits and . _ + ~ -,',
    'at most 32 characters. Differences from the original: it accepted any TO (\'\', \'a b\', a lower version) and exited 0; meph refuses',
    'them; an existing TO is never overwritten (see above). All differences: docs/compat.md.',
  ].join('\n'),
  builder: (y) =>
    withVersionEditOptions(y, (v) =>
      v
        .positional('from_version', { type: 'string', demandOption: true, describe: 'Existing version name' })
        .positional('to_version', { type: 'string', demandOption: true, describe: 'New version name, sorting after FROM (e.g. FROM.1)' }),
    ),
  async run(args, ctx) {
    const { copyVersion } = await import('@meph/stream-ops');
    const edit = (t: { root: string }, io: object) => copyVersion(t.root, args.from_version, args.to_version, { ...io, filters: args.filters ?? [] });
    await runStreamEdit('copy-version', args, ctx, args.data_d, edit, { mustExist: true });
  },
});
