// The simplestreams format: what a reader or writer of streams needs, nothing more. Stream
// editing is @meph/stream-ops, the MAAS acceptance rules are @meph/maas-rules, and the mirror
// writer is the `./mirror` entry point (only its users load it).

// Documents (index:1.0, products:1.0) and the signature-verifier hook.
export * from './model.js';
// Typed errors, all branded, so a CLI prints any of them as one line with its hint.
export * from './errors.js';
// Paths taken from metadata, checked before use.
export { assertSafeRelativePath, resolveInside } from './paths.js';

// Reading: parse and validate documents, clearsigned framing, locations, sources (files or
// HTTP through @meph/http), whole streams under one signature policy.
export { parseJson, parseJsonObject, parseProducts, parseIndex, parseDocument, type ParseOptions } from './read/index.js';
export { isClearsigned, extractClearsignedPayload, splitClearsigned, type ClearsignedParts } from './read/index.js';
export { isHttpUrl, resolveStreamLocation, signedSibling, resolveWriteTarget, type StreamLocation, type WriteTarget } from './read/index.js';
export { openSource, readMetadataFile, type StreamSource, type SourceOptions, type ReadOptions, type ReadDocumentResult } from './read/index.js';
export { loadStream, effectivePolicy, assertProductsPathsSafe, type LoadedStream, type LoadedProducts, type LoadStreamOptions } from './read/index.js';

// Expanding, filtering, version order and sstream-query's output forms.
export { expandProducts, flattenItems, scalarText, isInheritable, type FlattenOptions } from './flatten/index.js';
export { parseFilters, matchesFilters, filterProducts, type Filter, type FilterOp } from './flatten/index.js';
export { compareVersions, newestFirst, resolveWork } from './flatten/index.js';
export { queryStream, type QueryRecord, type QueryOptions } from './flatten/index.js';
export { compilePercentFormat, pyRepr, pythonJsonChunks, type PercentResult } from './flatten/index.js';

// Writing: condense, stable serialisation, the index, atomic files, verified copies, the lock,
// and commitStreamUpdate (data first, products next, index last).
export { condenseProducts, maasCondense, MEPH2_UTIL_STICKY, MEPH2_BUILD_STICKY, type CondenseOptions } from './write/index.js';
export { serializeJson, serializeJsonChunks, formatUpdated } from './write/index.js';
export { buildIndex, regenerateIndex, listProductsFiles, STREAMS_DIR, INDEX_PATH, type IndexSource, type RegenerateIndexOptions } from './write/index.js';
export { writeFileAtomic, writeJsonAtomic, tempPathFor, fsyncDir, mkdirPublic, moveIntoPlace, prepareFiles, type FileReplacement, type FileData, type FileGroup, type PreparedFiles } from './write/index.js';
export { TargetConfinement } from './write/index.js';
export { hashFile, verifyFile, copyFileVerified, CHECKSUM_ALGORITHMS, type ChecksumAlgorithm, type FileDigest, type PlacedBy, type CopyOptions } from './write/index.js';
export { withStreamLock, LOCK_FILE, type StreamLockOptions, type StreamLockHold } from './write/index.js';
export { commitStreamUpdate, recoverInterruptedWrites, type DocumentSigner, type StreamUpdate, type DataFileUpdate, type CommitEvent, type CommitResult } from './write/index.js';
