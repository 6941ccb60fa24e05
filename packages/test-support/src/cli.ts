import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { REPO_ROOT } from './paths.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

const tsxLoader = createRequire(import.meta.url).resolve('tsx');
const crashAfterHook = path.join(import.meta.dirname, 'crash-after.ts');

export type AppName = 'meph2-util' | 'meph2-build' | 'meph2-cloudimg-sync';

export interface AppProcessOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string;
  timeoutMs?: number;
  onSpawn?: (pid: number) => void;
  /**
   * SIGKILL the process right after its N-th committed file, as a power cut would: preloads
   * ./crash-after.ts, which counts the `meph:commit` diagnostics-channel messages the commands
   * publish. Production code has no such hook.
   */
  crashAfter?: number;
  /** Reads this many characters of stdout, then closes it, as `| head -c N` does. */
  stdoutLimit?: number;
  /** The same for stderr (`2>&1 | head -c N`). */
  stderrLimit?: number;
}

/**
 * Runs an app from its TypeScript sources in a child process, as a user would run the bin
 * (real argv, real exit code, real signals). No build step needed.
 */
export function runAppProcess(app: AppName, args: readonly string[], options: AppProcessOptions = {}): Promise<CliResult & { signal: NodeJS.Signals | null }> {
  const entry = path.join(REPO_ROOT, 'apps', app, 'src', 'cli.ts');
  const crash = options.crashAfter === undefined ? [] : ['--import', crashAfterHook];
  const crashEnv = options.crashAfter === undefined ? {} : { MEPH_TEST_CRASH_AFTER: String(options.crashAfter) };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=@meph/source', '--import', tsxLoader, ...crash, entry, ...args], {
      cwd: options.cwd ?? REPO_ROOT,
      env: { ...process.env, ...options.env, ...crashEnv },
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: options.timeoutMs,
    });
    if (child.pid !== undefined) options.onSpawn?.(child.pid);
    let stdout = '';
    let stderr = '';
    // With a limit, a stream is closed once that much is read, as by a reader that stops early.
    const read = (stream: Readable, limit: number | undefined, append: (text: string) => string): void => {
      stream.setEncoding('utf8').on('data', (d: string) => {
        if (append(d).length >= (limit ?? Infinity)) stream.destroy();
      });
    };
    read(child.stdout, options.stdoutLimit, (d) => (stdout = (stdout + d).slice(0, options.stdoutLimit)));
    read(child.stderr, options.stderrLimit, (d) => (stderr = (stderr + d).slice(0, options.stderrLimit)));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code: code ?? -1, signal, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

/**
 * What these helpers need of an app's spec (`defineCli` of @meph/cli-kit): its commands and a
 * way to run it with given streams. Structural, so this package depends on no meph package and
 * every package's tests can use it without a dependency cycle.
 */
export interface RunnableCli {
  readonly commands: ReadonlyArray<object>;
  run(argv: readonly string[], io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream; cwd: string; env: NodeJS.ProcessEnv }): Promise<number>;
}

/**
 * Runs a CLI spec in-process with captured stdout/stderr: fast, for argument and output tests.
 * With `stdout`, the output goes there instead (a pipe, a full device) and `stdout` of the
 * result stays empty.
 */
export async function runCliCaptured(
  spec: RunnableCli,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; stdout?: NodeJS.WritableStream } = {},
): Promise<CliResult> {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  err.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const code = await spec.run(args, { stdout: options.stdout ?? out, stderr: err, cwd: options.cwd ?? process.cwd(), env: options.env ?? process.env });
  out.end();
  err.end();
  return { code, stdout, stderr };
}

interface LazyEntry {
  name: string;
  load(): Promise<{ command: string | readonly string[] }>;
}
const isLazy = (c: object): c is LazyEntry => 'load' in c;

/**
 * The bin's build-time help cache (`<appDir>/dist/help.json`, tools/build-cli-assets.mjs)
 * against what yargs renders now from the sources: every page must be present and equal, so
 * `--help` can never print a stale page. Returns the pages that differ (empty = current).
 */
export async function staleHelpPages(spec: RunnableCli, appDir: string): Promise<string[]> {
  const cache = JSON.parse(await readFile(path.join(appDir, 'dist/help.json'), 'utf8')) as Record<string, string>;
  const lazy = spec.commands.filter(isLazy);
  const names = ['', ...lazy.map((c) => c.name)];
  const stale: string[] = [];
  for (const name of names) {
    const live = await runCliCaptured(spec, name ? [name, '--help'] : ['--help'], { env: {} });
    if (cache[name] !== live.stdout) stale.push(name || '(top level)');
  }
  for (const name of Object.keys(cache)) if (!names.includes(name)) stale.push(`${name} (no such command)`);
  // A lazy entry's name must be its command's first word, or `meph2-util NAME` would load the wrong module.
  for (const c of lazy) {
    const first = [(await c.load()).command].flat()[0]!.split(' ')[0];
    if (first !== c.name) stale.push(`${c.name} (loads the command "${first}")`);
  }
  return stale;
}
