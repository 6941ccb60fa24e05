export * from './plan.js';
export * from './naming.js';
export * from './release-info.js';
