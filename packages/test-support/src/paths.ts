import path from 'node:path';

/**
 * Absolute path of the repository root (for tests that read conf/, tools/ or the apps' sources).
 * This package is never published: it only exists inside the checkout, so its own place there
 * is what locates the root.
 */
export const REPO_ROOT = path.resolve(import.meta.dirname, '../../..');
/** The shared reference material beside the checkout (`../shared`). */
export const SHARED_DIR = path.resolve(REPO_ROOT, '..', 'shared');
