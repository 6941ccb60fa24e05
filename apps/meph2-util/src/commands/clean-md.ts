import { defineCommand, UsageError } from '@meph/cli-kit';
import { runStreamEdit, withStreamEditOptions, withUnusedKeyring } from '../options.js';

export const cleanMdCommand = defineCommand({
  reads: 'metadata',
  command: 'clean-md <words..>',
  describe: 'drop all but the newest MAX versions of each product from a stream\'s metadata',
  examples: [
    ['meph2-util clean-md 3 stable.d', 'keep the 3 newest versions of every product, then sign'],
    ['meph2-util clean-md --max=3 -n stable.d release=focal', 'show which focal versions beyond the newest 3 would go'],
  ],
  epilog: [
    'Usage: clean-md [options] MAX STREAM [FILTER..]   or   clean-md --max=MAX [options] STREAM [FILTER..]',
    'Versions are compared as plain strings. Only versions holding an item that matches the filters are counted and removed.',
    'Metadata only: data files stay; run find-orphans and reap-orphans to free the space.',
    'STREAM is the mirror root or its streams/v1/index.(s)json; naming one products file (streams/v1/<name>.json) cleans that file only.',
    'Differences from the original: --max=N is accepted as the README shows (the original rejected it) [BUG? fixed]; MAX must be ≥ 1',
    '(0 would leave products MAAS rejects); a URL is refused in one line. All differences: docs/compat.md.',
  ].join('\n'),
  builder: (y) =>
    withStreamEditOptions(
      withUnusedKeyring(
        y
          .positional('words', { type: 'string', array: true, describe: 'MAX STREAM [FILTER..] (MAX omitted when --max is given)' })
          .option('max', { type: 'number', describe: 'Keep at most this many versions per product (instead of the MAX positional)' }),
      ),
    ),
  async run(args, ctx) {
    const words = (args.words ?? []).map(String);
    let max = args.max;
    if (max === undefined) {
      const first = words.shift();
      if (first === undefined || !/^\d+$/.test(first)) throw new UsageError(`clean-md: expected MAX (a whole number) before STREAM, got ${JSON.stringify(first ?? '')}`, 'e.g. meph2-util clean-md 3 stable.d');
      max = Number(first);
    }
    const stream = words.shift();
    if (stream === undefined) throw new UsageError('clean-md: missing STREAM', 'e.g. meph2-util clean-md 3 stable.d');
    if (!Number.isInteger(max) || max < 1) throw new UsageError(`clean-md: MAX must be a whole number ≥ 1, got ${String(max)}`);
    const { cleanMd } = await import('@meph/stream-ops');
    const keep = max;
    const edit = (t: { root: string; productsPath?: string }, io: object) => cleanMd(t.root, keep, { ...io, filters: words, ...(t.productsPath ? { productsPath: t.productsPath } : {}) });
    await runStreamEdit('clean-md', args, ctx, stream, edit, { mustExist: true });
  },
});
