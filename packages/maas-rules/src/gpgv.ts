import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export interface GpgvResult {
  ok: boolean;
  /** gpgv's diagnostics, one line, for the finding. */
  detail: string;
}

/**
 * Runs `gpgv --keyring=<file> -` on a clearsigned document, as both MAAS importers do. A
 * private, empty home keeps the operator's ~/.gnupg out of it. Throws when gpgv cannot be run.
 */
export async function runGpgv(text: string, keyrings: readonly string[], signal?: AbortSignal): Promise<GpgvResult> {
  const home = await mkdtemp(path.join(os.tmpdir(), 'meph-gpgv-'));
  try {
    const args = ['--homedir', home, ...keyrings.map((k) => `--keyring=${path.resolve(k)}`), '-'];
    return await new Promise<GpgvResult>((resolve, reject) => {
      const child = spawn('gpgv', args, { stdio: ['pipe', 'ignore', 'pipe'], ...(signal ? { signal } : {}) });
      let stderr = '';
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (d: string) => (stderr += d));
      child.on('error', reject);
      child.stdin.on('error', () => {}); // gpgv may exit before reading everything
      child.on('close', (code) => {
        const lines = stderr
          .split('\n')
          .map((l) => l.replace(/^gpgv: /, '').trim())
          .filter((l) => l !== '' && !/^(Signature made|using |Please remember|should be the first)/.test(l));
        resolve({ ok: code === 0, detail: [...new Set(lines)].join('; ') || `exit code ${String(code)}` });
      });
      child.stdin.end(text);
    });
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}
