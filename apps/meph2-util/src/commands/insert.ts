import { defineCommand, verifierFromArgs, withKeyringOptions } from '@meph/cli-kit';
import { location, runStreamEdit, withFilters, withStreamEditOptions } from '../options.js';

export const insertCommand = defineCommand({
  reads: 'signed',
  fetches: true,
  command: 'insert <src> <target> [filters..]',
  describe: 'add new versions from a stream (e.g. build output) to a stream, copying their files',
  examples: [
    ['meph2-util insert build-output.d daily.d', 'add every version daily.d lacks, then sign'],
    ['meph2-util insert -u -n build-output.d daily.d release=noble arch=amd64', 'show what noble/amd64 would add, unsigned, changing nothing'],
  ],
  epilog: [
    'Additive only: versions are added (at most 20 kept per product), never removed; files already in the target are verified, not rewritten.',
    'Data files come first: hard-linked when SRC is on the same filesystem (as the original), else reflinked or copied; size + checksums',
    'verified either way. Then each products file and index.json last, each committed together with its .sjson/.json.gpg (signed before',
    'anything is written; the key is checked before any change), under the stream lock. Files and directories are written 0644/0755',
    'whatever the umask. Nothing is written through a symlink leading out of TARGET, except a top-level data link such as',
    'daily/data -> ../data (the original\'s shared pool); streams/ must not lead outside.',
    'Products are condensed so MAAS 3.7 and 3.8 read every field where they look for it.',
    'Differences from the original: SRC may be a plain directory (its streams/v1/index.json is read, or its index.sjson when a keyring is configured) — the ' +
      'original always read index.sjson there, so unsigned build output needed .../streams/v1/index.json [QUIRK fixed]; --dry-run lists every item and file and writes nothing.',
    'TARGET may also be given as .../streams/v1/index.json (its mirror root is written, as the original). All differences: docs/compat.md.',
  ].join('\n'),
  builder: (y) => withKeyringOptions(withStreamEditOptions(withFilters(y.positional('src', { type: 'string', demandOption: true, describe: 'Source stream: directory, .../streams/v1/index.(s)json, products file or http(s) URL' }).positional('target', { type: 'string', demandOption: true, describe: 'Target stream directory (created if missing)' })))),
  async run(args, ctx) {
    const { verifier, policy } = await verifierFromArgs(args, ctx.env, ctx.cwd, ctx.reporter.warn);
    const { insert } = await import('@meph/stream-ops');
    const edit = (t: { root: string }, io: object) => insert(location(ctx, args.src), t.root, { ...io, filters: args.filters ?? [], policy, ...(verifier ? { verifier } : {}) });
    await runStreamEdit('insert', args, ctx, args.target, edit);
  },
});
