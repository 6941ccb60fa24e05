export { ubuntuDiArchive, resolveDiSource, DI_KEYRINGS, type DiSource, type DiSourceOptions } from './source.js';
export { crawlDiKernels, type CrawlDiOptions } from './crawl.js';
export { addDiItems, checkDiKernels, type PlannedKernelLine } from './add-items.js';
