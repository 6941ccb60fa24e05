export * from './model.js';
export * from './errors.js';
export * from './paths.js';
// read side: parsing, clearsigned extraction, fs/http sources, expand, filters, ordering, query
export * from './read/index.js';
export * from './flatten/index.js';
// write side: condense, stable serialisation, atomic writes, index generation, checksums, lock
export * from './write/index.js';
