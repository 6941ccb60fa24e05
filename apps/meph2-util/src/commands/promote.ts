import { checkSigningArgs, defineCommand, signIfWanted, verifierFromArgs, withSigningOptions, SIGNATURE_POLICY_HELP, DOCUMENT_LIMITS_HELP } from '@meph/cli-kit';
import { location, withSourceKeyring, opIo, summarize, withFilters, withWriteOptions } from '../options.js';

const LABELS = ['alpha1', 'alpha2', 'alpha3', 'beta1', 'beta2', 'beta3', 'rc', 'release'] as const;

export const promoteCommand = defineCommand({
  command: 'promote <src> <target> <ver> [filters..]',
  describe: 'copy one version from a candidate stream into a released stream, relabelled',
  examples: [
    ['meph2-util promote candidate.d released.d 20260722', 'promote version 20260722 of every product, label "release"'],
    ['meph2-util promote -l rc -u candidate.d released.d 20260722 release=noble', 'promote noble only, label "rc", unsigned'],
  ],
  epilog: [
    'The content id loses ":candidate" (com.ubuntu.maas:candidate:v3:download → com.ubuntu.maas:v3:download) and product ids lose',
    '".candidate:" → ":"; every promoted item gets label=LABEL. Files are hard-linked (same filesystem) or copied to the same relative paths (verified) unless',
    '--skip-file-copy. Existing versions are never rewritten; at most 100 versions per product are kept.',
    'Note: production promotes with `diff` + `patch` instead, which keeps label-substituted names (com.ubuntu.maas.stable:…).',
    SIGNATURE_POLICY_HELP,
    DOCUMENT_LIMITS_HELP,
  ].join('\n'),
  builder: (y) =>
    withSourceKeyring(
      withSigningOptions(
        withWriteOptions(
          withFilters(
            y
              .positional('src', { type: 'string', demandOption: true, describe: 'Candidate stream (directory, index file or URL)' })
              .positional('target', { type: 'string', demandOption: true, describe: 'Released stream directory' })
              .positional('ver', { type: 'string', demandOption: true, describe: 'Version name to promote, e.g. 20260722' })
              .option('label', { alias: 'l', choices: LABELS, default: 'release' as (typeof LABELS)[number], describe: 'Label written on the promoted items' })
              .option('skip-file-copy', { type: 'boolean', default: false, describe: 'Metadata only (testing): the files must already be in the target' }),
          ),
        ),
      ),
    ),
  async run(args, ctx) {
    if (!args.dryRun) await checkSigningArgs(args, ctx);
    const { verifier, policy } = await verifierFromArgs(args, ctx.env, ctx.cwd, ctx.reporter.warn);
    const { promote } = await import('@meph/simplestreams/ops');
    const target = location(ctx, args.target);
    const filters = args.filters ?? [];
    ctx.reporter.info(`filter_list=${JSON.stringify([...filters, `version_name=${args.ver}`])}`);
    const result = await promote(location(ctx, args.src), target, String(args.ver), {
      ...opIo(args, ctx),
      filters,
      label: args.label,
      skipFileCopy: args.skipFileCopy,
      policy,
      ...(verifier ? { verifier } : {}),
    });
    ctx.reporter.info(summarize('promote', result, args.dryRun));
    if (!args.dryRun) await signIfWanted(args, target, ctx);
  },
});
