/**
 * The set-up the real (no fake) end-to-end tests share: the cached Debian bookworm minbase root
 * tarball (tools/make-bookworm-rootfs.sh: made from this machine's Debian mirror once, then
 * cached in /var/cache/meph-test) and the main job's build of it with conf/debian-bookworm.yaml.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { runAppProcess, type CliResult } from './cli.js';
import { REPO_ROOT } from './paths.js';

export const minutes = (n: number): number => n * 60_000;

/** The bookworm config the main job builds with. */
export const BOOKWORM_CONFIG = path.join(REPO_ROOT, 'conf/debian-bookworm.yaml');

/** Path of the cached bookworm minbase root tarball (made on first use: minutes). */
export function bookwormRootfs(): string {
  return execFileSync('bash', [path.join(REPO_ROOT, 'tools/make-bookworm-rootfs.sh')], { encoding: 'utf8' }).trim();
}

/**
 * `meph2-build --config conf/debian-bookworm.yaml --no-sign amd64 bookworm SERIAL ROOTFS OUT`
 * as a user runs it (a child process): the generic and cloud kernel products of the main job.
 */
export function buildBookworm(rootfs: string, serial: string, out: string, options: { timeoutMs?: number } = {}): Promise<CliResult & { signal: NodeJS.Signals | null }> {
  return runAppProcess('meph2-build', ['--config', BOOKWORM_CONFIG, '--no-sign', 'amd64', 'bookworm', serial, rootfs, out], { timeoutMs: options.timeoutMs ?? minutes(15) });
}

/** Wall-clock seconds per named stage, printed by the slow tests so CI logs show where time goes. */
export function stageTimer(): { timings: Record<string, number>; timed<T>(name: string, fn: () => Promise<T>): Promise<T> } {
  const timings: Record<string, number> = {};
  return {
    timings,
    async timed(name, fn) {
      const t0 = Date.now();
      try {
        return await fn();
      } finally {
        timings[name] = Math.round((Date.now() - t0) / 100) / 10;
      }
    },
  };
}
