import path from 'node:path';
import type { UserWorkspaceConfig } from 'vitest/config';

/**
 * Test tiers: `fast` (default for developers via `npm run test:fast`) skips files named
 * `*.slow.test.ts` / `*.e2e.test.ts`, which need root, real images, qemu or big fixtures.
 * CI runs everything.
 */
export const isFastTier = process.env['MEPH_TEST_TIER'] === 'fast';

export function projectDefaults(dir: string): UserWorkspaceConfig {
  return {
    resolve: { conditions: ['@meph/source'] },
    ssr: { resolve: { conditions: ['@meph/source'], externalConditions: ['@meph/source'] } },
    test: {
      name: path.basename(dir),
      root: dir,
      include: ['src/**/*.test.ts'],
      exclude: isFastTier ? ['**/node_modules/**', 'src/**/*.slow.test.ts', 'src/**/*.e2e.test.ts'] : ['**/node_modules/**'],
      environment: 'node',
      // Every test that rewrites a stream checks that the product texts it reuses are still
      // right (an op that changed a product in place would be written as it was read).
      env: { MEPH_CHECK_REUSED_TEXT: '1' },
      testTimeout: 60_000,
      hookTimeout: 120_000,
    },
  };
}
