/**
 * Crash safety: each mutating command is SIGKILLed right after its n-th committed file (data
 * file, products file, index), for every n until it runs to the end. After each kill the stream
 * must still read, reference only files that exist with the right checksum, show either the old
 * or the new metadata, and a plain rerun must complete the job. Also: the single-writer lock.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withStreamLock } from '@meph/simplestreams';
import { runAppProcess } from '@meph/test-support';
import { spawnSync } from 'node:child_process';
import { assertStreamIntact, JAMMY, makeStream, NOBLE, productsPath, readProducts, tempDir, throwAwayKey, versionMap } from './stream-fixture.js';

let dir: string;
beforeAll(async () => {
  dir = await tempDir('meph-crash-');
  await makeStream(path.join(dir, 'candidate'), { label: 'candidate', serials: ['20260720', '20260722'], releases: [NOBLE, JAMMY] });
  await makeStream(path.join(dir, 'base-daily'), { label: 'candidate', serials: ['20260701', '20260710', '20260720'], releases: [NOBLE] });
  await makeStream(path.join(dir, 'base-stable'), { label: 'stable', serials: ['20260701'], releases: [JAMMY] });
  await fs.writeFile(
    path.join(dir, 'promote.yaml'),
    "com.ubuntu.maas:v3:download.json:\n  com.ubuntu.maas:v3:boot:22.04:.*:\n    versions:\n      '20260701': {}\n      '20260722': {labels: [candidate, stable]}\n    support_eol: {stable: '2027-06-01'}\n",
  );
}, 120_000);
afterAll(async () => {
  if (key) spawnSync('gpgconf', ['--kill', 'all'], { env: { ...process.env, GNUPGHOME: key.home } });
  await fs.rm(dir, { recursive: true, force: true });
});
let key: { home: string; secretKey: string; keyring: string } | undefined;

const env = { MEPH_SIGNING_KEY: '', MEPH_GPG_KEY: '', MEPH_KEYRING: '' };

interface Scenario {
  name: string;
  base: string;
  productsFile: string;
  args: (target: string) => string[];
}

const scenarios: Scenario[] = [
  { name: 'insert', base: 'base-daily', productsFile: productsPath('candidate'), args: (t) => ['insert', '-u', 'candidate', t, 'release=noble'] },
  { name: 'promote', base: 'base-daily', productsFile: productsPath('stable'), args: (t) => ['promote', '-u', 'candidate', t, '20260722', 'release=noble'] },
  { name: 'patch', base: 'base-stable', productsFile: productsPath('stable'), args: (t) => ['patch', '-u', 'candidate', t, '-i', 'promote.yaml'] },
  { name: 'clean-md', base: 'base-daily', productsFile: productsPath('candidate'), args: (t) => ['clean-md', '-u', '1', t] },
];

async function versionsOf(root: string, rel: string): Promise<Record<string, string[]> | undefined> {
  try {
    return versionMap(await readProducts(root, rel));
  } catch {
    return undefined;
  }
}

describe('crash safety (SIGKILL after each committed file)', () => {
  for (const s of scenarios) {
    it(`${s.name}: killed at every step, the stream stays readable and a rerun completes`, async () => {
      // the expected end state, from an uninterrupted run
      const ref = path.join(dir, `${s.name}-ref`);
      await fs.cp(path.join(dir, s.base), ref, { recursive: true });
      const oldVersions = await versionsOf(ref, s.productsFile);
      const full = await runAppProcess('meph2-util', [...s.args(ref), '--json'], { cwd: dir, env });
      expect(full.stderr).not.toMatch(/error/);
      expect(full.code).toBe(0);
      const newVersions = await versionsOf(ref, s.productsFile);
      expect(newVersions).not.toEqual(oldVersions);
      // commits: data files, then products files, then the index. Kill after the first and the
      // last data file, after each products file and after the index (then one past the end).
      const events = full.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string });
      const data = events.filter((e) => e.type === 'file-copied').length;
      const total = data + 2;
      const points = [...new Set([1, data, ...Array.from({ length: total - data + 1 }, (_, i) => data + i + 1)])].filter((n) => n >= 1);

      let killedAt = 0;
      for (const n of points) {
        const target = path.join(dir, `${s.name}-${n}`);
        await fs.cp(path.join(dir, s.base), target, { recursive: true });
        const r = await runAppProcess('meph2-util', s.args(target), { cwd: dir, env, crashAfter: n });
        if (r.signal !== 'SIGKILL') {
          expect(r.code).toBe(0); // fewer than n commits: it ran to the end
          break;
        }
        killedAt = n;
        // readers still see a complete stream: old or new metadata, every referenced file intact
        await assertStreamIntact(target);
        expect([JSON.stringify(oldVersions), JSON.stringify(newVersions)]).toContain(JSON.stringify(await versionsOf(target, s.productsFile)));
        const rerun = await runAppProcess('meph2-util', s.args(target), { cwd: dir, env });
        expect(rerun.code, rerun.stderr).toBe(0);
        await assertStreamIntact(target);
        expect(await versionsOf(target, s.productsFile)).toEqual(newVersions);
        const index = JSON.parse(await fs.readFile(path.join(target, 'streams/v1/index.json'), 'utf8'));
        const refIndex = JSON.parse(await fs.readFile(path.join(ref, 'streams/v1/index.json'), 'utf8'));
        expect(Object.fromEntries(Object.entries(index.index).map(([k, v]) => [k, (v as { products: string[] }).products]))).toEqual(
          Object.fromEntries(Object.entries(refIndex.index).map(([k, v]) => [k, (v as { products: string[] }).products])),
        );
        await fs.rm(target, { recursive: true, force: true });
      }
      expect(killedAt).toBe(total); // every point up to the index commit was a real kill
    }, 600_000);
  }
});

describe('crash safety of a signed stream (each document committed with its .sjson and .json.gpg)', () => {
  const signedScenarios: Array<{ name: string; args: (target: string, k: string) => string[] }> = [
    { name: 'insert', args: (t, k) => ['insert', '--key', k, 'candidate', t, 'release=noble'] },
    { name: 'clean-md', args: (t, k) => ['clean-md', '--key', k, '1', t] },
  ];
  beforeAll(async () => {
    key = await throwAwayKey(dir);
    await fs.cp(path.join(dir, 'base-daily'), path.join(dir, 'signed-base'), { recursive: true });
    const r = await runAppProcess('meph2-util', ['sign', '--key', key.secretKey, 'signed-base'], { cwd: dir, env });
    expect(r.code, r.stderr).toBe(0);
  }, 60_000);

  const verified = async (target: string): Promise<void> => {
    const v = await runAppProcess('meph2-util', ['verify', '--data', '--keyring', key!.keyring, target], { cwd: dir, env });
    expect(v.code, `${v.stdout}${v.stderr}`).toBe(0); // verify fails when a .sjson says something else than its .json
  };

  for (const s of signedScenarios) {
    it(`${s.name}: after a kill at every commit the twins agree and verify passes; a rerun completes`, async () => {
      const ref = path.join(dir, `signed-${s.name}-ref`);
      await fs.cp(path.join(dir, 'signed-base'), ref, { recursive: true });
      const full = await runAppProcess('meph2-util', [...s.args(ref, key!.secretKey), '--json'], { cwd: dir, env });
      expect(full.code, full.stderr).toBe(0);
      await verified(ref);
      const events = full.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string });
      const data = events.filter((e) => e.type === 'file-copied').length;
      const total = data + 2; // data files, the products file (with its signatures), the index (with its signatures)
      let killedAt = 0;
      for (let n = 1; n <= total + 1; n++) {
        if (n > 1 && n < data) continue; // the data files in between add nothing new
        const target = path.join(dir, `signed-${s.name}-${n}`);
        await fs.cp(path.join(dir, 'signed-base'), target, { recursive: true });
        const r = await runAppProcess('meph2-util', s.args(target, key!.secretKey), { cwd: dir, env, crashAfter: n });
        if (r.signal !== 'SIGKILL') {
          expect(r.code, r.stderr).toBe(0);
          break;
        }
        killedAt = n;
        await verified(target);
        const rerun = await runAppProcess('meph2-util', s.args(target, key!.secretKey), { cwd: dir, env });
        expect(rerun.code, rerun.stderr).toBe(0);
        await verified(target);
        expect(await versionsOf(target, productsPath('candidate'))).toEqual(await versionsOf(ref, productsPath('candidate')));
        expect((await fs.readdir(path.join(target, 'streams/v1'))).filter((n) => n.startsWith('.'))).toEqual([]); // no journal or temp left
        await fs.rm(target, { recursive: true, force: true });
      }
      expect(killedAt).toBe(total);
    }, 600_000);
  }
});

describe('single writer lock', () => {
  it('a second writer fails naming the holder pid, or waits with --wait-lock', async () => {
    const target = path.join(dir, 'locked');
    await fs.cp(path.join(dir, 'base-daily'), target, { recursive: true });
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let entered!: () => void;
    const holding = new Promise<void>((r) => (entered = r));
    const holder = withStreamLock(target, async () => {
      entered();
      await released;
    });
    await holding;
    const failed = await runAppProcess('meph2-util', ['insert', '-u', 'candidate', target], { cwd: dir, env });
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain(`is locked by another writer (pid ${process.pid})`);
    expect(await versionsOf(target, productsPath('candidate'))).toEqual(await versionsOf(path.join(dir, 'base-daily'), productsPath('candidate')));

    const waiting = runAppProcess('meph2-util', ['insert', '-u', '--wait-lock', 'candidate', target], { cwd: dir, env });
    await new Promise((r) => setTimeout(r, 2500));
    release();
    await holder;
    const waited = await waiting;
    expect(waited.code, waited.stderr).toBe(0);
    expect(versionMap(await readProducts(target, productsPath('candidate')))['com.ubuntu.maas.candidate:v3:boot:24.04:amd64:ga-24.04']).toContain('20260722');
  }, 120_000);
});
