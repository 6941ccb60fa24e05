/**
 * A throw-away OpenPGP signing key in its own GNUPGHOME (real GnuPG), for signing fixture
 * archives. The secret key has no passphrase (`%no-protection`), so nothing secret is ever
 * passed on a command line.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestKey {
  gnupgHome: string;
  fingerprint: string;
  /** Binary public keyring (`gpg --export`), as /usr/share/keyrings/*.gpg. */
  keyringPath: string;
  /** Armored public key. */
  publicKeyPath: string;
  /** Armored secret key without passphrase (for openpgp.js signers in tests). */
  secretKeyPath: string;
  /** Armored detached signature of a file, written to `<file>.gpg` unless `out` is given. */
  detachSign(file: string, out?: string): Promise<string>;
  /** Clearsigns `file` into `out`. */
  clearsign(file: string, out: string): Promise<void>;
  cleanup(): Promise<void>;
}

export async function createTestKey(name = 'meph fixture archive key <archive@fixture.invalid>'): Promise<TestKey> {
  // Short path: gpg-agent's socket path must fit in sun_path.
  const gnupgHome = await mkdtemp(path.join(os.tmpdir(), 'meph-gpg-'));
  const env = { ...process.env, GNUPGHOME: gnupgHome };
  const gpg = (args: string[]) => run('gpg', ['--batch', '--quiet', '--no-tty', ...args], { env, maxBuffer: 16 << 20 });
  try {
    const params = path.join(gnupgHome, 'keyparams');
    await writeFile(params, `%no-protection\nKey-Type: eddsa\nKey-Curve: ed25519\nKey-Usage: sign\nName-Real: ${name.replace(/\s*<.*$/, '')}\nName-Email: ${/<(.*)>/.exec(name)?.[1] ?? 'fixture@fixture.invalid'}\nExpire-Date: 0\n%commit\n`);
    await gpg(['--gen-key', params]);
    const { stdout } = await gpg(['--with-colons', '--list-secret-keys']);
    const fingerprint = /^fpr:+([0-9A-F]{40}):/m.exec(stdout)?.[1];
    if (!fingerprint) throw new Error(`gpg did not create a key in ${gnupgHome}`);
    const keyringPath = path.join(gnupgHome, 'keyring.gpg');
    const publicKeyPath = path.join(gnupgHome, 'public.asc');
    await gpg(['--output', keyringPath, '--export', fingerprint]);
    await gpg(['--armor', '--output', publicKeyPath, '--export', fingerprint]);
    const secretKeyPath = path.join(gnupgHome, 'secret.asc');
    await gpg(['--armor', '--output', secretKeyPath, '--export-secret-keys', fingerprint]);
    return {
      gnupgHome,
      fingerprint,
      keyringPath,
      publicKeyPath,
      secretKeyPath,
      async detachSign(file, out = `${file}.gpg`) {
        await rm(out, { force: true });
        await gpg(['--local-user', fingerprint, '--armor', '--detach-sign', '--output', out, file]);
        return out;
      },
      async clearsign(file, out) {
        await rm(out, { force: true });
        await gpg(['--local-user', fingerprint, '--clearsign', '--digest-algo', 'SHA256', '--output', out, file]);
      },
      async cleanup() {
        await run('gpgconf', ['--kill', 'gpg-agent'], { env }).catch(() => undefined);
        await rm(gnupgHome, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await run('gpgconf', ['--kill', 'gpg-agent'], { env }).catch(() => undefined);
    await rm(gnupgHome, { recursive: true, force: true });
    throw err;
  }
}
