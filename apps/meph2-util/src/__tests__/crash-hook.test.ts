/**
 * The crash-safety tests' SIGKILL hook is not in the shipped command: an environment variable
 * cannot make meph2-util kill itself; only @meph/test-support's preload (crashAfter) can, via
 * the `meph:commit` diagnostics channel the commands announce committed files on.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAppProcess } from '@meph/test-support';
import { assertStreamIntact, makeStream, NOBLE, tempDir } from './stream-fixture.js';

let dir: string;
beforeAll(async () => {
  dir = await tempDir('meph-crash-hook-');
  await makeStream(path.join(dir, 'base'), { label: 'candidate', serials: ['20260701', '20260710', '20260720'], releases: [NOBLE] });
});
afterAll(() => fs.rm(dir, { recursive: true, force: true }));

const env = { MEPH_SIGNING_KEY: '', MEPH_GPG_KEY: '', MEPH_KEYRING: '' };

describe('crash hook', () => {
  it('MEPH_TEST_CRASH_AFTER alone does nothing to the production command', async () => {
    const target = path.join(dir, 'env-only');
    await fs.cp(path.join(dir, 'base'), target, { recursive: true });
    const r = await runAppProcess('meph2-util', ['clean-md', '-u', '1', target], { cwd: dir, env: { ...env, MEPH_TEST_CRASH_AFTER: '1' } });
    expect(r.signal).toBeNull();
    expect(r.code, r.stderr).toBe(0);
  });

  it('the test preload kills the command after its first committed file, leaving a readable stream', async () => {
    const target = path.join(dir, 'preload');
    await fs.cp(path.join(dir, 'base'), target, { recursive: true });
    const r = await runAppProcess('meph2-util', ['clean-md', '-u', '1', target], { cwd: dir, env, crashAfter: 1 });
    expect(r.signal).toBe('SIGKILL');
    await assertStreamIntact(target);
  });
});
