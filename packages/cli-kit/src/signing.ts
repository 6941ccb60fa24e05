/**
 * Shared signing and keyring options of the meph commands.
 *
 * Mutating commands (insert, promote, clean-md, patch, merge, import, …):
 *
 * ```ts
 * builder: (y) => withSigningOptions(y.positional(…)),
 * async run(args, ctx) {
 *   await checkSigningArgs(args, ctx);          // fail early, before changing anything
 *   …change the stream…
 *   await signIfWanted(args, rootDir, ctx);     // regenerate index + .sjson/.json.gpg unless -u
 * }
 * ```
 *
 * Reading commands (query, verify, diff, insert's source, …):
 *
 * ```ts
 * builder: (y) => withKeyringOptions(y),
 * async run(args, ctx) {
 *   const { verifier, policy } = await verifierFromArgs(args, ctx.env);
 *   const stream = await loadStream(location, { verifier, policy });
 * }
 * ```
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Argv } from 'yargs';
import type { DocumentSigner, SignatureVerifier, SignaturePolicy } from '@meph/simplestreams';
import type { Signer } from '@meph/signer';
import type { CommandContext } from './command.js';
import { UsageError } from './errors.js';

/** Options added by {@link withSigningOptions}. */
export interface SigningArgs {
  /** false with `--no-sign`. */
  sign: boolean;
  /** `-u`: same as `--no-sign` (the original tools' flag). */
  u?: boolean;
  /** Secret key file (armored or binary), for the built-in openpgp.js signer. */
  key?: string;
  /** Fingerprint or key id choosing one secret key when `--key` holds several. */
  keyId?: string;
  /** Key id / user id for the system gpg (`gpg --local-user`). */
  gpgKey?: string;
  /** File whose first line is the secret key's passphrase. */
  passphraseFile?: string;
}

/** Options added by {@link withKeyringOptions}. */
export interface KeyringArgs {
  /** Public keyrings to verify with (binary `.gpg` or armored `.asc`); a string when given once. */
  keyring?: string | string[];
  /** false with `--no-verify`: read signed files without checking their signatures. */
  verify: boolean;
  /** Accept SHA-1 signatures and RSA keys under 2048 bits. */
  allowWeakSignatures: boolean;
  /** Refuse signatures by keys that have expired since they signed (default: accept with a warning). */
  rejectExpiredKeys: boolean;
}

/** Environment variables read when the matching flag is absent. */
export const SIGNING_ENV = {
  key: 'MEPH_SIGNING_KEY',
  keyId: 'MEPH_SIGNING_KEY_ID',
  gpgKey: 'MEPH_GPG_KEY',
  passphrase: 'MEPH_SIGNING_PASSPHRASE',
  passphraseFile: 'MEPH_SIGNING_PASSPHRASE_FILE',
  keyring: 'MEPH_KEYRING',
} as const;

/** The keyring MAAS documents for images.maas.io, used when no `--keyring` is given and it exists. */
export const DEFAULT_KEYRING = '/usr/share/keyrings/ubuntu-cloudimage-keyring.gpg';

/** The original tools' variable naming the gpg key to sign with (`gpg --default-key`). */
export const SS_GPG_DEFAULT_KEY = 'SS_GPG_DEFAULT_KEY';

const NO_KEY_MESSAGE =
  `no signing key configured: set --key FILE (or ${SIGNING_ENV.key}) or --gpg-key ID (or ${SIGNING_ENV.gpgKey} or ${SS_GPG_DEFAULT_KEY}), ` +
  'or create a secret key in the GnuPG home ($GNUPGHOME), or pass -u/--no-sign to leave the stream unsigned';

/**
 * Adds `-u`/`--no-sign`, `--key FILE`, `--key-id FPR`, `--gpg-key ID` and `--passphrase-file FILE`
 * (group "Signing"). Signing is on by default; the key comes from the flags or, when absent,
 * from `MEPH_SIGNING_KEY` / `MEPH_SIGNING_KEY_ID` / `MEPH_GPG_KEY`, then (as the original tools)
 * `SS_GPG_DEFAULT_KEY`, then the GnuPG home's default secret key; the passphrase from
 * `MEPH_SIGNING_PASSPHRASE` or `MEPH_SIGNING_PASSPHRASE_FILE` (never from the command line).
 */
