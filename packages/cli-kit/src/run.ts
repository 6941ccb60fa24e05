import path from 'node:path';
import yargs from '#yargs';
import type { ArgumentsCamelCase, Argv } from 'yargs';
import { isMephError, UsageError, ExitError } from './errors.js';
import { watchOutput } from './output-watch.js';
import { createReporter, type Reporter } from './reporter.js';
import { DOCUMENT_LIMITS_HELP, SIGNATURE_POLICY_HELP } from './signing.js';
import { CODE_CACHE_HELP, HTTP_HELP, type CommandContext, type GlobalArgs, type MephCommand, type VerbosityArgs } from './command.js';

export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export interface CliSpec {
  /** Program name as typed by users. */
  name: string;
  version: string;
  describe: string;
  /**
   * Subcommands; a program with a single default command passes one with command '$0 …'.
   * A {@link LazyCommand} is imported only when it runs (or when every command is listed),
   * so start-up costs what the chosen command needs and nothing more.
   */
  commands: ReadonlyArray<MephCommand | LazyCommand>;
  examples?: ReadonlyArray<readonly [string, string]>;
}

/** A subcommand whose module is imported on demand; `name` is the first word of its `command`. */
export interface LazyCommand {
  readonly name: string;
  load(): Promise<MephCommand>;
}

function isLazy(c: MephCommand | LazyCommand): c is LazyCommand {
  return 'load' in c;
}

/**
 * The commands to register for this argv: only the one named by the first word that is not
 * a flag (global flags are all boolean), or every command when none is named (top-level
 * help, a usage error, an unknown name).
 */
async function commandsFor(spec: CliSpec, argv: readonly string[]): Promise<Array<MephCommand>> {
  const word = argv.find((a) => !a.startsWith('-'));
  // `--version` alone needs no command: loading them all cost more than the rest of the run
  if (argv.length === 1 && argv[0] === '--version') return [];
  const chosen = spec.commands.filter((c) => isLazy(c) && c.name === word);
  const wanted = chosen.length ? chosen : spec.commands;
  return Promise.all(wanted.map(async (c) => (isLazy(c) ? c.load() : c)));
}

