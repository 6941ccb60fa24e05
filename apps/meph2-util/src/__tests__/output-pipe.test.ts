import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAppProcess } from '@meph/test-support';
import { JAMMY, makeStream, NOBLE, productsPath, readProducts, tempDir, versionMap } from './stream-fixture.js';

// Output goes to pipes whose reader may stop early (`meph2-util query … | head`): the process,
// run as users run it, must neither fail nor print an error for it, nor leave an edit half-done.
let dir: string;
// 200 versions × 4 products: megabytes of `query --json`, ~100 KB of clean-md lines, far more than a pipe holds
const SERIALS = Array.from({ length: 200 }, (_, i) => String(20260000 + i));
beforeAll(async () => {
  dir = await tempDir('meph-output-pipe-');
  for (const s of ['s1', 's2']) await makeStream(path.join(dir, s), { serials: SERIALS, releases: [NOBLE, JAMMY], fileBytes: 16 });
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});
const env = { MEPH_SIGNING_KEY: '', MEPH_GPG_KEY: '', MEPH_KEYRING: '' };

async function expectCleaned(stream: string): Promise<void> {
  const doc = await readProducts(path.join(dir, stream), productsPath('candidate'));
  for (const versions of Object.values(versionMap(doc))) expect(versions).toEqual(SERIALS.slice(-2));
}

describe('output to a reader that goes away', () => {
  it('query | head: status 0, nothing on stderr', async () => {
    const r = await runAppProcess('meph2-util', ['query', '--json', 's1/streams/v1/index.json'], { cwd: dir, env, stdoutLimit: 100 });
    expect(r.stdout).toHaveLength(100);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
  });

  it('clean-md --json | head: the change is made all the same', async () => {
    const r = await runAppProcess('meph2-util', ['clean-md', '--json', '-u', '2', 's1'], { cwd: dir, env, stdoutLimit: 100 });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    await expectCleaned('s1');
  });

  it('clean-md 2>&1 | head (its lines on stderr): the change is made, status 0', async () => {
    const r = await runAppProcess('meph2-util', ['clean-md', '-u', '2', 's2'], { cwd: dir, env, stderrLimit: 100 });
    expect(r.stderr).toMatch(/^version-removed /);
    expect(r.code).toBe(0);
    await expectCleaned('s2');
  });
});
