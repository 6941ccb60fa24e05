export { MEPH_ERROR, isMephError, UsageError, ExitError, type UserFacingError } from './errors.js';
export { ignoreEvents, type MephEvent, type ProgressEvent, type EventSink } from './events.js';
export { createReporter, describeProgress, formatBytes, type Reporter, type ReporterOptions } from './reporter.js';
export { defineCommand, csvList, HTTP_HELP, type MephCommand, type CommandContext, type GlobalArgs } from './command.js';
export { runCli, main, type CliSpec, type CliIo } from './run.js';
export {
  withSigningOptions,
  withSigningKeyOptions,
  withKeyringOptions,
  checkSigningArgs,
  checkedSigning,
  type SigningSession,
  signIfWanted,
  signerFromArgs,
  signingWanted,
  verifierFromArgs,
  keyringsFromArgs,
  SIGNING_ENV,
  DEFAULT_KEYRING,
  type SigningArgs,
  type KeyringArgs,
} from './signing.js';
