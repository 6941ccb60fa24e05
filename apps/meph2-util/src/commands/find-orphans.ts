import { defineCommand, verifierFromArgs, withKeyringOptions, type KeyringArgs } from '@meph/cli-kit';

interface FindOrphansArgs extends KeyringArgs {
  orphansFile: string;
  dataDir: string;
  streams: string[];
  force: boolean;
}

export const findOrphansCommand = defineCommand({
  reads: 'signed',
  command: 'find-orphans <orphans-file> <data-dir> [streams..]',
  describe: 'record which files of a data directory no stream references any more (with when each was first seen)',
  examples: [
    ['meph2-util find-orphans my-orphans.json ./daily/ ./daily/streams/v1/*.json', 'orphans of the daily mirror (the README example)'],
    ['meph2-util find-orphans my-orphans.json ./data/ ./daily/streams/v1/index.json released/streams/v1/index.json', 'a data pool shared by two streams'],
    ['meph2-util find-orphans - ./stable.d', 'print the orphans file on stdout instead of writing one (the mirror is its own stream)'],
    ['meph2-util find-orphans my-orphans.json ./pool/ ./meta/streams/v1/index.json', 'a pool whose item paths are relative to it while the stream lives elsewhere'],
  ],
  epilog: [
    'ORPHANS_FILE maps each unreferenced path (relative to DATA_DIR) to the RFC 2822 time it was first seen orphaned, exactly the',
    "original's format; \"-\" prints it on stdout (with --json: as one orphans-file event). --json emits one orphan-found event per orphan,",
    'orphan-dropped per entry dropped and one orphan-references event with the counts. Re-running keeps earlier timestamps and drops entries',
    'that are referenced again or gone. DATA_DIR and the streams used are recorded beside it in ORPHANS_FILE.meph.json (a sidecar the',
    'original ignores), so that reap-orphans can refuse another DATA_DIR and re-check the same streams; with no STREAM, the recorded ones',
    'are used; a sidecar recording another DATA_DIR is refused (its first-seen times belong to that pool). Every stream found inside',
    'DATA_DIR (DATA_DIR itself, or one nested in the pool) is always read too.',
    'A STREAM is a mirror root, a .../streams/v1/index.(s)json, a products file or an http(s) URL; signed streams are verified with',
    '--keyring. References are the union of every document present: index.json and index.sjson and both twins of each products file',
    '(--no-verify skips signature checks, never documents).',
    "Layouts: an item path counts when it names the file either resolved against the stream's mirror root (symlinks followed, e.g. the",
    "README's daily/data -> ../data) or against DATA_DIR (a pool whose stream lives elsewhere; the original's only layout).",
    "Refusals (non-zero, nothing written): streams that reference nothing at all, or a stream fewer than two thirds of whose paths",
    'exist under DATA_DIR by either resolution (a wrong DATA_DIR, stream or layout would make its files look orphaned); --force overrides.',
    'Never data, never orphans: streams/ metadata (top-level, and streams/v1 at any depth), .data/, .sjson/.gpg signatures, lock files.',
    'Non-destructive: only ORPHANS_FILE and its sidecar are written (atomically).',
    'Differences from the original: streams that reference nothing, or whose paths mostly miss DATA_DIR, are refused (see above). All differences: docs/compat.md.',
  ].join('\n'),
  builder: (y) =>
    withKeyringOptions(
      y
        .positional('orphans-file', { type: 'string', demandOption: true, describe: 'JSON file of orphans and first-seen times ("-" = stdout)' })
        .positional('data-dir', { type: 'string', demandOption: true, describe: 'Directory holding the data files (a mirror root or a shared pool)' })
        .positional('streams', { type: 'string', array: true, default: [], describe: 'Streams whose item paths reference DATA_DIR' })
        .option('force', { type: 'boolean', default: false, describe: 'Go on although a stream references nothing, or mostly paths that are not under DATA_DIR' }),
    ),
  async run(args, ctx) {
    const { findOrphans } = await import('@meph/orphans');
    const { verifier, policy } = await verifierFromArgs(args, ctx.env, ctx.cwd, ctx.reporter.warn);
    // yargs turns a lone "-" positional into ""
    const orphansFile = args.orphansFile === '' ? '-' : args.orphansFile;
    const result = await findOrphans({
      orphansFile,
      dataDir: args.dataDir,
      streams: args.streams.map(String),
      force: args.force,
      cwd: ctx.cwd,
      ...(verifier ? { verifier } : {}),
      policy,
      onEvent: (e) => {
        // one line per orphan only with --json; humans get the summary
        if (args.json || e.type === 'progress' || (e.type === 'orphan-dropped' && e.reason !== 'not-data')) ctx.reporter.emit(e);
      },
    });
    if (orphansFile === '-') {
      // with --json stdout carries NDJSON events, so the file travels as one event
      if (args.json) ctx.reporter.emit({ type: 'orphans-file', orphans: Object.fromEntries(result.file.entries), streams: result.streams });
      else ctx.reporter.out(result.text);
    }
    ctx.reporter.info(
      `find-orphans: ${result.file.entries.size} orphans among ${result.files} files (${result.added.length} new, ${result.dropped.length} dropped); ` +
        `${result.referenced} paths referenced by ${result.streams.length} stream(s): ${result.present} present, ${result.missing} missing` +
        `${orphansFile === '-' ? '' : `; written to ${orphansFile}`}`,
    );
  },
});
