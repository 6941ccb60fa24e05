import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PassThrough } from 'node:stream';
import { runCli, type CliSpec } from './run.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const tsxLoader = createRequire(import.meta.url).resolve('tsx');

/** Absolute path of the repository root (for tests that read conf/ or ../shared/). */
export const REPO_ROOT = repoRoot;
/** The shared reference material beside the checkout. */
export const SHARED_DIR = path.resolve(repoRoot, '..', 'shared');

export type AppName = 'meph2-util' | 'meph2-build' | 'meph2-cloudimg-sync';

/**
 * Runs an app from its TypeScript sources in a child process, as a user would run the bin
 * (real argv, real exit code, real signals). No build step needed.
 */
export function runAppProcess(
  app: AppName,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number; onSpawn?: (pid: number) => void } = {},
): Promise<CliResult & { signal: NodeJS.Signals | null }> {
  const entry = path.join(repoRoot, 'apps', app, 'src', 'cli.ts');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=@meph/source', '--import', tsxLoader, entry, ...args], {
      cwd: options.cwd ?? repoRoot,
      env: { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: options.timeoutMs,
    });
    if (child.pid !== undefined) options.onSpawn?.(child.pid);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code: code ?? -1, signal, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

/** Runs a CLI spec in-process with captured stdout/stderr: fast, for argument and output tests. */
export async function runCliCaptured(spec: CliSpec, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  err.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const code = await runCli(spec, args, { stdout: out, stderr: err, cwd: options.cwd ?? process.cwd(), env: options.env ?? process.env });
  out.end();
  err.end();
  return { code, stdout, stderr };
}

/**
 * The bin's build-time help cache (`<appDir>/dist/help.json`, tools/build-cli-assets.mjs)
 * against what yargs renders now from the sources: every page must be present and equal, so
 * `--help` can never print a stale page. Returns the pages that differ (empty = current).
 */
export async function staleHelpPages(spec: CliSpec, appDir: string): Promise<string[]> {
  const { readFile } = await import('node:fs/promises');
  const cache = JSON.parse(await readFile(path.join(appDir, 'dist/help.json'), 'utf8')) as Record<string, string>;
  const names = ['', ...spec.commands.flatMap((c) => ('load' in c ? [c.name] : []))];
  const stale: string[] = [];
  for (const name of names) {
    const live = await runCliCaptured(spec, name ? [name, '--help'] : ['--help'], { env: {} });
    if (cache[name] !== live.stdout) stale.push(name || '(top level)');
  }
  for (const name of Object.keys(cache)) if (!names.includes(name)) stale.push(`${name} (no such command)`);
  // A lazy entry's name must be its command's first word, or `meph2-util NAME` would load the wrong module.
  for (const c of spec.commands) {
    if (!('load' in c)) continue;
    const first = [(await c.load()).command].flat()[0]!.split(' ')[0];
    if (first !== c.name) stale.push(`${c.name} (loads the command "${first}")`);
  }
  return stale;
}
