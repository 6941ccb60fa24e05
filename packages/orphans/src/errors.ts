import { errorGuard, mephErrorBase } from '@meph/errors';

/** Base of every @meph/orphans error; `isOrphansError` is true for these and no other library's. */
export abstract class OrphansError extends mephErrorBase('@meph/orphans') {}
export const isOrphansError = errorGuard(OrphansError);

/** The orphans file exists but is not what find-orphans writes. */
export class OrphansFileError extends OrphansError {
  override readonly name = 'OrphansFileError';
  constructor(readonly file: string, readonly detail: string, options?: { cause?: unknown }) {
    super(`${file}: ${detail}`, { ...options, hint: 'it must be a JSON object mapping paths to RFC 2822 timestamps, as find-orphans writes it; delete it to start over' });
  }
}

/** The streams given reference no file at all: a wrong path must not turn a whole pool into orphans. */
export class NoReferencesError extends OrphansError {
  override readonly name = 'NoReferencesError';
  constructor(readonly streams: readonly string[]) {
    super(`the stream(s) ${streams.map((s) => JSON.stringify(s)).join(', ')} reference no data file at all; refusing to treat their files as orphans`, {
      hint: 'check the stream paths (a mirror root, a streams/v1/index.json or a products file); --force overrides',
    });
  }
}

/** reap-orphans was given an orphans file that does not exist (a typo in a cron job must fail). */
export class OrphansFileMissingError extends OrphansError {
  override readonly name = 'OrphansFileMissingError';
  constructor(readonly file: string) {
    super(`orphan file does not exist: ${file}`, { hint: 'run find-orphans first, or check the path' });
  }
}

/** The orphans file was computed for another data directory (recorded in its sidecar). */
export class DataDirMismatchError extends OrphansError {
  override readonly name = 'DataDirMismatchError';
  constructor(readonly file: string, readonly recorded: string, readonly given: string) {
    super(`${file} was computed for data directory ${recorded}, not ${given}; refusing to use it`, {
      hint: `give ${recorded}, or let find-orphans start another orphans file for ${given}`,
    });
  }
}

/**
 * Most item paths of a stream name no file of the data directory, resolved against the stream's
 * mirror root and against the data directory: a wrong DATA_DIR, stream or pool layout, which
 * would make files that stream uses look orphaned.
 */
export class LayoutError extends OrphansError {
  override readonly name = 'LayoutError';
  constructor(readonly stream: string, readonly dataDir: string, readonly referenced: number, readonly present: number) {
    super(
      `only ${present} of the ${referenced} paths ${stream} references exist under ${dataDir} (resolved against the stream's mirror root and against DATA_DIR); refusing to treat its files as orphans`,
      { hint: 'check DATA_DIR and the stream: item paths must be relative to the mirror root (symlinks followed) or to DATA_DIR; --force overrides' },
    );
  }
}

/** A `--older` value that is not a duration. */
export class DurationError extends OrphansError {
  override readonly name = 'DurationError';
  constructor(readonly value: string) {
    super(`invalid duration ${JSON.stringify(value)}`, { hint: 'use <number><d|h|m|s> tokens, e.g. 3d, 1d12h, 90m; a bare number means days' });
  }
}

/** Nothing says which streams reference the data directory. */
export class NoStreamsError extends OrphansError {
  override readonly name = 'NoStreamsError';
  constructor(readonly dataDir: string, readonly orphansFile?: string) {
    super(
      orphansFile
        ? `${orphansFile} does not record which streams it was computed from, and ${dataDir} is not a stream itself`
        : `no stream given, and ${dataDir} has no streams/v1 of its own`,
      { hint: 'name the streams that use the data directory after DATA_DIR' },
    );
  }
}

/** A file-system operation on a named path failed (permissions, read-only file system, …). */
export class OrphansIoError extends OrphansError {
  override readonly name = 'OrphansIoError';
  constructor(readonly path: string, readonly action: string, cause: unknown) {
    super(`cannot ${action} ${path}: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`, { cause, hint: 'check the path and its permissions' });
  }
}

/** Re-throws a Node file-system error as a branded OrphansIoError naming the path. */
export function ioError(path: string, action: string): (err: unknown) => never {
  return (err: unknown) => {
    if (typeof (err as NodeJS.ErrnoException)?.code === 'string' && !(err instanceof OrphansError)) throw new OrphansIoError(path, action, err);
    throw err;
  };
}
