export { condenseProducts, maasCondense, MEPH2_UTIL_STICKY, MEPH2_BUILD_STICKY, MAAS_ITEM_FIELDS, MAAS_VERSION_ONLY_FIELDS, MAAS_PRODUCT_AND_VERSION_FIELDS, type CondenseOptions } from './condense.js';
export { serializeJson, serializeJsonChunks } from './serialize.js';
export { formatUpdated } from './updated.js';
export { buildIndex, regenerateIndex, listProductsFiles, STREAMS_DIR, INDEX_PATH, type IndexSource, type RegenerateIndexOptions } from './index-doc.js';
export { writeFileAtomic, writeJsonAtomic, isTempName, tempPathFor, fsyncDir, TEMP_SUFFIX, JOURNAL_SUFFIX, FILE_MODE, DIR_MODE, mkdirPublic, syncAndRename, moveIntoPlace, replaceFilesTogether, prepareFiles, rollForwardJournals, type FileReplacement, type FileData, type FileGroup, type PreparedFiles } from './atomic.js';
export { TargetConfinement } from './confine.js';
export { hashFile, verifyFile, copyFileVerified, CHECKSUM_ALGORITHMS, type ChecksumAlgorithm, type FileDigest, type PlacedBy, type CopyOptions } from './checksum.js';
export { withStreamLock, LOCK_FILE, type StreamLockOptions, type StreamLockHold } from './lock.js';
export { commitStreamUpdate, recoverInterruptedWrites, type DocumentSigner, type StreamUpdate, type DataFileUpdate, type CommitEvent, type CommitResult } from './commit.js';
