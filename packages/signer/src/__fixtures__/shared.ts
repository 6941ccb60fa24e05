import path from 'node:path';

/**
 * The shared reference material beside the checkout (`<repo>/../shared`), computed the same
 * way as `SHARED_DIR` of `@meph/cli-kit/testing`. Not imported from there: cli-kit depends on
 * this package, and a test import back would make the two packages depend on each other.
 */
export const SHARED_DIR = path.resolve(import.meta.dirname, '..', '..', '..', '..', '..', 'shared');
