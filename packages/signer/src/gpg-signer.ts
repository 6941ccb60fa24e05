import { spawn } from 'node:child_process';
import { GpgError } from './errors.js';
import type { Signer } from './types.js';

export interface GpgSignerOptions {
  /** Key for `gpg --local-user` (fingerprint, key id or user id). */
  localUser: string;
  /** GnuPG home holding the key (default: GNUPGHOME / ~/.gnupg). */
  gnupgHome?: string;
  /** Passphrase, given to gpg on a pipe (`--passphrase-fd 3`), never on the command line. Without it gpg asks its agent. */
  passphrase?: string;
  /** gpg executable (default `gpg`). */
  gpgPath?: string;
}

interface GpgRun {
  stdout: Buffer;
}

/**
 * A signer calling the system `gpg` (for keys held by a gpg-agent or a smartcard). Same
 * interface as the openpgp.js signer.
 */
export function createGpgSigner(options: GpgSignerOptions): Signer {
  const gpg = options.gpgPath ?? 'gpg';
  // gpg gets the passphrase on its own pipe; it has no business seeing it in its environment.
  const { MEPH_SIGNING_PASSPHRASE: _secret, ...inherited } = process.env;
  const env: NodeJS.ProcessEnv = { ...inherited, LC_ALL: 'C', LANGUAGE: 'C' };
  if (options.gnupgHome) env['GNUPGHOME'] = options.gnupgHome;
  let fingerprintCache: Promise<string> | undefined;

  const run = (args: string[], input?: string | Uint8Array, withPassphrase = false): Promise<GpgRun> =>
    new Promise((resolve, reject) => {
      const pass = withPassphrase && options.passphrase !== undefined;
      const argv = ['--batch', '--no-tty', ...(pass ? ['--pinentry-mode', 'loopback', '--passphrase-fd', '3'] : []), ...args];
      const child = spawn(gpg, argv, { env, stdio: ['pipe', 'pipe', 'pipe', ...(pass ? (['pipe'] as const) : [])] });
      const out: Buffer[] = [];
      let err = '';
      child.stdout.on('data', (d: Buffer) => out.push(d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
      child.on('error', (e) => reject(new GpgError(options.localUser, `cannot run ${gpg}: ${e.message}`)));
      child.on('close', (code) => {
        if (code === 0) return resolve({ stdout: Buffer.concat(out) });
        const lines = err.split('\n').map((l) => l.replace(/^gpg: /, '').trim()).filter(Boolean);
        reject(new GpgError(options.localUser, lines.slice(-2).join('; ') || `exit ${String(code)}`, code ?? undefined));
      });
      if (pass) {
        const fd3 = child.stdio[3] as NodeJS.WritableStream;
        fd3.on('error', () => {});
        fd3.end(`${options.passphrase}\n`);
      }
      child.stdin.on('error', () => {}); // gpg may exit before reading everything; its exit code tells
      child.stdin.end(input ?? '');
    });

  const fingerprint = (): Promise<string> =>
    (fingerprintCache ??= run(['--with-colons', '--fixed-list-mode', '--list-secret-keys', '--', options.localUser]).then(({ stdout }) => {
      const line = stdout.toString('utf8').split('\n').find((l) => l.startsWith('fpr:'));
      const fpr = line?.split(':')[9];
      if (!fpr) throw new GpgError(options.localUser, 'no secret key found');
      return fpr.toUpperCase();
    }));

  return {
    async clearsign(text: string): Promise<string> {
      const { stdout } = await run(['--local-user', options.localUser, '--clearsign', '--output', '-'], text, true);
      return stdout.toString('utf8').replace(/\r\n/g, '\n');
    },
    async detachSign(data: string | Uint8Array): Promise<string> {
      const { stdout } = await run(['--local-user', options.localUser, '--armor', '--detach-sign', '--output', '-'], data, true);
      return stdout.toString('utf8').replace(/\r\n/g, '\n');
    },
    fingerprint,
    async publicKey(): Promise<string> {
      const fpr = await fingerprint();
      const { stdout } = await run(['--armor', '--export', '--', fpr]);
      return stdout.toString('utf8');
    },
  };
}
