/**
 * Test helpers around the real GnuPG: a private GNUPGHOME per test file, throw-away keys,
 * and gpg/gpgv runs with exit codes.
 */
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export interface GpgResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

export function run(cmd: string, args: string[], options: { home?: string; input?: string | Uint8Array; cwd?: string } = {}): Promise<GpgResult> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, LC_ALL: 'C', ...(options.home ? { GNUPGHOME: options.home } : {}) };
    const child = spawn(cmd, args, { env, cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout: Buffer.concat(out), stderr: err }));
    child.stdin.on('error', () => {});
    child.stdin.end(options.input ?? '');
  });
}

export class GnupgHome {
  private constructor(readonly dir: string) {}

  static async create(prefix = 'meph-signer-gnupg-'): Promise<GnupgHome> {
    const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
    await chmod(dir, 0o700);
    // Throw-away keys need no costly passphrase protection: the agent's calibrated default
    // makes generating or unlocking a passphrase key take seconds on a loaded machine.
    await writeFile(path.join(dir, 'gpg-agent.conf'), 's2k-count 65536\n');
    return new GnupgHome(dir);
  }

  gpg(args: string[], input?: string | Uint8Array): Promise<GpgResult> {
    return run('gpg', ['--batch', '--no-tty', ...args], { home: this.dir, ...(input !== undefined ? { input } : {}), cwd: this.dir });
  }

  async gpgOk(args: string[], input?: string | Uint8Array): Promise<Buffer> {
    const r = await this.gpg(args, input);
    if (r.code !== 0) throw new Error(`gpg ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
    return r.stdout;
  }

  /** Generates a key (`ed25519` or `rsa3072`) and returns its fingerprint. */
  async generate(uid: string, algo: 'ed25519' | 'rsa3072' = 'ed25519', passphrase = ''): Promise<string> {
    // Test-only throw-away keys: gpg takes the passphrase on a pipe too.
    const r = await run(
      'gpg',
      ['--batch', '--no-tty', '--pinentry-mode', 'loopback', '--passphrase-fd', '0', '--quick-gen-key', uid, algo, 'sign', 'never'],
      { home: this.dir, input: `${passphrase}\n` },
    );
    if (r.code !== 0) throw new Error(`key generation failed: ${r.stderr}`);
    const list = (await this.gpgOk(['--with-colons', '--list-secret-keys', uid])).toString();
    const fpr = list.split('\n').find((l) => l.startsWith('fpr:'))?.split(':')[9];
    if (!fpr) throw new Error(`no fingerprint for ${uid}`);
    return fpr;
  }

  /** Writes the public key(s) as a binary keyring file and returns its absolute path. */
  async exportPublic(ids: string[], file: string, armor = false): Promise<string> {
    const data = await this.gpgOk([...(armor ? ['--armor'] : []), '--export', ...ids]);
    const target = path.join(this.dir, file);
    await writeFile(target, data);
    return target;
  }

  async exportSecret(id: string, armor = true, passphrase = ''): Promise<Buffer> {
    return (
      await run('gpg', ['--batch', '--no-tty', '--pinentry-mode', 'loopback', '--passphrase-fd', '0', ...(armor ? ['--armor'] : []), '--export-secret-keys', id], {
        home: this.dir,
        input: `${passphrase}\n`,
      })
    ).stdout;
  }

  async dispose(): Promise<void> {
    await run('gpgconf', ['--kill', 'all'], { home: this.dir }).catch(() => undefined);
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** Runs `gpgv --keyring KEYRING [files…]` (keyring given as an absolute path, as gpgv needs). */
export function gpgv(keyring: string, args: string[], input?: string | Uint8Array, home?: string): Promise<GpgResult> {
  return run('gpgv', ['--keyring', path.resolve(keyring), ...args], { ...(input !== undefined ? { input } : {}), ...(home ? { home } : {}) });
}
