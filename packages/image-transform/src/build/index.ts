export { buildVersion, makeConvertRequest, type BuildVersionOptions, type BuildResult } from './build-version.js';
export { expandedProducts, condensedProducts, flatItems, flatJsonText, type FileDigests } from './products-doc.js';
export { removeStaleTempAreas, createTempArea, TEMP_PREFIX } from './temp-area.js';
