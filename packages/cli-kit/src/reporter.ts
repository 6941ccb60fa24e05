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
  /** A warning line; a plain function, so it can be handed on (`verifierFromArgs(…, ctx.reporter.warn)`). */
  warn: (message: string) => void;
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
  /** Writes out what is batched (before something else writes to the same streams). */
  flush(): void;
  /** Flushes, and closes the log file. */
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

/** `type key=value …` of the event's scalar fields (one line per event: thousands for a big stream edit, so no temporary arrays). */
function defaultDescribe(event: MephEvent): string | undefined {
  if (event.type === 'message') return String(event['message']);
  let line = String(event.type);
  for (const k in event) {
    const v = event[k];
    if (k !== 'type' && (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint' || typeof v === 'symbol')) line += ` ${k}=${String(v)}`;
  }
  return line;
}

/** Resolves on 'drain'; rejects if the stream fails first (a closed pipe) instead of waiting forever. */
function drained(stream: NodeJS.WritableStream): Promise<void> {
  // A stream destroyed by a failure emits nothing more: waiting would never end.
  const { destroyed, errored } = stream as { destroyed?: boolean; errored?: Error | null };
  if (destroyed) return Promise.reject(errored ?? new Error('the output stream is closed'));
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

/** Text batched for one stream is written once it reaches this many characters, if not at the end of the turn. */
const BATCH_CHARS = 64 * 1024;

/**
 * What the reporter writes to one stream, batched: one write per turn of the event loop (or
 * per {@link BATCH_CHARS}) instead of one per line — an operation reporting 5,000 events made
 * 5,000 write(2) calls. Order within the stream is kept; {@link flushOnExit} writes out what
 * is left when the process exits, however it exits (an error, process.exit, an uncaught
 * exception), so no last line is lost.
 */
class BatchedStream {
  private pending = '';
  private scheduled = false;
  constructor(readonly stream: NodeJS.WritableStream) {}

  push(text: string): void {
    this.pending += text;
    if (this.pending.length >= BATCH_CHARS) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.flush();
      });
    }
  }

  flush(): void {
    if (this.pending === '') return;
    const text = this.pending;
    this.pending = '';
    this.stream.write(text);
  }
}

/** Streams with batched text, written out by one 'exit' listener (process.stdout/stderr write synchronously to files, pipes and terminals). */
const unflushed = new Set<BatchedStream>();
let exitHookInstalled = false;
function flushOnExit(batch: BatchedStream): void {
  unflushed.add(batch);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Node emits 'exit' before it prints an uncaught exception, so reported lines come first
  process.on('exit', () => {
    for (const b of unflushed) b.flush();
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
  const stdoutStream = options.stdout ?? process.stdout;
  const stderrStream = options.stderr ?? process.stderr;
  const stdout = new BatchedStream(stdoutStream);
  const stderr = new BatchedStream(stderrStream);
  flushOnExit(stdout);
  flushOnExit(stderr);
  const describe = options.describe ?? defaultDescribe;
  const tty = Boolean(stderrStream.isTTY);
  let lastProgressAt = 0;
  let progressShown = false;

  const clearProgress = (): void => {
    if (progressShown && tty) stderr.push('\r\x1b[K');
    progressShown = false;
  };
  const human = (line: string): void => {
    if (options.quiet) return;
    clearProgress();
    stderr.push(`${line}\n`);
  };

  const emit: EventSink = (event) => {
    if (logFd !== undefined && event.type !== 'progress') log(JSON.stringify(event));
    if (options.json) {
      stdout.push(`${JSON.stringify(event)}\n`);
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
        stderr.push(`\r\x1b[K${line}`);
        progressShown = true;
      } else {
        clearProgress();
        stderr.push(`${line}\n`);
      }
      return;
    }
    const line = describe(event);
    if (line !== undefined) human(line);
  };

  const info = (message: string): void => {
    log(message);
    if (options.json) stdout.push(`${JSON.stringify({ type: 'message', level: 'info', message })}\n`);
    else human(message);
  };
  const flush = (): void => {
    stdout.flush();
    stderr.flush();
  };
  let closed = false;
  return {
    emit,
    info,
    warn: (message) => {
      log(`warning: ${message}`);
      if (options.json) stdout.push(`${JSON.stringify({ type: 'message', level: 'warning', message })}\n`);
      else human(`warning: ${message}`);
    },
    verbosity,
    verbose: (level, message) => {
      if (verbosity >= level) info(message);
    },
    out: (text) => stdout.push(text.endsWith('\n') || text === '' ? text : `${text}\n`),
    write: (text) => {
      stdout.flush();
      return stdoutStream.write(text) ? Promise.resolve() : drained(stdoutStream);
    },
    flush,
    close: () => {
      clearProgress();
      flush();
      unflushed.delete(stdout);
      unflushed.delete(stderr);
      if (logFd !== undefined && !closed) closeSync(logFd);
      closed = true;
    },
  };
}
