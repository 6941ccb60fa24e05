import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import yargs from 'yargs';
import * as openpgp from 'openpgp';
import { UsageError } from './errors.js';
import {
  checkSigningArgs,
  keyringsFromArgs,
  signerFromArgs,
  signingWanted,
  verifierFromArgs,
  withKeyringOptions,
  withSigningOptions,
  withOptInSigningOptions,
  optInSigning,
  type KeyringArgs,
  type SigningArgs,
} from './signing.js';

let dir: string;
let keyFile: string;
let ring: string;
const noEnv = { MEPH_SIGNING_KEY: '', MEPH_GPG_KEY: '', MEPH_KEYRING: '', GNUPGHOME: '/nonexistent/meph-empty-gnupg-home' };

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'meph-clikit-signing-'));
  const { privateKey, publicKey } = await openpgp.generateKey({ userIDs: [{ email: 'k@example.invalid' }], format: 'armored' });
  keyFile = path.join(dir, 'k.asc');
  ring = path.join(dir, 'k.pub.asc');
  await writeFile(keyFile, privateKey);
  await writeFile(ring, publicKey);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function parseSigning(argv: string[]): Promise<SigningArgs & { dir?: string }> {
  return (await withSigningOptions(yargs(argv).command('$0 [dir]', '', (y) => y)).strict().exitProcess(false).parseAsync());
}
async function parseKeyring(argv: string[]): Promise<KeyringArgs & { dir?: string }> {
  return (await withKeyringOptions(yargs(argv).command('$0 [dir]', '', (y) => y)).strict().exitProcess(false).parseAsync());
}

