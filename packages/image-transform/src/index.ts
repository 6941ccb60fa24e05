export * from './errors.js';
export * from './converter.js';
