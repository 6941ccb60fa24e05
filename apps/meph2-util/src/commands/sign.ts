import { stat } from 'node:fs/promises';
import path from 'node:path';
import { defineCommand, signerFromArgs, withSigningKeyOptions, type SigningArgs, DOCUMENT_LIMITS_HELP } from '@meph/cli-kit';

interface SignArgs extends Omit<SigningArgs, 'sign' | 'u'> {
  streamDir: string;
}

export const signCommand = defineCommand<SignArgs>({
  command: 'sign <stream-dir>',
  describe: 'Regenerate streams/v1/index.json and sign every streams/v1 JSON (.sjson clearsigned + .json.gpg detached)',
  examples: [
    ['$0 sign --key ~/keys/stream.sec.asc ./candidate', 'sign with an OpenPGP key file (passphrase from $MEPH_SIGNING_PASSPHRASE_FILE)'],
    ['$0 sign --gpg-key 0x7FF3F408476CF100 ./candidate', 'sign with a key held by the system gpg / gpg-agent'],
    ['MEPH_SIGNING_KEY=k.asc $0 sign ./candidate', 'the key from the environment, as every mutating command uses it'],
  ],
  epilog:
    'Inside index.sjson every path ending .json points at the .sjson file, so clients that start at index.sjson (MAAS) stay on signed files. ' +
    'Files whose signature is already valid for their content and key are left alone, so running it twice changes nothing. ' +
    'Before anything is written the key must prove it can sign, and the stream must pass the checks `verify` makes of its metadata ' +
    '(format products:1.0, safe non-empty item paths, every products file the index lists present); otherwise it exits 1 and changes nothing ' +
    '(the original signed such streams). Each document is committed together with its .sjson and .json.gpg, the index last.' +
    '\n' +
    DOCUMENT_LIMITS_HELP,
  builder: (y) =>
    withSigningKeyOptions(
      y.positional('stream-dir', { type: 'string', demandOption: true, describe: 'Mirror root (the directory holding streams/v1/)' }),
    ) as never,
  async run(args, ctx) {
    const root = path.resolve(ctx.cwd, args.streamDir);
    const { StreamDirError, signStream } = await import('@meph/signer');
    const st = await stat(root).catch(() => undefined);
    if (!st?.isDirectory()) throw new StreamDirError(args.streamDir, 'no such directory');
    const signer = await signerFromArgs(args, ctx);
    if (!signer) return 1; // unreachable: this command has no -u
    const { withStreamLock } = await import('@meph/simplestreams');
    await withStreamLock(root, () => signStream(root, signer, { onEvent: ctx.reporter.emit, signal: ctx.signal }));
    return 0;
  },
});
