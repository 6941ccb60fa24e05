export { expandProducts, flattenItems, applyAliases, pyStr, isInheritable, type FlattenOptions } from './expand.js';
export { parseFilter, parseFilters, matchesFilters, compilePythonRegex, type Filter, type FilterOp } from './filters.js';
export { compareVersions, newestFirst, resolveWork } from './versions.js';
export { selectItems, iterateSelectedItems, filterProducts, type SelectOptions, type SelectedItem } from './select.js';
export { queryProducts, queryStream, type QueryRecord, type QueryOptions } from './query.js';
export { compilePercentFormat, pyRepr, pyReprString, pyJsonString, pythonJsonChunks, toPythonJson, type PercentResult } from './output.js';
