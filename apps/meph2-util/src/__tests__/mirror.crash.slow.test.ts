/**
 * Crash safety of `meph2-util mirror` (issue 13): a mirror of a stream that moved on (one version
 * added, one dropped) is SIGKILLed right after its n-th committed file, for every n until it runs
 * to the end. After each kill the target still serves the previous or the new stream (products
 * bytes of one of them, every file it lists present and verified); a plain rerun completes it
 * and, counted at the server, no file is downloaded in full twice. Run with files streamed to
 * disk (200 kB) and with small files (4 kB), whose stat, write, close and rename are synchronous.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAppProcess } from '@meph/test-support';
import { startFixtureServer, type FixtureServer } from '../../../../tools/fixture-server/index.js';
import { assertStreamIntact, listFiles, makeStream, productsPath, tempDir } from './stream-fixture.js';

const ENV = { http_proxy: '', https_proxy: '', MEPH_HTTP_RETRIES: '1' };
const PRODUCTS = productsPath('candidate');
const SIZES = { streamed: 200_000, small: 4_096 } as const;

let dir: string;
let server: FixtureServer;
beforeAll(async () => {
  dir = await tempDir('meph-mirror-crash-');
  for (const [kind, fileBytes] of Object.entries(SIZES)) {
    await makeStream(path.join(dir, `srv/${kind}/s1`), { serials: ['20260101', '20260102'], fileBytes });
    await makeStream(path.join(dir, `srv/${kind}/s2`), { serials: ['20260102', '20260103'], fileBytes });
  }
  server = await startFixtureServer({ root: path.join(dir, 'srv') });
}, 60_000);
afterAll(async () => {
  await server?.close();
  await fs.rm(dir, { recursive: true, force: true });
});

const mirror = (from: string, target: string, crashAfter?: number) =>
  runAppProcess('meph2-util', ['mirror', '--max', '2', `${server.url}/${from}/`, target], { cwd: dir, env: ENV, timeoutMs: 120_000, ...(crashAfter ? { crashAfter } : {}) });

/** Full (200) data GETs per path since `from`. */
function fullGets(from: number): Map<string, number> {
  const m = new Map<string, number>();
  for (const q of server.requests.slice(from)) if (q.method === 'GET' && q.status === 200 && !q.path.includes('/streams/v1/')) m.set(q.path, (m.get(q.path) ?? 0) + 1);
  return m;
}

describe('mirror crash safety (SIGKILL after each committed file)', () => {
  it.each(Object.keys(SIZES) as Array<keyof typeof SIZES>)('%s files: killed at every step, the target serves the old or the new stream and a rerun completes without downloading twice', async (kind) => {
    const s1 = `${kind}/s1`;
    const s2 = `${kind}/s2`;
    const oldProducts = await fs.readFile(path.join(dir, 'srv', s1, PRODUCTS), 'utf8');
    const newProducts = await fs.readFile(path.join(dir, 'srv', s2, PRODUCTS), 'utf8');
    const base = path.join(dir, `${kind}-base`);
    expect((await mirror(s1, base)).code).toBe(0);
    const ref = path.join(dir, `${kind}-ref`);
    await fs.cp(base, ref, { recursive: true });
    expect((await mirror(s2, ref)).code).toBe(0);
    const refFiles = await listFiles(ref);
    expect(refFiles.some((f) => f.includes('20260101'))).toBe(false);

    let completed = false;
    for (let n = 1; n < 30 && !completed; n++) {
      const t = path.join(dir, `${kind}-t${n}`);
      await fs.cp(base, t, { recursive: true });
      const mark = server.requests.length;
      const killed = await mirror(s2, t, n);
      if (killed.code === 0 && killed.signal === null) {
        completed = true;
      } else {
        expect(killed.signal, killed.stderr).toBe('SIGKILL');
        const products = await fs.readFile(path.join(t, PRODUCTS), 'utf8');
        expect([oldProducts, newProducts]).toContain(products);
        await assertStreamIntact(t);
        // Files committed before the kill are never fetched again; a download the kill cut
        // short may be (with Range from its .part, or whole when none of its bytes reached disk).
        const committed = new Set((await listFiles(t)).filter((f) => !f.includes('/streams/v1/') && !f.startsWith('streams/') && !f.endsWith('.part')).map((f) => `/${s2}/${f}`));
        const beforeRerun = server.requests.length;
        const rerun = await mirror(s2, t);
        expect(rerun.code, rerun.stderr).toBe(0);
        const refetched = server.requests.slice(beforeRerun).filter((q) => q.method === 'GET' && committed.has(q.path));
        expect(refetched.map((q) => q.path), `n=${n}`).toEqual([]);
      }
      expect(await fs.readFile(path.join(t, PRODUCTS), 'utf8')).toBe(newProducts);
      await assertStreamIntact(t);
      expect((await listFiles(t)).filter((f) => !f.endsWith('.lock'))).toEqual(refFiles.filter((f) => !f.endsWith('.lock')));
      // at most the cut-short download and its one whole re-fetch
      for (const [p, count] of fullGets(mark)) expect(count, `${p} at n=${n}`).toBeLessThanOrEqual(2);
      await fs.rm(t, { recursive: true, force: true });
    }
    expect(completed).toBe(true);
  }, 600_000);
});
