import { checkSigningArgs, defineCommand, signIfWanted, verifierFromArgs, withSigningOptions, SIGNATURE_POLICY_HELP, DOCUMENT_LIMITS_HELP } from '@meph/cli-kit';
import { location, writeTarget, withSourceKeyring, opIo, summarize, withWriteOptions } from '../options.js';

export const mergeCommand = defineCommand({
  command: 'merge <src> <target>',
  describe: 'combine another stream (e.g. bootloaders) into a stream: copy its files, replace same-named products files',
  examples: [['meph2-util merge bootloaders.d images.d', 'add the bootloader products file and its files to images.d, then sign']],
  epilog: [
    'Each source item whose (product, version, item) already exists in the target must have the same sha256 (else the merge stops before',
    'changing anything); other files are copied (verified). Each source products file then replaces the target file of the same name.',
    'Differences from the original: a product present in the target without that version no longer crashes (KeyError) [BUG? fixed];',
    '-n/--dry-run is supported. SRC and TARGET may be given as .../streams/v1/index.json. All differences: docs/compat.md.',
    SIGNATURE_POLICY_HELP,
    DOCUMENT_LIMITS_HELP,
  ].join('\n'),
  builder: (y) =>
    withSourceKeyring(
      withSigningOptions(
        withWriteOptions(
          y
            .positional('src', { type: 'string', demandOption: true, describe: 'Stream to merge in (directory or index file)' })
            .positional('target', { type: 'string', demandOption: true, describe: 'Stream directory to merge into' }),
        ),
      ),
    ),
  async run(args, ctx) {
    if (!args.dryRun) await checkSigningArgs(args, ctx);
    const { verifier, policy } = await verifierFromArgs(args, ctx.env, ctx.cwd, ctx.reporter.warn);
    const { merge } = await import('@meph/stream-ops');
    const { root: target } = await writeTarget(ctx, args.target, 'merge');
    const result = await merge(location(ctx, args.src), target, { ...opIo(args, ctx), policy, ...(verifier ? { verifier } : {}) });
    ctx.reporter.info(summarize('merge', result, args.dryRun));
    if (!args.dryRun) await signIfWanted(args, target, ctx);
  },
});
