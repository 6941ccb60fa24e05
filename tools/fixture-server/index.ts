export * from './server.js';
export * from './gpg.js';
export * from './make-archive.js';
export * from './make-feed.js';
export * from './proxy.js';
