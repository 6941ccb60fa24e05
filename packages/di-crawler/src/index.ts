export * from './errors.js';
export * from './classify.js';
export * from './checksums.js';
export * from './listing.js';
export * from './distro-info.js';
export * from './crawl.js';
export * from './kernel-info.js';
export * from './netboot-mirror.js';
