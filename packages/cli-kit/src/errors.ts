import { errorGuard, mephErrorBase } from '@meph/errors';

// The brand and guard every library error carries; runCli prints branded errors as one line, not a stack.
export { MEPH_ERROR, isMephError, type UserFacingError } from '@meph/errors';

/** Base of the errors the CLI layer itself raises. */
export abstract class CliError extends mephErrorBase('@meph/cli-kit') {}
export const isCliError = errorGuard(CliError);

/** Raised by the CLI layer itself for bad usage (conflicting flags, bad values). */
export class UsageError extends CliError {
  override readonly name = 'UsageError';
  constructor(message: string, hint?: string) {
    super(message, { exitCode: 2, ...(hint ? { hint } : {}) });
  }
}

/** Ends a command with a given exit code after it has already reported why. */
export class ExitError extends Error {
  override readonly name = 'ExitError';
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
  }
}
