import { closeSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from './errors.js';
import type { MephEvent, EventSink } from './events.js';

export interface ReporterOptions {
  json: boolean;
  quiet?: boolean;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Turns an event into a human line; return undefined to stay silent for it. */
  describe?: (event: MephEvent) => string | undefined;
  /** `-v` count: {@link Reporter.verbose} lines at or below it are shown. Default 0. */
  verbosity?: number;
  /**
   * `--log-file`: every message (info, warning, verbose at the -v level) and every event but
   * progress ticks is appended, timestamped (events as JSON), whatever --json and -q say.
   * Opened (created, never its directory) when the reporter is made: an unwritable path is one
   * clear error before the command does anything.
   */
  logFile?: string;
}

export interface Reporter {
  readonly emit: EventSink;
  /** A human message on stderr (also a `message` event with --json). */
  info(message: string): void;
  warn(message: string): void;
  /** The `-v` count the user gave (0 without -v). */
  readonly verbosity: number;
  /** A human message shown (and logged) only at `-v` count `level` or more. */
  verbose(level: number, message: string): void;
  /** Machine result written to stdout whatever the mode (query output, diff YAML, …). */
  out(text: string): void;
  /**
   * Raw result bytes for stdout, as is (no newline added), resolving once the stream can take
   * more: large outputs are written as they are produced without piling up in memory.
   */
  write(text: string): Promise<void>;
  close(): void;
}

/** Terminals get a live line; logs get a line every few seconds. */
const PROGRESS_INTERVAL_MS = { tty: 250, log: 5000 };

/** Human size in binary units: 1536 → "1.5 KiB". */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

export function describeProgress(event: MephEvent): string {
  const done = Number(event['done'] ?? 0);
  const total = event['total'] === undefined ? undefined : Number(event['total']);
  const fmt = event['unit'] === 'bytes' ? formatBytes : (n: number) => String(n);
  const pct = total ? ` (${Math.floor((done / total) * 100)}%)` : '';
  return `${String(event['step'])}: ${fmt(done)}${total !== undefined ? ` / ${fmt(total)}` : ''}${pct}`;
}

function defaultDescribe(event: MephEvent): string | undefined {
  if (event.type === 'message') return String(event['message']);
  const { type, ...rest } = event;
  const fields = Object.entries(rest)
    .filter(([, v]) => v !== undefined && typeof v !== 'object')
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(' ');
  return `${type}${fields ? ` ${fields}` : ''}`;
}

/** Resolves on 'drain'; rejects if the stream fails first (a closed pipe) instead of waiting forever. */
function drained(stream: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: unknown): void => {
      stream.off('drain', done);
      stream.off('error', done);
      stream.off('close', done);
      if (err instanceof Error) reject(err);
      else resolve();
    };
    stream.on('drain', done);
    stream.on('error', done);
    stream.on('close', done);
  });
}

/** Opens `--log-file` for appending; a path that cannot be written is a UsageError naming it. */
function openLog(file: string): number {
  try {
    return openSync(file, 'a', 0o644);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? `no such directory ${path.dirname(file)}` : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new UsageError(`--log-file ${file}: ${why}`, code === 'ENOENT' ? 'create the directory first, or give another path' : 'give a file you can write');
  }
}

export function createReporter(options: ReporterOptions): Reporter {
  const logFd = options.logFile === undefined ? undefined : openLog(options.logFile);
  const log = (text: string): void => {
    if (logFd !== undefined) writeSync(logFd, `${new Date().toISOString()} ${text}\n`);
  };
  const verbosity = options.verbosity ?? 0;
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const describe = options.describe ?? defaultDescribe;
  const tty = Boolean(stderr.isTTY);
  let lastProgressAt = 0;
  let progressShown = false;

  const clearProgress = (): void => {
    if (progressShown && tty) stderr.write('\r\x1b[K');
    progressShown = false;
  };
  const human = (line: string): void => {
    if (options.quiet) return;
    clearProgress();
    stderr.write(`${line}\n`);
  };

  const emit: EventSink = (event) => {
    if (event.type !== 'progress') log(JSON.stringify(event));
    if (options.json) {
      stdout.write(`${JSON.stringify(event)}\n`);
      return;
    }
    if (event.type === 'progress') {
      if (options.quiet) return;
      const now = Date.now();
      const finished = event['total'] !== undefined && event['done'] === event['total'];
      const interval = tty ? PROGRESS_INTERVAL_MS.tty : PROGRESS_INTERVAL_MS.log;
      if (!finished && now - lastProgressAt < interval) return;
      lastProgressAt = now;
      const line = describeProgress(event);
      if (tty && !finished) {
        stderr.write(`\r\x1b[K${line}`);
        progressShown = true;
      } else {
        clearProgress();
        stderr.write(`${line}\n`);
      }
      return;
    }
    const line = describe(event);
    if (line !== undefined) human(line);
  };

  const info = (message: string): void => {
    log(message);
    if (options.json) stdout.write(`${JSON.stringify({ type: 'message', level: 'info', message })}\n`);
    else human(message);
  };
  let closed = false;
  return {
    emit,
    info,
    warn: (message) => {
      log(`warning: ${message}`);
      if (options.json) stdout.write(`${JSON.stringify({ type: 'message', level: 'warning', message })}\n`);
      else human(`warning: ${message}`);
    },
    verbosity,
    verbose: (level, message) => {
      if (verbosity >= level) info(message);
    },
    out: (text) => void stdout.write(text.endsWith('\n') || text === '' ? text : `${text}\n`),
    write: (text) => (stdout.write(text) ? Promise.resolve() : drained(stdout)),
    close: () => {
      clearProgress();
      if (logFd !== undefined && !closed) closeSync(logFd);
      closed = true;
    },
  };
}
