export { MEPH_ERROR, isMephError, CliError, isCliError, UsageError, ExitError, type UserFacingError } from './errors.js';
export { ignoreEvents, type MephEvent, type ProgressEvent, type EventSink } from './events.js';
export { createReporter, describeProgress, formatBytes, type Reporter, type ReporterOptions } from './reporter.js';
export { defineCommand, csvList, withVerbosityOptions, HTTP_HELP, type MephCommand, type CommandContext, type GlobalArgs, type VerbosityArgs } from './command.js';
export { runCli, main, defineCli, type CliSpec, type RunnableCliSpec, type CliIo, type LazyCommand } from './run.js';
export { packageConfDir } from './conf-dir.js';
export { publishCommit, COMMIT_CHANNEL, type CommitMessage } from './commit-channel.js';
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
  SS_GPG_DEFAULT_KEY,
  defaultGpgSecretKey,
  DEFAULT_KEYRING,
  SIGNATURE_POLICY_HELP,
  DOCUMENT_LIMITS_HELP,
  type SigningArgs,
  type KeyringArgs,
} from './signing.js';
export { withOptInSigningOptions, optInSigning } from './signing.js';