export function withSigningOptions<T>(y: Argv<T>): Argv<T & SigningArgs> {
  return withSigningKeyOptions(
    y
      .option('sign', {
        type: 'boolean',
        default: true,
        group: 'Signing:',
        describe: 'Regenerate streams/v1/index.json and sign every streams/v1 JSON (.sjson + .json.gpg) after the change; --no-sign or -u leaves it unsigned',
      })
      .option('u', { type: 'boolean', group: 'Signing:', describe: 'Do not sign (same as --no-sign)' }),
  );
}

/**
 * Only the key options of {@link withSigningOptions} (no `-u`/`--no-sign`), for commands whose
 * whole job is to sign (`meph2-util sign`).
 */
export function withSigningKeyOptions<T>(y: Argv<T>): Argv<T & Omit<SigningArgs, 'sign' | 'u'>> {
  return y
    .option('key', {
      type: 'string',
      group: 'Signing:',
      normalize: true,
      describe: `OpenPGP secret key file, armored or binary (default: $${SIGNING_ENV.key})`,
    })
    .option('key-id', {
      type: 'string',
      group: 'Signing:',
      describe: `Fingerprint or key id of the key to use when --key holds several (default: $${SIGNING_ENV.keyId})`,
    })
    .option('gpg-key', {
      type: 'string',
      group: 'Signing:',
      describe: `Sign with the system gpg and this key (gpg --local-user; GNUPGHOME is honoured) (default: $${SIGNING_ENV.gpgKey}, else $${SS_GPG_DEFAULT_KEY}, else gpg's default secret key when no --key/$${SIGNING_ENV.key})`,
    })
    .option('passphrase-file', {
      type: 'string',
      group: 'Signing:',
      normalize: true,
      describe: `File holding the secret key's passphrase (default: $${SIGNING_ENV.passphraseFile}; or put it in $${SIGNING_ENV.passphrase})`,
    });
}

/** True unless `-u`/`--no-sign` was given. */
export function signingWanted(args: Partial<SigningArgs>): boolean {
  return args.sign !== false && args.u !== true;
}

type SignerChoice =
  | { kind: 'none' }
  | { kind: 'openpgp'; key: string; keyId?: string; passphraseFile?: string; passphrase?: string }
  | { kind: 'gpg'; localUser: string; passphraseFile?: string; passphrase?: string };

/** `default-key` of the home's gpg.conf (the last one wins, as in gpg), if any. */
async function gpgConfDefaultKey(home: string): Promise<string | undefined> {
  const text = await readFile(path.join(home, 'gpg.conf'), 'utf8').catch(() => '');
  let key: string | undefined;
  for (const line of text.split('\n')) {
    const m = /^\s*default-key\s+(\S+)/.exec(line);
    if (m) key = m[1];
  }
  return key;
}

/**
 * The key the system gpg signs with when none is named, as the original relied on: gpg.conf's
 * `default-key`, else the first usable signing secret key of the GnuPG home. Undefined when the
 * home has no secret key or gpg cannot be run.
 */
export async function defaultGpgSecretKey(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const home = env['GNUPGHOME'] || path.join(env['HOME'] || os.homedir(), '.gnupg');
  if (!existsSync(home)) return undefined;
  const fromConf = await gpgConfDefaultKey(home);
  // node:child_process (and net, dgram under it) loaded only here: most runs never ask (start-up, issue 14).
  const { execFile } = await import('node:child_process');
  const listed = await new Promise<string>((resolve) => {
    execFile('gpg', ['--batch', '--no-tty', '--with-colons', '--fixed-list-mode', '--list-secret-keys'], { env: { ...env, GNUPGHOME: home, LC_ALL: 'C' }, timeout: 30_000 }, (err, stdout) =>
      resolve(err ? '' : String(stdout)),
    );
  });
  let fpr: string | undefined;
  let usable = false;
  for (const line of listed.split('\n')) {
    const f = line.split(':');
    if (f[0] === 'sec') usable = !['r', 'e', 'd', 'i'].includes(f[1] ?? '') && /s/i.test(f[11] ?? '');
    else if (f[0] === 'fpr' && usable && fpr === undefined) fpr = f[9];
    if (f[0] === 'ssb' || f[0] === 'uid') usable = false;
  }
  if (fpr === undefined) return undefined;
  return fromConf ?? fpr;
}

