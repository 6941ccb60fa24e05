export * from './errors.js';
export { parseDuration } from './duration.js';
export { parseRfc2822 } from './timestamp.js';
export { readOrphansFile, parseOrphansFile, formatOrphansFile, writeOrphansFile, STREAMS_KEY, type OrphansFile } from './orphans-file.js';
export { collectReferences, normalizeStreamArg, RealDirResolver, type References, type StreamReadOptions } from './references.js';
export { walkPool, SKIPPED_TOP_LEVEL, type PoolEntry } from './walk.js';
export { scanPool, type PoolScan } from './pool.js';
export { findOrphans, defaultStreams, type FindOrphansOptions, type FindOrphansResult, type OrphanEvent } from './find.js';
export { reapOrphans, DEFAULT_GRACE_MS, type ReapOrphansOptions, type ReapOrphansResult } from './reap.js';
