export { resolveDiSource, resolveNetbootSource, type DiSource, type DiSourceOptions, type NetbootSourceOptions } from './source.js';
export { crawlDiKernels, type CrawlDiOptions } from './crawl.js';
export { addDiItems, checkDiKernels, type PlannedKernelLine } from './add-items.js';
