import { defineCommand, formatBytes, UsageError, verifierFromArgs, withKeyringOptions, type KeyringArgs } from '@meph/cli-kit';

interface ReapOrphansArgs extends KeyringArgs {
  orphansFile: string;
  dataDir: string;
  streams: string[];
  older: string;
  now: boolean;
  dryRun: boolean;
  force: boolean;
}

function describeReclaimed(n: number): string {
  return n < 1024 ? `${n} B` : `${formatBytes(n)} (${n} bytes)`;
}

export const reapOrphansCommand = defineCommand({
  reads: 'signed',
  command: 'reap-orphans <orphans-file> <data-dir> [streams..]',
  describe: 'delete data files that find-orphans recorded as orphaned longer than a grace period',
  examples: [
    ['meph2-util reap-orphans --older 7d my-orphans.json ./data/', 'delete files orphaned for more than 7 days (the README example)'],
    ['meph2-util reap-orphans -n --now my-orphans.json ./data/', 'show what --now would delete, delete nothing'],
    ['meph2-util reap-orphans --json --older 1d12h orphans.json ./stable.d', 'one orphan-reaped event per file deleted'],
  ],
  epilog: [
    'An entry is deleted when --now is given or it was first seen orphaned more than --older ago (d/h/m/s tokens summed, e.g. 1d12h; a',
    'bare number is days; default 3d; --now wins over --older). A missing ORPHANS_FILE is an error (exit 1), as in the original.',
    'Right before deleting, the streams are re-read under their writer locks and every entry they reference again is kept and',
    'forgotten (the original did not re-check [QUIRK fixed]). The streams are the STREAMs given, else those find-orphans recorded in',
    'the sidecar ORPHANS_FILE.meph.json, plus every stream found inside DATA_DIR (always). If the sidecar records another data',
    'directory, nothing is reaped (exit 1): an orphans file is only valid for the DATA_DIR it was computed for. An ORPHANS_FILE of the',
    'original (no sidecar) is accepted. Item paths count in both layouts (resolved against the mirror root, symlinks followed, and',
    'against DATA_DIR), and the same refusals as find-orphans apply (no references, or under two thirds of a stream\'s paths present',
    'under DATA_DIR; --force overrides). Nothing outside DATA_DIR is ever deleted: entries escaping it (.., absolute, through a symlinked',
    'directory) and entries naming stream metadata, signatures or locks are refused (exit 1), and a symlink is removed as a link, never',
    'followed. Emptied directories are removed up to, but never including, DATA_DIR (the original could remove DATA_DIR itself [QUIRK',
    'fixed]). -n/--dry-run prints what would go and changes nothing, ORPHANS_FILE included.',
    'All differences from the original: docs/compat.md.',
  ].join('\n'),
  builder: (y) =>
    withKeyringOptions(
      y
        .positional('orphans-file', { type: 'string', demandOption: true, describe: 'JSON file written by find-orphans' })
        .positional('data-dir', { type: 'string', demandOption: true, describe: 'Directory the orphan paths are relative to' })
        .positional('streams', { type: 'string', array: true, default: [], describe: 'Streams to re-check against (default: those recorded in ORPHANS_FILE)' })
        .option('older', { type: 'string', default: '3d', requiresArg: true, describe: 'Grace period: only reap entries orphaned longer than this (e.g. 3d, 12h, 1d12h, 0)' })
        .option('now', { type: 'boolean', default: false, describe: 'Reap every entry regardless of age' })
        .option('dry-run', { alias: 'n', type: 'boolean', default: false, describe: 'Only report what would be deleted' })
        .option('force', { type: 'boolean', default: false, describe: 'Go on although a stream references nothing, or mostly paths that are not under DATA_DIR' }),
    ),
  async run(args, ctx) {
    const { parseDuration, reapOrphans } = await import('@meph/orphans');
    const olderThanMs = parseDuration(String(args.older));
    const { verifier, policy } = await verifierFromArgs(args, ctx.env, ctx.cwd, ctx.reporter.warn);
    // yargs turns a lone "-" positional into ""
    const orphansFile = args.orphansFile === '' ? '-' : args.orphansFile;
    const result = await reapOrphans({
      orphansFile,
      dataDir: args.dataDir,
      streams: args.streams.map(String),
      olderThanMs,
      all: args.now,
      dryRun: args.dryRun,
      force: args.force,
      cwd: ctx.cwd,
      ...(verifier ? { verifier } : {}),
      policy,
      onEvent: (e) => {
        if (e.type === 'warning') {
          ctx.reporter.warn(e.message);
          return;
        }
        if (e.type === 'orphan-reaped' && !args.json) {
          ctx.reporter.info(`${e.dryRun ? 'would reap' : 'reaped'} ${e.path} (orphaned on ${e.firstSeen}, ${e.bytes} bytes)`);
          return;
        }
        if (args.json || e.type === 'progress' || (e.type === 'orphan-kept' && e.reason !== 'too-recent')) ctx.reporter.emit(e);
      },
    });
    const verb = args.dryRun ? 'would reap' : 'reaped';
    ctx.reporter.info(
      `reap-orphans: ${verb} ${result.reaped.length} file(s), ${describeReclaimed(result.bytes)} ${args.dryRun ? 'would be ' : ''}reclaimed; ` +
        `${result.kept.length} kept for later, ${result.referencedAgain.length} referenced again, ${result.gone.length} already gone` +
        (result.refused.length ? `, ${result.refused.length} refused (outside ${args.dataDir} or not data)` : '') +
        (result.referenced ? `; ${result.referenced} paths referenced: ${result.present} present, ${result.missing} missing` : ''),
    );
    if (args.json) ctx.reporter.emit({ type: 'orphans-reaped-summary', files: result.reaped.length, bytes: result.bytes, dryRun: result.dryRun });
    return result.refused.length ? 1 : 0;
  },
});
