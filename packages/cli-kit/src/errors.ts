/** Brand shared by every meph library error: the CLI prints these as one line, not a stack. */
export const MEPH_ERROR = Symbol.for('meph.error');

export interface UserFacingError extends Error {
  readonly [MEPH_ERROR]: true;
  /** What the user can do about it, printed after the message. */
  readonly hint?: string;
  /** Process exit code the CLI should use (default 1). */
  readonly exitCode?: number;
}

export function isMephError(err: unknown): err is UserFacingError {
  return typeof err === 'object' && err !== null && (err as Record<symbol, unknown>)[MEPH_ERROR] === true;
}

/** Raised by the CLI layer itself for bad usage (conflicting flags, bad values). */
export class UsageError extends Error implements UserFacingError {
  override readonly name = 'UsageError';
  readonly [MEPH_ERROR] = true as const;
  readonly exitCode = 2;
  constructor(message: string, readonly hint?: string) {
    super(message);
  }
}

/** Ends a command with a given exit code after it has already reported why. */
export class ExitError extends Error {
  override readonly name = 'ExitError';
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
  }
}