/** "no such file or directory" of Node's "ENOENT: no such file or directory, open 'PATH'". */
function systemErrorText(err: NodeJS.ErrnoException): string | undefined {
  return /^[A-Z0-9_]+: (.*?), \w+(?: '|$)/.exec(err.message)?.[1];
}

function outputFailureLine(name: string, err: NodeJS.ErrnoException): string {
  return `${name}: error: cannot write the output: ${systemErrorText(err) ?? err.message}${err.code ? ` (${err.code})` : ''}`;
}

function errorLine(name: string, err: unknown): { line: string; code: number } {
  if (err instanceof ExitError) return { line: '', code: err.exitCode };
  if (isMephError(err)) {
    const hint = err.hint ? ` (${err.hint})` : '';
    return { line: `${name}: error: ${err.message}${hint}`, code: err.exitCode ?? 1 };
  }
  const e = err instanceof Error ? err : new Error(String(err));
  const sys = e as NodeJS.ErrnoException;
  if (sys.code && typeof sys.code === 'string' && sys.syscall) {
    // Operating-system errors on user-named paths (ENOENT, EACCES, ENOSPC, …) are user errors:
    // "PATH: no such file or directory" rather than Node's "ENOENT: …, open 'PATH'".
    const what = systemErrorText(sys);
    const where = sys.path ? `${sys.path}${(sys as { dest?: string }).dest ? ` → ${(sys as { dest?: string }).dest}` : ''}: ` : '';
    return { line: `${name}: error: ${where && what ? `${where}${what} (${sys.code})` : e.message}`, code: 1 };
  }
  return {
    line: `${name}: internal error: ${e.stack ?? e.message}\nThis is a bug in meph; please report it with the command you ran.`,
    code: 70,
  };
}

/**
 * Parses argv, runs the chosen command and returns the process exit code. Never calls
 * process.exit, so tests can run a CLI in-process.
 */
export async function runCli(spec: CliSpec, argv: readonly string[], io: Partial<CliIo> = {}): Promise<number> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const env = io.env ?? process.env;
  const cwd = io.cwd ?? process.cwd();
  const controller = new AbortController();
  const onSignal = (sig: NodeJS.Signals): void => {
    reporter?.flush(); // the reporter batches its lines: write them out first, in order
    stderr.write(`${spec.name}: ${sig} received, cleaning up\n`);
    controller.abort(new ExitError(sig === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // A reader of stdout that goes away (`| head`) is not an error: a command that stops because
  // it cannot write its output ends quietly with status 0, as in ripgrep (the original left it
  // to Python's BrokenPipeError traceback; docs/compat.md), and one that changes a stream
  // finishes the change. Any other failure to write the output is one line on stderr, status 1.
  const output = watchOutput(stdout);
  // stderr's reader may go away as well (`2>&1 | head`): nothing more can be said there, and the
  // command goes on (its status is its own)
  const diagnostics = watchOutput(stderr);

  let exitCode = 0;
  let reporter: Reporter | undefined;
  const parser: Argv<GlobalArgs> = yargs([...argv])
    .scriptName(spec.name)
    .usage(`$0 — ${spec.describe}`)
    .option('json', { type: 'boolean', default: false, describe: 'Machine-readable events, one JSON object per line on stdout' })
    .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'Only errors on stderr' })
    .version(spec.version)
    .help()
    .alias('h', 'help')
    .strict()
    // Help goes to stdout, so it is wrapped to stdout's width (100 when it is not a terminal).
    .wrap(Math.min(110, (stdout as { columns?: number }).columns ?? 100))
    .exitProcess(false)
    .fail((msg: string | undefined, err: Error | undefined) => {
      throw err ?? new UsageError(msg ?? 'invalid arguments', `see ${spec.name} --help`);
    });
  for (const [cmd, text] of spec.examples ?? []) parser.example(cmd, text);
  parser.epilog(CODE_CACHE_HELP);

  const commands = await commandsFor(spec, argv);
  for (const command of commands) {
    parser.command({
      command: command.command,
      describe: command.describe,
      builder: (y: Argv<GlobalArgs>) => {
        let b = command.builder(y);
        for (const [c, d] of command.examples) b = b.example(c, d);
        const reading = command.reads === 'signed' ? [SIGNATURE_POLICY_HELP, DOCUMENT_LIMITS_HELP] : command.reads === 'metadata' ? [DOCUMENT_LIMITS_HELP] : [];
        const body = [command.epilog, ...reading].filter(Boolean).join('\n');
        const epilog = [body, command.fetches ? HTTP_HELP : undefined].filter(Boolean).join('\n\n');
        if (epilog) b = b.epilog(epilog);
        return b;
      },
      // -v and --log-file exist only on the commands that declare them (withVerbosityOptions).
      handler: async (args: ArgumentsCamelCase<GlobalArgs & Partial<VerbosityArgs>>) => {
        reporter = createReporter({
          json: Boolean(args.json),
          quiet: Boolean(args.quiet),
          verbosity: Number(args.verbose ?? 0),
          ...(typeof args.logFile === 'string' ? { logFile: path.resolve(cwd, args.logFile) } : {}),
          stdout,
          stderr,
        });
        const ctx: CommandContext = { reporter, signal: controller.signal, env, cwd };
        const code = await command.run(args, ctx);
        exitCode = typeof code === 'number' ? code : 0;
      },
    });
  }
  const hasDefault = commands.some((c) => [c.command].flat().some((s) => s.startsWith('$0')));
  if (!hasDefault) parser.demandCommand(1, 'give a subcommand (see --help)');

  let failure: { err: unknown } | undefined;
  try {
    let helpOut = '';
    await parser.parseAsync([...argv], {}, (_err, _parsed, output) => {
      helpOut = output;
    });
    if (helpOut) stdout.write(`${helpOut}\n`);
  } catch (err) {
    failure = { err };
  }
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  reporter?.close();
  // a failed write of those last lines is reported by the stream on the next tick
  await new Promise((resolve) => setImmediate(resolve));
  // (process.stdout/stderr stay watched: anything written to them later fails the same way)
  if (io.stdout) output.dispose();
  if (io.stderr) diagnostics.dispose();
  if (output.failure) {
    stderr.write(`${outputFailureLine(spec.name, output.failure)}\n`);
    if (!failure || failure.err === output.failure) return 1;
  }
  if (!failure) return exitCode;
  if (output.readerGone && (failure.err as NodeJS.ErrnoException | undefined)?.code === 'EPIPE') return 0;
  const { line, code } = errorLine(spec.name, failure.err);
  if (line) stderr.write(`${line}\n`);
  return code;
}

/** Entry for a bin script: runs the CLI on process.argv and sets process.exitCode. */
export async function main(spec: CliSpec): Promise<void> {
  process.exitCode = await runCli(spec, process.argv.slice(2));
}

/** A {@link CliSpec} that can run itself: `spec.run(argv, io)` is `runCli(spec, argv, io)`. */
export interface RunnableCliSpec extends CliSpec {
  run(argv: readonly string[], io?: Partial<CliIo>): Promise<number>;
}

/**
 * An app's spec, runnable on its own. Callers that hold only the spec (the in-process test
 * runner of @meph/test-support, which must not depend on cli-kit) run it through `run`.
 */
export function defineCli(spec: CliSpec): RunnableCliSpec {
  return { ...spec, run: (argv, io) => runCli(spec, argv, io) };
}
