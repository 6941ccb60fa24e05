/**
 * Brand every meph error carries. `Symbol.for`, so an error from another copy of a library (two
 * versions installed side by side, another realm) is still recognised.
 */
export const MEPH_ERROR: unique symbol = Symbol.for('meph.error') as never;

/** Names the package whose error base an error extends; a library's own guard compares it. */
export const MEPH_ERROR_LIBRARY: unique symbol = Symbol.for('meph.error.library') as never;

export interface MephErrorOptions {
  cause?: unknown;
  /** What the user can do about it. */
  hint?: string;
  /** Exit code a CLI should end with (default 1). */
  exitCode?: number;
}

/** What a CLI needs of an error to print it as one line instead of a stack trace. */
export interface UserFacingError extends Error {
  readonly [MEPH_ERROR]: true;
  /** What the user can do about it, printed after the message. */
  readonly hint?: string;
  /** Exit code a CLI should end with (default 1). */
  readonly exitCode?: number;
}

/**
 * What every meph error is. A library does not extend it directly but declares its own base
 * with {@link mephErrorBase}, which names the library for {@link errorGuard}.
 */
export abstract class MephError extends Error implements UserFacingError {
  readonly [MEPH_ERROR] = true as const;
  abstract override readonly name: string;
  readonly hint?: string;
  readonly exitCode?: number;
  constructor(message: string, options?: MephErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    if (options?.hint) this.hint = options.hint;
    if (options?.exitCode !== undefined) this.exitCode = options.exitCode;
  }
  /** The package whose errors.ts declares the library base (e.g. '@meph/orphans'). */
  get [MEPH_ERROR_LIBRARY](): string | undefined {
    return undefined;
  }
}

/**
 * The base class of one library's errors, declared once in its `errors.ts`:
 *
 * ```ts
 * export abstract class OrphansError extends mephErrorBase('@meph/orphans') {}
 * export const isOrphansError = errorGuard(OrphansError);
 * ```
 */
export function mephErrorBase(library: string): abstract new (message: string, options?: MephErrorOptions) => MephError {
  abstract class LibraryError extends MephError {
    override get [MEPH_ERROR_LIBRARY](): string {
      return library;
    }
  }
  return LibraryError;
}

/** True for an error of any meph library (or a CLI usage error): one line and a hint, no stack. */
export function isMephError(err: unknown): err is UserFacingError {
  return typeof err === 'object' && err !== null && (err as Record<symbol, unknown>)[MEPH_ERROR] === true;
}

/**
 * The guard for one library's errors: true only for errors extending `base` (compared by the
 * library name, so it also holds across copies of the library), false for other libraries' errors.
 */
export function errorGuard<T extends MephError>(base: abstract new (...args: never[]) => T): (err: unknown) => err is T {
  const library: unknown = (base.prototype as Partial<MephError>)[MEPH_ERROR_LIBRARY];
  if (typeof library !== 'string') throw new TypeError(`${base.name} names no library: declare it with mephErrorBase(library)`);
  return (err: unknown): err is T => isMephError(err) && (err as Partial<MephError>)[MEPH_ERROR_LIBRARY] === library;
}
