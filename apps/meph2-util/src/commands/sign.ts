import { defineCommand, signerFromArgs, withSigningKeyOptions, type SigningArgs } from '@meph/cli-kit';
import { writeTarget } from '../options.js';

interface SignArgs extends Omit<SigningArgs, 'sign' | 'u'> {
  streamDir: string;
  u?: boolean;
  sign?: boolean;
}

export const signCommand = defineCommand({
  reads: 'metadata',
  command: 'sign <stream-dir>',
  describe: 'Regenerate streams/v1/index.json and sign every streams/v1 JSON (.sjson clearsigned + .json.gpg detached)',
  examples: [
    ['$0 sign --key ~/keys/stream.sec.asc ./candidate', 'sign with an OpenPGP key file (passphrase from $MEPH_SIGNING_PASSPHRASE_FILE)'],
    ['$0 sign --gpg-key 0x7FF3F408476CF100 ./candidate', 'sign with a key held by the system gpg / gpg-agent'],
    ['MEPH_SIGNING_KEY=k.asc $0 sign ./candidate', 'the key from the environment, as every mutating command uses it'],
    ['GNUPGHOME=~/maas-gpg $0 sign ./candidate/streams/v1/index.json', 'no key named: the GnuPG home\'s default secret key (or $SS_GPG_DEFAULT_KEY), as the original'],
  ],
  epilog: [
    'Inside index.sjson every path ending .json points at the .sjson file, so clients that start at index.sjson (MAAS) stay on signed files.',
    'Files whose signature is already valid for their content and key are left alone, so running it twice changes nothing.',
    'Before anything is written the key must prove it can sign, and the stream must pass the checks `verify` makes of its metadata',
    '(format products:1.0, safe non-empty item paths, every products file the index lists present); otherwise it exits 1 and changes nothing',
    '(the original signed such streams). Each document is committed together with its .sjson and .json.gpg, the index last.',
    'STREAM_DIR is the mirror root or its streams/v1/index.json. Key: --key/--gpg-key, else $MEPH_SIGNING_KEY/$MEPH_GPG_KEY, else',
    '$SS_GPG_DEFAULT_KEY, else the default secret key of $GNUPGHOME (as the original).',
    'Differences from the original: -u/--no-sign are accepted and ignored with a warning (sign always signs, as the original did',
    'silently); the Launchpad signing service (LP_SIGNING_URL) is not supported; SS_GPG_BATCH is ignored (gpg always runs --batch).',
    'All differences: docs/compat.md.',
  ].join('\n'),
  builder: (y) =>
    withSigningKeyOptions(
      y
        .positional('stream-dir', { type: 'string', demandOption: true, describe: 'Mirror root (the directory holding streams/v1/) or its streams/v1/index.json' })
        .option('u', { type: 'boolean', describe: 'Accepted for compatibility and ignored: sign always signs' })
        .option('sign', { type: 'boolean', describe: 'Accepted for compatibility (--no-sign is ignored: sign always signs)' }),
    ),
  async run(args, ctx) {
    const { root } = await writeTarget(ctx, args.streamDir, 'sign');
    const { StreamDirError, signStream } = await import('@meph/signer');
    const { stat } = await import('node:fs/promises');
    const st = await stat(root).catch(() => undefined);
    if (!st?.isDirectory()) throw new StreamDirError(args.streamDir, 'no such directory');
    const v1 = await stat(`${root}/streams/v1`).catch(() => undefined);
    if (!v1?.isDirectory()) throw new StreamDirError(args.streamDir, 'is not a stream: it has no streams/v1 directory');
    if (args.u === true || args.sign === false) ctx.reporter.warn('sign: -u/--no-sign ignored: sign always signs (as the original)');
    const { u: _u, sign: _s, ...keyArgs } = args;
    const signer = await signerFromArgs(keyArgs, ctx);
    if (!signer) return 1; // unreachable: the key arguments never turn signing off
    const { withStreamLock } = await import('@meph/simplestreams');
    await withStreamLock(root, () => signStream(root, signer, { onEvent: ctx.reporter.emit, signal: ctx.signal }));
    return 0;
  },
});
