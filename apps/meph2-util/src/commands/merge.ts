import { defineCommand, verifierFromArgs, withKeyringOptions } from '@meph/cli-kit';
import { location, runStreamEdit, withStreamEditOptions } from '../options.js';

export const mergeCommand = defineCommand({
  reads: 'signed',
  command: 'merge <src> <target>',
  describe: 'combine another stream (e.g. bootloaders) into a stream: copy its files, replace same-named products files',
  examples: [['meph2-util merge bootloaders.d images.d', 'add the bootloader products file and its files to images.d, then sign']],
  epilog: [
    'Each source item whose (product, version, item) already exists in the target must have the same sha256 (else the merge stops before',
    'changing anything); other files are copied (verified). Each source products file then replaces the target file of the same name.',
    'Differences from the original: a product present in the target without that version no longer crashes (KeyError) [BUG? fixed];',
    '-n/--dry-run is supported. SRC and TARGET may be given as .../streams/v1/index.json. All differences: docs/compat.md.',
  ].join('\n'),
  builder: (y) =>
    withKeyringOptions(
      withStreamEditOptions(
        y
          .positional('src', { type: 'string', demandOption: true, describe: 'Stream to merge in (directory or index file)' })
          .positional('target', { type: 'string', demandOption: true, describe: 'Stream directory to merge into' }),
      ),
    ),
  async run(args, ctx) {
    const { verifier, policy } = await verifierFromArgs(args, ctx.env, ctx.cwd, ctx.reporter.warn);
    const { merge } = await import('@meph/stream-ops');
    await runStreamEdit('merge', args, ctx, args.target, (t, io) => merge(location(ctx, args.src), t.root, { ...io, policy, ...(verifier ? { verifier } : {}) }));
  },
});
