export * from './errors.js';
export * from './converter.js';
export * from './config/index.js';
export * from './metadata/index.js';
export * from './build/index.js';
export * from './fake/index.js';
export * from './pipeline/index.js';
export * from './boot/index.js';
