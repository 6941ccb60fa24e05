import { spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { CommandFailedError, NoSpaceError } from '../errors.js';

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Text written to stdin. */
  input?: string;
  /** Stream piped into stdin (mutually exclusive with input). */
  stdin?: Readable;
  /** Where stdout goes; by default it is collected and returned. */
  stdout?: Writable;
  signal?: AbortSignal;
  /** Human name of the step for error messages ("unpack", "mksquashfs"). */
  what?: string;
  /** Path whose file system a "No space left" failure is attributed to. */
  spacePath?: string;
  /** Called with every complete stderr/stdout line (progress parsing, logs). */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

const TAIL = 64 * 1024;

/**
 * Prefix that makes a child die with this process (`setpriv --pdeathsig KILL`, util-linux):
 * if meph is SIGKILLed, its tools do not keep running as orphans, and a killed `unshare`
 * takes its whole namespace (chroot processes, mounts) with it.
 */
export function dieWithParent(cmd: string, args: readonly string[]): [string, string[]] {
  return ['setpriv', ['--pdeathsig', 'KILL', cmd, ...args]];
}

/**
 * Runs a tool in its own process group, dying with this process. On abort the whole group gets SIGTERM, then SIGKILL
 * after 5 s, and the promise rejects with the signal's reason once the process is gone (so
 * callers can unmount after it). A non-zero exit becomes CommandFailedError (or NoSpaceError
 * when the tool reported ENOSPC).
 */
export function run(cmd: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const { signal } = options;
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const [file, argv] = dieWithParent(cmd, args);
    const child = spawn(file, argv, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      detached: true,
      stdio: [options.stdin || options.input !== undefined ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const partial = { stdout: '', stderr: '' };
    const feed = (stream: 'stdout' | 'stderr', chunk: string) => {
      if (!options.onLine) return;
      const text = partial[stream] + chunk;
      const lines = text.split(/\r?\n|\r/);
      partial[stream] = lines.pop() ?? '';
      for (const l of lines) options.onLine(l, stream);
    };
    const { stdout: out, stderr: errStream } = child as unknown as { stdout: Readable; stderr: Readable };
    if (options.stdout) out.pipe(options.stdout);
    else out.setEncoding('utf8').on('data', (d: string) => { stdout += d; feed('stdout', d); });
    errStream.setEncoding('utf8').on('data', (d: string) => {
      stderr = (stderr + d).slice(-TAIL);
      feed('stderr', d);
    });
    if (options.stdin && child.stdin) {
      options.stdin.on('error', (e) => child.stdin?.destroy(e));
      child.stdin.on('error', () => {});
      options.stdin.pipe(child.stdin);
    } else if (options.input !== undefined && child.stdin) {
      child.stdin.on('error', () => {});
      child.stdin.end(options.input);
    }
    let killTimer: NodeJS.Timeout | undefined;
    const onAbort = () => {
      killGroup(child.pid, 'SIGTERM');
      killTimer = setTimeout(() => killGroup(child.pid, 'SIGKILL'), 5000);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (e) => {
      signal?.removeEventListener('abort', onAbort);
      reject(new CommandFailedError(cmd, null, String(e), { cause: e, what: options.what }));
    });
    child.on('close', (code, sig) => {
      signal?.removeEventListener('abort', onAbort);
      if (killTimer) clearTimeout(killTimer);
      if (signal?.aborted) return reject(signal.reason);
      if (code === 0) return resolve({ stdout, stderr });
      const tail = stderr.trim() ? stderr : stdout.slice(-TAIL);
      if (/No space left on device/i.test(tail)) {
        return reject(new NoSpaceError(options.spacePath ?? options.cwd ?? '.', options.what ?? cmd, { cause: new CommandFailedError(cmd, code, tail) }));
      }
      reject(new CommandFailedError([cmd, ...args].join(' ').slice(0, 200), code ?? (sig ? null : -1), tail, { what: options.what }));
    });
  });
}

export function killGroup(pid: number | undefined, sig: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, sig);
  } catch {
    /* already gone */
  }
}

/** The last `n` lines of a text, for error messages. */
export function tailLines(text: string, n: number): string {
  return text.trimEnd().split('\n').slice(-n).join('\n');
}
