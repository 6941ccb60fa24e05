import { defineCommand, verifierFromArgs, withKeyringOptions, type KeyringArgs, SIGNATURE_POLICY_HELP, DOCUMENT_LIMITS_HELP } from '@meph/cli-kit';

interface FindOrphansArgs extends KeyringArgs {
  orphansFile: string;
  dataDir: string;
  streams: string[];
}

export const findOrphansCommand = defineCommand<FindOrphansArgs>({
  command: 'find-orphans <orphans-file> <data-dir> [streams..]',
  describe: 'record which files of a data directory no stream references any more (with when each was first seen)',
  examples: [
    ['meph2-util find-orphans my-orphans.json ./daily/ ./daily/streams/v1/*.json', 'orphans of the daily mirror (the README example)'],
    ['meph2-util find-orphans my-orphans.json ./data/ ./daily/streams/v1/index.json released/streams/v1/index.json', 'a data pool shared by two streams'],
    ['meph2-util find-orphans - ./stable.d', 'print the orphans file on stdout instead of writing one (the mirror is its own stream)'],
  ],
  epilog: [
    'ORPHANS_FILE maps each unreferenced path (relative to DATA_DIR) to the RFC 2822 time it was first seen orphaned; "-" prints it on stdout',
    '(with --json: as one orphans-file event). --json emits one orphan-found event per orphan and orphan-dropped per entry dropped.',
    'Re-running keeps earlier timestamps and drops entries that are referenced again or gone. The streams used are recorded in the file',
    '(key "/meph:streams") so that reap-orphans can re-check them; with no STREAM, the recorded ones are used, else DATA_DIR itself if it',
    'holds streams/v1. A STREAM is a mirror root, a .../streams/v1/index.(s)json, a products file or an http(s) URL; signed streams are',
    'verified with --keyring. Top-level streams/ and .data/ of DATA_DIR are never orphans. Streams that reference no file at all are refused',
    '(a mistyped path must not make a whole pool orphaned). Non-destructive: only ORPHANS_FILE is written (atomically).',
    SIGNATURE_POLICY_HELP,
    DOCUMENT_LIMITS_HELP,
  ].join('\n'),
  builder: (y) =>
    withKeyringOptions(
      y
        .positional('orphans-file', { type: 'string', demandOption: true, describe: 'JSON file of orphans and first-seen times ("-" = stdout)' })
        .positional('data-dir', { type: 'string', demandOption: true, describe: 'Directory holding the data files (a mirror root or a shared pool)' })
        .positional('streams', { type: 'string', array: true, default: [], describe: 'Streams whose item paths reference DATA_DIR' }),
    ).nargs('keyring', 1) as never,
  async run(args, ctx) {
    const { findOrphans } = await import('@meph/orphans');
    const { verifier, policy } = await verifierFromArgs(args, ctx.env, ctx.cwd, ctx.reporter.warn);
    // yargs turns a lone "-" positional into ""
    const orphansFile = args.orphansFile === '' ? '-' : args.orphansFile;
    const result = await findOrphans({
      orphansFile,
      dataDir: args.dataDir,
      streams: args.streams.map(String),
      cwd: ctx.cwd,
      ...(verifier ? { verifier } : {}),
      policy,
      onEvent: (e) => {
        // one line per orphan only with --json; humans get the summary
        if (args.json || e.type === 'progress' || e.type === 'orphan-dropped') ctx.reporter.emit(e);
      },
    });
    if (orphansFile === '-') {
      // with --json stdout carries NDJSON events, so the file travels as one event
      if (args.json) ctx.reporter.emit({ type: 'orphans-file', orphans: Object.fromEntries(result.file.entries), streams: result.file.streams });
      else ctx.reporter.out(result.text);
    }
    ctx.reporter.info(
      `find-orphans: ${result.file.entries.size} orphans among ${result.files} files (${result.added.length} new, ${result.dropped.length} dropped); ` +
        `${result.referenced} paths referenced by ${result.file.streams?.length ?? 0} stream(s)${orphansFile === '-' ? '' : `; written to ${orphansFile}`}`,
    );
  },
});