describe('withSigningOptions', () => {
  it('signs by default; -u and --no-sign (yargs boolean negation) turn it off', async () => {
    expect(signingWanted(await parseSigning(['d']))).toBe(true);
    expect(signingWanted(await parseSigning(['-u', 'd']))).toBe(false);
    expect(signingWanted(await parseSigning(['--no-sign', 'd']))).toBe(false);
    expect((await parseSigning(['-u', 'd'])).dir).toBe('d');
  });

  it('no key configured: one UsageError naming what to set; env and flags are found', async () => {
    const ctx = { env: noEnv, cwd: dir };
    const err = await checkSigningArgs(await parseSigning(['d']), ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toBe(
      'no signing key configured: set --key FILE (or MEPH_SIGNING_KEY) or --gpg-key ID (or MEPH_GPG_KEY or SS_GPG_DEFAULT_KEY), ' +
        'or create a secret key in the GnuPG home ($GNUPGHOME), or pass -u/--no-sign to leave the stream unsigned',
    );
    await expect(checkSigningArgs(await parseSigning(['-u', 'd']), ctx)).resolves.toBeUndefined();
    const session = await checkSigningArgs(await parseSigning(['d']), { cwd: dir, env: { MEPH_SIGNING_KEY: keyFile } });
    expect(await session?.signer.fingerprint()).toMatch(/^[0-9A-F]{40}$/);
    // the key is proved usable up front: a gpg key that is not there fails here, in one line
    const home = await mkdtemp(path.join(dir, 'gnupg-'));
    await expect(checkSigningArgs(await parseSigning(['d']), { cwd: dir, env: { MEPH_GPG_KEY: 'ABCDEF0123456789', GNUPGHOME: home } })).rejects.toThrow(/^gpg --local-user ABCDEF0123456789: /);
    spawnSync('gpgconf', ['--kill', 'all'], { env: { ...process.env, GNUPGHOME: home } });
    // SS_GPG_DEFAULT_KEY (the original's variable) names the gpg key when nothing else does
    await expect(checkSigningArgs(await parseSigning(['d']), { cwd: dir, env: { ...noEnv, SS_GPG_DEFAULT_KEY: 'ABCDEF0123456789', GNUPGHOME: home } })).rejects.toThrow(/^gpg --local-user ABCDEF0123456789: /);
    await expect(checkSigningArgs(await parseSigning(['-u', '--key', keyFile, 'd']), ctx)).rejects.toThrow(/-u\/--no-sign conflicts with --key/);
    await expect(checkSigningArgs(await parseSigning(['--key', 'a', '--gpg-key', 'b', 'd']), ctx)).rejects.toThrow(/either --key FILE or --gpg-key ID/);
  });

  it('the flag beats the environment; a relative --key resolves against the command cwd', async () => {
    const signer = await signerFromArgs(await parseSigning(['--key', 'k.asc', 'd']), { cwd: dir, env: { MEPH_GPG_KEY: 'not-used' } });
    expect(await signer?.fingerprint()).toMatch(/^[0-9A-F]{40}$/);
    expect(await signerFromArgs(await parseSigning(['-u', 'd']), { cwd: dir, env: noEnv })).toBeUndefined();
  });
});

describe('withKeyringOptions / verifierFromArgs', () => {
  it('--keyring is repeatable and does not swallow the positional after it', async () => {
    const a = await parseKeyring(['--keyring', 'a.gpg', '--keyring', 'b.asc', 'stream']);
    expect(a.dir).toBe('stream');
    expect(keyringsFromArgs(a, noEnv, '/x')).toEqual(['/x/a.gpg', '/x/b.asc']);
    const one = await parseKeyring(['--keyring', 'a.gpg', 'stream']);
    expect(one.dir).toBe('stream');
    expect(keyringsFromArgs(one, noEnv, '/x')).toEqual(['/x/a.gpg']);
  });

  it('policies: --keyring → required, environment keyring → when-present, --no-verify → off', async () => {
    const given = await verifierFromArgs(await parseKeyring(['--keyring', ring, 's']), noEnv, dir);
    expect(given.policy).toBe('required');
    expect(given.verifier).toBeDefined();
    const fromEnv = await verifierFromArgs(await parseKeyring(['s']), { MEPH_KEYRING: ring }, dir);
    expect(fromEnv.policy).toBe('when-present');
    expect(fromEnv.verifier).toBeDefined();
    expect(await verifierFromArgs(await parseKeyring(['--no-verify', 's']), noEnv, dir)).toEqual({ policy: 'off' });
    await expect(verifierFromArgs(await parseKeyring(['--no-verify', '--keyring', ring, 's']), noEnv, dir)).rejects.toBeInstanceOf(UsageError);
    await expect(verifierFromArgs(await parseKeyring(['--keyring', 'missing.gpg', 's']), noEnv, dir)).rejects.toThrow(/missing\.gpg: no such keyring file/);
  });

  it('--reject-expired-keys defaults off and conflicts with --no-verify', async () => {
    expect((await parseKeyring(['s'])).rejectExpiredKeys).toBe(false);
    expect((await parseKeyring(['--reject-expired-keys', 's'])).rejectExpiredKeys).toBe(true);
    await expect(verifierFromArgs(await parseKeyring(['--no-verify', '--reject-expired-keys', 's']), noEnv, dir)).rejects.toThrow(/--no-verify conflicts with --reject-expired-keys/);
  });
});

describe('opt-in signing (meph2-build, meph2-cloudimg-sync: the original never signs build output)', () => {
  async function parseOptIn(argv: string[]): Promise<SigningArgs> {
    return await withOptInSigningOptions(yargs(argv)).parseAsync();
  }
  it('unsigned by default, even with a key in the environment; --sign or a key flag turns it on', async () => {
    const ctx = { env: { MEPH_SIGNING_KEY: keyFile, MEPH_GPG_KEY: '' }, cwd: dir };
    expect(signingWanted(optInSigning(await parseOptIn([])))).toBe(false);
    expect(await signerFromArgs(optInSigning(await parseOptIn([])), ctx)).toBeUndefined();
    expect(signingWanted(optInSigning(await parseOptIn(['--sign'])))).toBe(true);
    expect(await signerFromArgs(optInSigning(await parseOptIn(['--sign'])), ctx)).toBeDefined();
    expect(signingWanted(optInSigning(await parseOptIn(['--key', keyFile])))).toBe(true);
    expect(signingWanted(optInSigning(await parseOptIn(['--gpg-key', 'ABCD'])))).toBe(true);
    expect(signingWanted(optInSigning(await parseOptIn(['-u'])))).toBe(false);
    expect(signingWanted(optInSigning(await parseOptIn(['--no-sign'])))).toBe(false);
    await expect(checkSigningArgs(optInSigning(await parseOptIn(['-u', '--key', keyFile])), ctx)).rejects.toBeInstanceOf(UsageError);
    await expect(checkSigningArgs(optInSigning(await parseOptIn(['--sign'])), { env: noEnv, cwd: dir })).rejects.toThrow(/no signing key configured/);
  });
});