async function resolveChoice(args: Partial<SigningArgs>, ctx: Pick<CommandContext, 'env' | 'cwd'>): Promise<SignerChoice> {
  const env = ctx.env;
  const explicitKey = args.key !== undefined || args.gpgKey !== undefined || args.keyId !== undefined;
  if (!signingWanted(args)) {
    if (explicitKey) throw new UsageError('-u/--no-sign conflicts with --key/--key-id/--gpg-key', 'drop one of them');
    return { kind: 'none' };
  }
  if (args.key !== undefined && args.gpgKey !== undefined) throw new UsageError('give either --key FILE or --gpg-key ID, not both');
  const nonEmpty = (v: string | undefined): string | undefined => (v === undefined || v === '' ? undefined : v);
  const passphraseFile = nonEmpty(args.passphraseFile) ?? nonEmpty(env[SIGNING_ENV.passphraseFile]);
  const passphrase = env[SIGNING_ENV.passphrase];
  const common = {
    ...(passphraseFile !== undefined ? { passphraseFile: path.resolve(ctx.cwd, passphraseFile) } : {}),
    ...(passphrase !== undefined && passphraseFile === undefined ? { passphrase } : {}),
  };
  // A flag beats any environment variable; between env vars an explicit file key wins.
  const gpgKey = args.gpgKey ?? (args.key === undefined ? nonEmpty(env[SIGNING_ENV.gpgKey]) : undefined);
  const key = args.key ?? (args.gpgKey === undefined ? nonEmpty(env[SIGNING_ENV.key]) : undefined);
  if (key !== undefined) {
    const keyId = args.keyId ?? nonEmpty(env[SIGNING_ENV.keyId]);
    return { kind: 'openpgp', key: path.resolve(ctx.cwd, key), ...(keyId ? { keyId } : {}), ...common };
  }
  if (gpgKey !== undefined) {
    if (args.keyId !== undefined) throw new UsageError('--key-id selects a key inside --key FILE; with gpg give the key to --gpg-key');
    return { kind: 'gpg', localUser: gpgKey, ...common };
  }
  if (args.keyId !== undefined) throw new UsageError('--key-id selects a key inside --key FILE; give --key FILE too (or MEPH_SIGNING_KEY)');
  // The original's fallbacks: SS_GPG_DEFAULT_KEY, then gpg's own default secret key.
  const ssDefault = nonEmpty(env[SS_GPG_DEFAULT_KEY]);
  if (ssDefault !== undefined) return { kind: 'gpg', localUser: ssDefault, ...common };
  const fallback = await defaultGpgSecretKey(env);
  if (fallback !== undefined) return { kind: 'gpg', localUser: fallback, ...common };
  throw new UsageError(NO_KEY_MESSAGE);
}

/** A signer that has proved it can sign, and its per-document form for stream commits. */
export interface SigningSession {
  signer: Signer;
  /** Pass as the ops' `signer`: each products file and index is committed with its signatures. */
  documentSigner: DocumentSigner;
}

/** Signers already built and checked for a parsed argument object (so the key is unlocked once). */
const sessions = new WeakMap<object, Promise<Signer | undefined>>();

/**
 * Checks the signing flags and environment, and that the key can actually sign (passphrase,
 * expiry, revocation, signing capability), before the command touches any file: throws one
 * line (UsageError, or the signer's typed error) when it cannot. Call it at the start of
 * `run`; pass `documentSigner` to the operation so metadata and signatures are committed
 * together. Undefined with `-u`/`--no-sign`.
 */
