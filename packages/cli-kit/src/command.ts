import type { Argv, ArgumentsCamelCase } from 'yargs';
import type { Reporter } from './reporter.js';

/** Options every meph command understands. */
export interface GlobalArgs {
  json: boolean;
  quiet: boolean;
}

export interface CommandContext {
  readonly reporter: Reporter;
  /** Aborted on SIGINT/SIGTERM so long steps can release mounts and temp files. */
  readonly signal: AbortSignal;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
}

/**
 * One subcommand. `run` returns the exit code (or nothing for 0); libraries it calls throw
 * typed errors, which the runner prints as one line.
 */
export interface MephCommand<A = object> {
  readonly command: string | readonly string[];
  readonly describe: string;
  /** Shown under the usage line of `--help`; every command gives at least one. */
  readonly examples: ReadonlyArray<readonly [command: string, description: string]>;
  readonly epilog?: string;
  /** The command fetches over HTTP(S): `--help` then explains the proxy and MEPH_HTTP_* variables. */
  readonly fetches?: boolean;
  /**
   * The command reads stream metadata: `--help` then ends the epilog with the limits on documents
   * it did not write, and with `'signed'` (it takes the keyring flags) the signature policy first.
   */
  readonly reads?: 'metadata' | 'signed';
  builder(y: Argv<GlobalArgs>): Argv<A & GlobalArgs>;
  run(args: ArgumentsCamelCase<A & GlobalArgs>, ctx: CommandContext): Promise<number | void> | number | void;
}

/** The `--help` note of every command that fetches over HTTP(S) (see @meph/http). */
export const HTTP_HELP =
  'Over http(s): http_proxy, https_proxy (CONNECT) and no_proxy are honoured; transient failures are retried with backoff. ' +
  'MEPH_HTTP_TIMEOUT=<seconds> bounds connecting, waiting for headers and body progress (defaults 30 s, 60 s, 60 s); MEPH_HTTP_RETRIES=<n> (default 4).';

/** The tool's `--help` note on what the installed bins keep between runs (launch.ts). */
export const CODE_CACHE_HELP =
  'Every run after the first of a command reuses its compiled code, kept per user in ~/.cache/meph/code-cache ($XDG_CACHE_HOME/meph/code-cache): ' +
  'MEPH_CODE_CACHE=off turns that off, MEPH_CODE_CACHE=DIR moves it.';

/** `-v`/`--verbose` (a count) and `--log-file`, which the reporter applies (see {@link withVerbosityOptions}). */
export interface VerbosityArgs {
  verbose: number;
  logFile?: string;
}

/**
 * Adds `-v`/`--verbose` (repeatable: `-vv` is 2) and `--log-file FILE` to a command; the
 * runner hands both to the command's reporter (`ctx.reporter.verbosity`, `ctx.reporter.verbose`),
 * which appends every message and event, timestamped, to the file. `describe` words what -v
 * shows for this command.
 */
export function withVerbosityOptions<T>(y: Argv<T>, describe: { verbose: string; logFile?: string }): Argv<T & VerbosityArgs> {
  return y
    .option('verbose', { alias: 'v', type: 'count', describe: describe.verbose })
    .option('log-file', {
      type: 'string',
      requiresArg: true,
      describe: describe.logFile ?? 'Also append every message and event, timestamped (events as JSON), to this file (its directory must exist)',
    });
}

export function defineCommand<A>(cmd: MephCommand<A>): MephCommand<A> {
  return cmd;
}

/** Splits repeated and comma-separated list flags: `--arches a,b --arches c` → [a, b, c]. */
export function csvList(value: unknown): string[] {
  const items = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return items.flatMap((v) => String(v).split(',')).map((s) => s.trim()).filter(Boolean);
}
