import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach } from 'vitest';

/** The running test's own directory, as {@link useTempDir} hands it out. */
export interface TempDir {
  /** Absolute path of the running test's directory; throws when no test of this scope is running. */
  readonly path: string;
}

/**
 * Gives every test in the calling scope a fresh, empty directory of its own: registers a
 * `beforeEach` that makes it under `os.tmpdir()` named `prefix` + random suffix, and an
 * `afterEach` that removes it with everything in it, whether the test passed or failed. Call it
 * at module level or inside a `describe` (the hooks apply where they are registered) and read
 * `.path` in the tests and in hooks registered after it; read anywhere else it throws rather
 * than hand out a directory that is gone or belongs to another test.
 */
export function useTempDir(prefix: string): TempDir {
  let current: string | undefined;
  beforeEach(async () => {
    current = await fsp.mkdtemp(path.join(os.tmpdir(), prefix));
  });
  afterEach(async () => {
    const dir = current;
    current = undefined;
    if (dir !== undefined) await fsp.rm(dir, { recursive: true, force: true });
  });
  return {
    get path(): string {
      if (current === undefined) throw new Error(`useTempDir('${prefix}'): .path is only there while a test of the scope that called useTempDir runs`);
      return current;
    },
  };
}
