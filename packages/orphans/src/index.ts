export * from './errors.js';
export { parseDuration } from './duration.js';
export { parseRfc2822 } from './timestamp.js';
export {
  readOrphansFile,
  parseOrphansFile,
  formatOrphansFile,
  writeOrphansFile,
  sidecarPath,
  orphansFileExists,
  LEGACY_STREAMS_KEY,
  SIDECAR_FORMAT,
  type OrphansFile,
} from './orphans-file.js';
export {
  collectReferences,
  loadEveryDocument,
  normalizeStreamArg,
  RealDirResolver,
  type References,
  type StreamReferences,
  type StreamReadOptions,
  type StreamToRead,
  type PoolListing,
} from './references.js';
export { walkPool, isNotData, SKIPPED_TOP_LEVEL, type PoolEntry, type PoolWalk } from './walk.js';
export { scanPool, LAYOUT_MAJORITY, type PoolScan, type ScanOptions } from './pool.js';
export { findOrphans, realDataDirOf, bookkeepingFiles, type FindOrphansOptions, type FindOrphansResult, type OrphanEvent } from './find.js';
export { reapOrphans, DEFAULT_GRACE_MS, type ReapOrphansOptions, type ReapOrphansResult } from './reap.js';
