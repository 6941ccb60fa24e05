import { readFile } from 'node:fs/promises';
import { text } from 'node:stream/consumers';
import { checkSigningArgs, defineCommand, signIfWanted, UsageError, verifierFromArgs, withKeyringOptions } from '@meph/cli-kit';
import { location, writeTarget, opIo, summarize, withStreamEditOptions } from '../options.js';

/** The patch YAML; a missing or unreadable file is one line naming it. */
async function readPatchFile(abs: string, given: string): Promise<string> {
  try {
    return await readFile(abs, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such patch file' : code === 'EISDIR' ? 'is a directory, not a patch file' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new UsageError(`-i ${given}: ${why}`, 'give the YAML written by `meph2-util diff` (e.g. conf/cpc-patch.yaml), or - for stdin');
  }
}

export const patchCommand = defineCommand({
  reads: 'signed',
  command: 'patch <streams..>',
  describe: 'apply a patch (YAML from `diff`, e.g. conf/cpc-patch.yaml) to a stream: promote, delete, or edit metadata',
  examples: [
    ['meph2-util patch candidate.d stable.d -i conf/cpc-patch.yaml', 'promote what the patch lists from candidate.d into stable.d, then sign'],
    ['meph2-util patch stable.d -i delete-version.yaml -n', 'show what a deleting patch would do (no source needed)'],
  ],
  epilog: [
    'STREAMS is TARGET, or SRC TARGET (SRC: directory or http(s) URL; needed only to add versions/products).',
    'Regexes are anchored (^…$) and match product ids without the stream label. A version listed without the target\'s label is removed;',
    'listed with it and absent, it is copied from SRC with its files (size + sha256 verified); present, it is left alone. A product whose',
    '`labels` lack the target label is removed. Metadata keys take the value given for the target label.',
    'Differences from the original: -n/--dry-run writes nothing at all; more than two streams is a usage error (was an AssertionError);',
    'unquoted dates stay strings; a metadata value also replaces version/item-level copies that would shadow it for clients; a product',
    'left without versions is removed (MAAS rejects empty products); copied versions and added products carry the target label; a',
    'products file that neither stream has is skipped with a stream-skipped event (the shared conf/cpc-patch.yaml names centos-bases),',
    'unless no key applies at all; a missing -i file is one line. TARGET may be .../streams/v1/index.json. All differences: docs/compat.md.',
  ].join('\n'),
  builder: (y) =>
    withKeyringOptions(
      withStreamEditOptions(
        y
          .positional('streams', { type: 'string', array: true, describe: '[SRC] TARGET' })
          .option('input', { alias: 'i', type: 'string', describe: 'Patch YAML file (default: stdin; "-" = stdin)' }),
      ),
    ),
  async run(args, ctx) {
    const streams = (args.streams ?? []).map(String);
    if (streams.length < 1 || streams.length > 2) throw new UsageError(`patch takes TARGET or SRC TARGET, got ${streams.length} stream(s)`, 'e.g. meph2-util patch candidate.d stable.d -i patch.yaml');
    const [srcArg, targetArg] = streams.length === 2 ? [streams[0], streams[1] as string] : [undefined, streams[0] as string];
    const { root: target } = await writeTarget(ctx, targetArg, 'patch', { mustExist: true });
    const fromStdin = args.input === undefined || args.input === '-';
    const patchSource = fromStdin ? 'stdin' : (args.input as string);
    const yamlText = fromStdin ? await text(process.stdin) : await readPatchFile(location(ctx, patchSource), patchSource);
    const { parsePatch, applyPatch } = await import('@meph/stream-ops');
    const patch = parsePatch(yamlText, patchSource);
    if (!Object.keys(patch).length) {
      ctx.reporter.warn(`no diff defined in ${patchSource}; nothing to do`);
      return 0;
    }
    if (!args.dryRun) await checkSigningArgs(args, ctx);
    const { verifier, policy } = await verifierFromArgs(args, ctx.env, ctx.cwd, ctx.reporter.warn);
    const result = await applyPatch(patch, target, {
      ...opIo(args, ctx),
      patchSource,
      ...(srcArg ? { sourceLocation: location(ctx, srcArg) } : {}),
      policy,
      ...(verifier ? { verifier } : {}),
    });
    ctx.reporter.info(summarize('patch', result, args.dryRun));
    if (!args.dryRun) await signIfWanted(args, target, ctx);
    return 0;
  },
});
