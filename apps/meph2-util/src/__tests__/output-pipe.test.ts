import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAppProcess } from '@meph/test-support';
import { JAMMY, makeStream, NOBLE, productsPath, readProducts, tempDir, versionMap } from './stream-fixture.js';

// Output goes to pipes whose reader may stop early (`meph2-util query … | head`): the process,
// run as users run it, must neither fail nor print an error for it.
let dir: string;
// 40 versions × 4 products × 4 items: about 400 KB of `query --json`, far more than a pipe holds
const SERIALS = Array.from({ length: 40 }, (_, i) => `2026${String(101 + i).padStart(4, '0')}`);
beforeAll(async () => {
  dir = await tempDir('meph-output-pipe-');
  await makeStream(path.join(dir, 's'), { serials: SERIALS, releases: [NOBLE, JAMMY], fileBytes: 16 });
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});
const env = { MEPH_SIGNING_KEY: '', MEPH_GPG_KEY: '', MEPH_KEYRING: '' };

describe('output to a reader that goes away', () => {
  it('query | head: status 0, nothing on stderr', async () => {
    const r = await runAppProcess('meph2-util', ['query', '--json', 's/streams/v1/index.json'], { cwd: dir, env, stdoutLimit: 100 });
    expect(r.stdout).toHaveLength(100);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
  });

  it('clean-md --json | head: the change is made all the same', async () => {
    const r = await runAppProcess('meph2-util', ['clean-md', '--json', '-u', '2', 's'], { cwd: dir, env, stdoutLimit: 100 });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    const doc = await readProducts(path.join(dir, 's'), productsPath('candidate'));
    for (const versions of Object.values(versionMap(doc))) expect(versions).toEqual(SERIALS.slice(-2));
  });
});