export async function checkSigningArgs(args: Partial<SigningArgs>, ctx: Pick<CommandContext, 'env' | 'cwd'>): Promise<SigningSession | undefined> {
  const signer = await signerFromArgs(args, ctx);
  if (!signer) return undefined;
  const { documentSignerFor } = await import('@meph/signer');
  const session = { signer, documentSigner: documentSignerFor(signer) };
  checked.set(args, session);
  return session;
}

const checked = new WeakMap<object, SigningSession>();

/** The session {@link checkSigningArgs} already proved for this argument object, if any. */
export function checkedSigning(args: object): SigningSession | undefined {
  return checked.get(args);
}

async function readPassphrase(choice: { passphraseFile?: string; passphrase?: string }, ctx: Pick<CommandContext, 'env'>): Promise<string | undefined> {
  if (choice.passphraseFile === undefined) return choice.passphrase;
  let text: string;
  try {
    text = await readFile(choice.passphraseFile, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : (err as Error).message;
    const from = ctx.env[SIGNING_ENV.passphraseFile] === choice.passphraseFile ? `$${SIGNING_ENV.passphraseFile}` : '--passphrase-file';
    throw new UsageError(`passphrase file ${choice.passphraseFile} (${from}): ${reason}`, 'give a readable file whose first line is the passphrase');
  }
  return text.split(/\r?\n/, 1)[0] ?? '';
}

function keyLabel(choice: Exclude<SignerChoice, { kind: 'none' }>): string {
  return choice.kind === 'openpgp' ? `key ${choice.key}${choice.keyId ? ` (${choice.keyId})` : ''}` : `gpg key ${choice.localUser}`;
}

/**
 * Builds the signer the flags/environment ask for and checks it can sign, or undefined with
 * `-u`/`--no-sign`. Throws a one-line error when signing is wanted and no usable key is
 * configured. Built once per argument object.
 */
export async function signerFromArgs(args: Partial<SigningArgs>, ctx: Pick<CommandContext, 'env' | 'cwd'>): Promise<Signer | undefined> {
  let pending = sessions.get(args);
  if (!pending) {
    pending = buildSigner(args, ctx);
    sessions.set(args, pending);
    pending.catch(() => sessions.delete(args));
  }
  return pending;
}

async function buildSigner(args: Partial<SigningArgs>, ctx: Pick<CommandContext, 'env' | 'cwd'>): Promise<Signer | undefined> {
  const choice = await resolveChoice(args, ctx);
  if (choice.kind === 'none') return undefined;
  const { createOpenPgpSigner, createGpgSigner, checkSigner } = await import('@meph/signer');
  const passphrase = await readPassphrase(choice, ctx);
  let signer: Signer;
  if (choice.kind === 'openpgp') {
    signer = await createOpenPgpSigner({
      key: choice.key,
      ...(choice.keyId !== undefined ? { keyId: choice.keyId } : {}),
      ...(passphrase !== undefined ? { passphrase } : {}),
    });
  } else {
    const gnupgHome = ctx.env['GNUPGHOME'];
    signer = createGpgSigner({
      localUser: choice.localUser,
      ...(gnupgHome ? { gnupgHome } : {}),
      ...(passphrase !== undefined ? { passphrase } : {}),
    });
  }
  await checkSigner(signer, keyLabel(choice));
  return signer;
}

/**
 * The end of every mutating command: unless `-u`/`--no-sign`, regenerates
 * `streams/v1/index.json` under `rootDir` and writes `.sjson` + `.json.gpg` for every JSON
 * in `streams/v1` whose signatures are missing or stale (files the operation committed with
 * their signatures are not signed again). Events go to `ctx.reporter`. Call
 * {@link checkSigningArgs} first to fail before changing anything.
 */
export async function signIfWanted(args: Partial<SigningArgs>, rootDir: string, ctx: CommandContext): Promise<void> {
  const signer = await signerFromArgs(args, ctx);
  if (!signer) return;
  const { signStream } = await import('@meph/signer');
  const { withStreamLock } = await import('@meph/simplestreams');
  const root = path.resolve(ctx.cwd, rootDir);
  await withStreamLock(root, () => signStream(root, signer, { onEvent: ctx.reporter.emit, signal: ctx.signal }), { wait: true, signal: ctx.signal });
}

/** What every reading command's `--help` says about signatures (one policy for every reader). */
export const SIGNATURE_POLICY_HELP = [
  'Signatures: a signed file (.sjson) is verified or the command fails, unless --no-verify is given; a .json is read as it is,',
  'even with --keyring (as the original). A stream opened at .../index.sjson must be signed throughout. A mirror root is read from',
  'streams/v1/index.sjson when a keyring is configured (with --keyring it must exist, and every document must be signed; otherwise',
  'index.json is read when there is no index.sjson), and from streams/v1/index.json when none is. Keyrings: --keyring FILE (repeatable), else',
  `$${SIGNING_ENV.keyring} (colon-separated), else ${DEFAULT_KEYRING} when installed (the original's default);`,
  'with none, a signed file is refused, never read unchecked. A signature made while its now-expired key was valid is accepted with',
  'a warning on stderr (GnuPG says "Good signature … [expired]"); --reject-expired-keys refuses it.',
].join(' ');

/** What every command that reads stream metadata says about documents it did not write. */
export const DOCUMENT_LIMITS_HELP =
  'Metadata read must be a regular file (a symlink to one is fine; FIFOs and devices are refused), at most $MEPH_MAX_DOCUMENT_BYTES bytes ' +
  '(default 256 MiB), nested at most 64 levels, valid UTF-8, and hold only numbers a rewrite keeps exactly (integers up to 2^53): ' +
  'anything else is refused in one line naming the file and JSON path, never silently rewritten.';

/**
 * Adds repeatable `--keyring FILE` (binary `.gpg` or armored `.asc`; default `$MEPH_KEYRING`,
 * colon-separated, else the Ubuntu cloud-image keyring if installed), `--no-verify`,
 * `--allow-weak-signatures` and `--reject-expired-keys` (group "Signatures").
 */
export function withKeyringOptions<T>(y: Argv<T>): Argv<T & KeyringArgs> {
  return y
    // Not `array: true`: that would swallow the positional after it (`--keyring k.gpg DIR`);
    // one file per occurrence (nargs 1), and repeating the flag collects every value.
    .option('keyring', {
      type: 'string',
      requiresArg: true,
      nargs: 1,
      group: 'Signatures:',
      describe: `Public keyring to check signed (.sjson) files with, binary (.gpg) or armored (.asc); repeatable (default: $${SIGNING_ENV.keyring}, else ${DEFAULT_KEYRING} if present). A .json is read as it is even with --keyring; a mirror root given with --keyring must have a signed index.sjson`,
    })
    .option('verify', {
      type: 'boolean',
      default: true,
      group: 'Signatures:',
      describe: 'Check signatures of signed (.sjson) files, and refuse them when no keyring is configured; --no-verify reads them without checking',
    })
    .option('allow-weak-signatures', {
      type: 'boolean',
      default: false,
      group: 'Signatures:',
      describe: 'Accept SHA-1 signatures and RSA keys under 2048 bits (older real streams use them)',
    })
    .option('reject-expired-keys', {
      type: 'boolean',
      default: false,
      group: 'Signatures:',
      describe: 'Refuse a signature whose key has expired since it signed (default: accept it, as GnuPG does, with a warning on stderr)',
    }) as unknown as Argv<T & KeyringArgs>;
}

function givenKeyrings(args: Partial<KeyringArgs>): string[] {
  return [args.keyring ?? []].flat().filter((k) => k !== '');
}

/** The keyring files the flags/environment name (empty when none is configured or installed). */
export function keyringsFromArgs(args: Partial<KeyringArgs>, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string[] {
  const given = givenKeyrings(args);
  if (given.length) return given.map((k) => path.resolve(cwd, k));
  const fromEnv = (env[SIGNING_ENV.keyring] ?? '').split(':').filter(Boolean);
  if (fromEnv.length) return fromEnv.map((k) => path.resolve(cwd, k));
  return existsSync(DEFAULT_KEYRING) ? [DEFAULT_KEYRING] : [];
}

/**
 * Turns the keyring flags into what `openSource`/`loadStream` take (the rule itself is
 * `effectivePolicy` in @meph/simplestreams, see {@link SIGNATURE_POLICY_HELP}):
 * - `--no-verify` → `{ policy: 'off' }` (signed files are read unverified);
 * - `--keyring` given → a verifier and `policy: 'required'` (a mirror root is read from its
 *   signed index, every document signed; a `.json` named explicitly is still read as is);
 * - otherwise → `policy: 'when-present'` with a verifier from `$MEPH_KEYRING` or the installed
 *   Ubuntu cloud-image keyring, if any (signed files must verify, a mirror root is read from its
 *   index.sjson when it has one; with no keyring at all signed files are refused).
 * `warn` receives one line per signing key that has expired since it signed (unless
 * `--reject-expired-keys`, which refuses those). Keyring files are read here, so a missing or
 * unreadable keyring fails before any download.
 */
export async function verifierFromArgs(
  args: Partial<KeyringArgs>,
  env: NodeJS.ProcessEnv = process.env,
  cwd = process.cwd(),
  warn?: (message: string) => void,
): Promise<{ verifier?: SignatureVerifier; policy: SignaturePolicy }> {
  if (args.verify === false) {
    if (givenKeyrings(args).length) throw new UsageError('--no-verify conflicts with --keyring', 'drop one of them');
    if (args.rejectExpiredKeys) throw new UsageError('--no-verify conflicts with --reject-expired-keys', 'drop one of them');
    return { policy: 'off' };
  }
  const keyrings = keyringsFromArgs(args, env, cwd);
  const policy: SignaturePolicy = givenKeyrings(args).length ? 'required' : 'when-present';
  if (!keyrings.length) return { policy };
  const { createVerifier } = await import('@meph/signer');
  const verifier = await createVerifier({
    keyrings,
    allowWeak: args.allowWeakSignatures === true,
    rejectExpiredKeys: args.rejectExpiredKeys === true,
    ...(warn ? { onWarning: warn } : {}),
  });
  return { verifier, policy };
}

/**
 * For the build commands whose output the original never signs (meph2-build,
 * meph2-cloudimg-sync: build output is later inserted into a signed stream): the options of
 * {@link withSigningOptions}, but signing is off unless asked for with `--sign` or a key flag
 * (`--key FILE`, `--gpg-key ID`). `-u`/`--no-sign` are still accepted. Resolve the parsed
 * arguments with {@link optInSigning} before {@link checkSigningArgs}/{@link signIfWanted}.
 */
export function withOptInSigningOptions<T>(y: Argv<T>): Argv<T & SigningArgs> {
  return withSigningKeyOptions(
    y
      .option('sign', {
        type: 'boolean',
        group: 'Signing:',
        describe:
          'Sign the output (regenerate streams/v1/index.json, write .sjson + .json.gpg). Default: off, as the original tools; on when --key or --gpg-key is given (the key may also come from $MEPH_SIGNING_KEY/$MEPH_GPG_KEY once --sign is given)',
      })
      .option('u', { type: 'boolean', group: 'Signing:', describe: 'Do not sign (the default; same as --no-sign)' }),
  ) as unknown as Argv<T & SigningArgs>;
}

/** The signing arguments with the opt-in default applied: sign only for `--sign` or a key flag. */
export function optInSigning<A extends Partial<SigningArgs>>(args: A): A {
  const asked = (args.sign) ?? (args.key !== undefined || args.gpgKey !== undefined);
  return { ...args, sign: asked && args.u !== true };
}
