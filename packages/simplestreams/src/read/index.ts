export { parseJson, parseJsonObject, locateJsonError } from './json.js';
export { lineAndColumn } from './text-position.js';
export { parseProducts, parseIndex, parseDocument, type ParseOptions } from './documents.js';
export { isClearsigned, extractClearsignedPayload, splitClearsigned, type ClearsignedParts } from './clearsign.js';
export {
  DEFAULT_INDEX_PATH,
  DEFAULT_SIGNED_INDEX_PATH,
  isHttpUrl,
  splitMirrorUrl,
  resolveStreamLocation,
  signedSibling,
  resolveWriteTarget,
  type StreamLocation,
  type WriteTarget,
} from './location.js';
export { openSource, readMetadataFile, type StreamSource, type SourceOptions, type ReadOptions, type ReadDocumentResult } from './source.js';
export { loadStream, effectivePolicy, assertProductsPathsSafe, type LoadedStream, type LoadedProducts, type LoadStreamOptions } from './load.js';
export {
  checkJsonText,
  decodeUtf8Strict,
  jsonPathAt,
  maxDocumentBytes,
  DEFAULT_MAX_DOCUMENT_BYTES,
  MAX_DOCUMENT_BYTES_ENV,
  MAX_JSON_DEPTH,
} from './limits.js';
