import { defineCommand, UsageError, verifierFromArgs, withKeyringOptions, type KeyringArgs } from '@meph/cli-kit';

interface QueryArgs extends KeyringArgs {
  location: string;
  filters: string[];
  max?: number;
  path?: string;
  outputFormat?: string;
}

/** Output is written in pieces this large: a quarter of a million items should not mean as many writes. */
const OUTPUT_CHUNK = 1 << 20;

export const queryCommand = defineCommand({
  reads: 'signed',
  fetches: true,
  command: 'query <location> [filters..]',
  describe: 'list the items of a stream that match filters (same arguments and answers as sstream-query)',
  examples: [
    ['meph2-util query --json ./streams/v1/index.json arch=amd64 --max=1', 'newest amd64 version of every product, as a JSON array'],
    ["meph2-util query --keyring ./cloudimg.gpg https://images.maas.io/ephemeral-v3/stable/ release=noble -o '%(version_name)s %(item_url)s'", 'verified query of a remote mirror, one line per item'],
    ['meph2-util query --max 1 ss_product_noble.json', 'a single products file (its directory is the mirror root)'],
  ],
  epilog:
    'LOCATION is a mirror root (directory or http(s) URL), a .../streams/v1/index.(s)json, or one products file. ' +
    'FILTERs are ANDed: key=value, key!=value, key~regex (Python re.search, unanchored), key!~regex; a missing key compares as "". ' +
    'Output per products file (index order), per product (document order), versions newest first (plain string order), items in document order. ' +
    'Default output is one Python-style dict per item; --json prints one JSON array (sorted keys); -o takes a Python %-format such as "%(product_name)s %(item_url)s". ' +
    'A location ending in .sjson must be signed and verify (give --keyring, or --no-verify). ' +
    'A meph addition: the original meph2-util has no query (sstream-query answers the same way). See docs/compat.md.',
  builder: (y) =>
    withKeyringOptions(
      y
        .positional('location', { type: 'string', demandOption: true, describe: 'Mirror root, index file or products file (path or http(s) URL)' })
        .positional('filters', { type: 'string', array: true, default: [], describe: 'key=value, key!=value, key~regex, key!~regex' })
        .option('max', { type: 'number', requiresArg: true, describe: 'At most N newest versions per product (counted after filtering)' })
        .option('path', { type: 'string', requiresArg: true, describe: 'First document relative to the mirror root (overrides the streams/v1/ split of LOCATION)' })
        .option('output-format', { alias: 'o', type: 'string', requiresArg: true, describe: 'Python %-format per item, e.g. "%(product_name)s %(item_url)s"' }),
    ),
  async run(args, ctx) {
    const ss = await import('@meph/simplestreams');
    if (args.json && args.outputFormat !== undefined) throw new UsageError('--json and -o/--output-format cannot be used together', 'pick one output form');
    const max = args.max;
    if (max !== undefined && (!Number.isInteger(max) || max < 0)) throw new UsageError(`--max must be a whole number >= 0, got ${String(max)}`);
    const filters = ss.parseFilters(args.filters.map(String));
    const render = args.outputFormat !== undefined ? ss.compilePercentFormat(args.outputFormat) : undefined;

    // Like sstream-query, loadStream makes a stream opened at a .sjson signed throughout.
    const { verifier, policy } = await verifierFromArgs(args, ctx.env, ctx.cwd, ctx.reporter.warn);

    const stream = await ss.loadStream(args.location, {
      ...(args.path !== undefined ? { path: args.path } : {}),
      ...(verifier ? { verifier } : {}),
      policy,
      cwd: ctx.cwd,
      signal: ctx.signal,
    });
    const records = ss.queryStream(stream, filters, max !== undefined ? { max } : {});

    // Output is written as records are produced, in pieces of about OUTPUT_CHUNK characters,
    // waiting whenever stdout is full: memory stays bounded and the first items come out early.
    let pending = '';
    const emit = async (text: string): Promise<void> => {
      pending += text;
      if (pending.length >= OUTPUT_CHUNK) {
        await ctx.reporter.write(pending);
        pending = '';
      }
    };
    if (args.json) {
      for (const chunk of ss.pythonJsonChunks(records)) await emit(chunk);
    } else {
      for (const record of records) {
        if (!render) await emit(`${ss.pyRepr(record)}\n`);
        else {
          const r = render(record);
          if (r.ok) await emit(`${r.text}\n`);
          else {
            await ctx.reporter.write(pending);
            pending = '';
            ctx.reporter.warn(`output format failed: item ${record.product_name} ${record.version_name} ${record.item_name} has no field ${JSON.stringify(r.missing)}; skipped`);
          }
        }
      }
    }
    if (pending) await ctx.reporter.write(pending);
    return 0;
  },
});
