import { defineCommand, UsageError, verifierFromArgs, withKeyringOptions } from '@meph/cli-kit';
import { location, runStreamEdit, withFilters, withStreamEditOptions } from '../options.js';

const LABELS = ['alpha1', 'alpha2', 'alpha3', 'beta1', 'beta2', 'beta3', 'rc', 'release'] as const;

export const promoteCommand = defineCommand({
  reads: 'signed',
  command: 'promote <src> <target> <ver> [filters..]',
  describe: 'copy one version from a candidate stream into a released stream, relabelled',
  examples: [
    ['meph2-util promote candidate.d released.d 20260722', 'promote version 20260722 of every product, label "release"'],
    ['meph2-util promote -l rc -u candidate.d released.d 20260722 release=noble', 'promote noble only, label "rc", unsigned'],
  ],
  epilog: [
    'SRC is a directory, .../streams/v1/index.(s)json, a products file or an http(s) URL; TARGET a directory or its streams/v1/index.json.',
    'The stream label is swapped: com.ubuntu.maas:candidate:v3:download → com.ubuntu.maas:stable:v3:download, product ids',
    'com.ubuntu.maas.candidate:… → com.ubuntu.maas.stable:… — the label of the existing target stream, else --target-label (default stable),',
    'so that `diff --promote SRC TARGET` and `patch` work between the two afterwards. Every promoted item gets label=LABEL (default: the',
    'target\'s stream label). Files are hard-linked (same filesystem) or copied to the same relative paths (verified) unless --skip-file-copy. Existing versions are never',
    'rewritten; at most 100 versions per product are kept.',
    'Differences from the original: into a new (empty) target the original wrote the label-less com.ubuntu.maas:v3:download with',
    'products com.ubuntu.maas:v3:… and item label "release", which diff/patch cannot pair with the source; meph writes the labelled names',
    'above. A target that already holds the original\'s label-less file keeps being written the original way. All differences: docs/compat.md.',
  ].join('\n'),
  builder: (y) =>
    withKeyringOptions(
      withStreamEditOptions(
        withFilters(
            y
              .positional('src', { type: 'string', demandOption: true, describe: 'Candidate stream (directory, index file or URL)' })
              .positional('target', { type: 'string', demandOption: true, describe: 'Released stream directory' })
              .positional('ver', { type: 'string', demandOption: true, describe: 'Version name to promote, e.g. 20260722' })
              .option('label', { alias: 'l', choices: LABELS, describe: 'Label written on the promoted items (default: the target stream\'s label, e.g. stable; "release" for a label-less target)' })
              .option('target-label', { type: 'string', describe: 'Stream label of a new target (default stable): X:candidate:v3:download → X:<label>:v3:download' })
              .option('skip-file-copy', { type: 'boolean', default: false, describe: 'Metadata only (testing): the files must already be in the target' }),
        ),
      ),
    ),
  async run(args, ctx) {
    if (args.targetLabel !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(String(args.targetLabel))) {
      throw new UsageError(`--target-label ${JSON.stringify(args.targetLabel)}: a stream label is letters, digits, - and _ (e.g. stable)`);
    }
    const { verifier, policy } = await verifierFromArgs(args, ctx.env, ctx.cwd, ctx.reporter.warn);
    const { promote } = await import('@meph/stream-ops');
    const filters = args.filters ?? [];
    ctx.reporter.info(`filter_list=${JSON.stringify([...filters, `version_name=${args.ver}`])}`);
    const edit = (t: { root: string }, io: object) => promote(location(ctx, args.src), t.root, args.ver, {
      ...io,
      filters,
      ...(args.label !== undefined ? { label: args.label } : {}),
      ...(args.targetLabel !== undefined ? { targetLabel: String(args.targetLabel) } : {}),
      skipFileCopy: args.skipFileCopy,
      policy,
      ...(verifier ? { verifier } : {}),
    });
    await runStreamEdit('promote', args, ctx, args.target, edit);
  },
});
