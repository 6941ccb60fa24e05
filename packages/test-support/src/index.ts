export { REPO_ROOT, SHARED_DIR } from './paths.js';
export { runAppProcess, runCliCaptured, staleHelpPages, type AppName, type AppProcessOptions, type CliResult, type RunnableCli } from './cli.js';
export { expandByHand, maasNobleFixture } from './streams.js';
export { useTempDir, type TempDir } from './temp-dir.js';
