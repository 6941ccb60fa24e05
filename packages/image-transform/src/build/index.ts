export { buildVersion, makeConvertRequest, type BuildVersionOptions, type BuildResult } from './build-version.js';
export { commitProducts, mergeProducts, type CommitProductsOptions, type CommittedProducts } from './commit-products.js';
export { expandedProducts, condensedProducts, flatItems, flatJsonText, type FileDigests } from './products-doc.js';
export { removeStaleTempAreas, createTempArea, TEMP_PREFIX } from './temp-area.js';
