import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliCaptured } from '@meph/test-support';
import { spec } from '../main.js';
import { assertStreamIntact, JAMMY, listFiles, makeStream, NOBLE, productId, productsPath, readProducts, tempDir, versionMap } from './stream-fixture.js';

let dir: string;
const SERIALS = ['20260101', '20260201', '20260301', '20260301.1', '9'];
beforeAll(async () => {
  dir = await tempDir('meph-clean-md-');
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});
const env = { ...process.env, MEPH_SIGNING_KEY: '', MEPH_GPG_KEY: '', MEPH_KEYRING: '' };
const run = (args: string[]) => runCliCaptured(spec, args, { cwd: dir, env });

describe('meph2-util clean-md', () => {
  it('keeps the N lexically greatest versions per product and deletes no file (seed 11)', async () => {
    const root = path.join(dir, 's1');
    await makeStream(root, { serials: SERIALS, releases: [NOBLE, JAMMY] });
    const files = await listFiles(root);
    const r = await run(['clean-md', '-u', '2', 's1']);
    expect(r.code).toBe(0);
    const doc = await readProducts(root, productsPath('candidate'));
    // plain string order: '9' > '20260301.1' > '20260301' > …
    for (const versions of Object.values(versionMap(doc))) expect(versions).toEqual(['20260301.1', '9']);
    expect((await listFiles(root)).filter((f) => !f.startsWith('streams/'))).toEqual(files.filter((f) => !f.startsWith('streams/')));
    await assertStreamIntact(root);
  });

  it('accepts --max=N as the README shows, and filters choose the products', async () => {
    const root = path.join(dir, 's2');
    await makeStream(root, { serials: SERIALS, releases: [NOBLE, JAMMY] });
    const r = await run(['clean-md', '-u', '--max=3', 's2', 'release=jammy']);
    expect(r.code).toBe(0);
    const doc = await readProducts(root, productsPath('candidate'));
    expect(versionMap(doc)[productId('candidate', JAMMY, 'arm64', 'ga-22.04')]).toEqual(['20260301', '20260301.1', '9']);
    expect(versionMap(doc)[productId('candidate', NOBLE, 'amd64', 'ga-24.04')]).toHaveLength(5);
  });

  it('--dry-run lists the versions it would remove and changes nothing', async () => {
    const root = path.join(dir, 's2');
    const before = await fs.readFile(path.join(root, productsPath('candidate')), 'utf8');
    const r = await run(['clean-md', '-u', '-n', '--json', '1', 's2', 'release=noble']);
    expect(r.code).toBe(0);
    const removed = r.stdout.trim().split('\n').map((l) => JSON.parse(l)).filter((e) => e.type === 'version-removed');
    expect(removed).toHaveLength(8);
    expect(removed[0]).toMatchObject({ dryRun: true, content_id: 'com.ubuntu.maas:candidate:v3:download' });
    expect(await fs.readFile(path.join(root, productsPath('candidate')), 'utf8')).toBe(before);
  });

  it('rejects MAX 0 and a missing MAX with one line', async () => {
    expect((await run(['clean-md', '-u', '0', 's2'])).stderr).toMatch(/^meph2-util: error: clean-md: MAX must be a whole number ≥ 1/);
    const r = await run(['clean-md', '-u', 's2']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/expected MAX/);
  });

  it('then find-orphans / reap-orphans free the files (seed 10: first-seen kept, re-referenced dropped, --older, --now, -n)', async () => {
    const root = path.join(dir, 's3');
    await makeStream(root, { serials: SERIALS, releases: [NOBLE] });
    expect((await run(['clean-md', '-u', '3', 's3'])).code).toBe(0);
    const orphansFile = path.join(dir, 'orphans.json');
    expect((await run(['find-orphans', orphansFile, 's3'])).code).toBe(0);
    const read = async () => JSON.parse(await fs.readFile(orphansFile, 'utf8')) as Record<string, string>;
    const first = Object.fromEntries(Object.entries(await read()).filter(([k]) => !k.startsWith('/')));
    expect(Object.keys(first).sort()).toEqual((await listFiles(root)).filter((f) => /\/(20260101|20260201)\//.test(f)));
    // backdate the 20260101 entries by 4 days; a second find-orphans keeps first-seen times
    const old = new Date(Date.now() - 4 * 86_400_000).toUTCString().replace('GMT', '+0000');
    const backdated = Object.fromEntries(Object.entries(await read()).map(([k, v]) => [k, k.includes('/20260101/') ? old : v]));
    await fs.writeFile(orphansFile, JSON.stringify(backdated));
    expect((await run(['find-orphans', orphansFile, 's3'])).code).toBe(0);
    expect((await read())['noble/amd64/20260101/squashfs']).toBe(old);
    // a version inserted again references its (identical) files again: dropped from the file
    await makeStream(path.join(dir, 'rebuild'), { serials: ['20260201'], releases: [NOBLE] });
    expect((await run(['insert', '-u', 'rebuild', 's3'])).code).toBe(0);
    expect((await run(['find-orphans', orphansFile, 's3'])).code).toBe(0);
    expect(Object.keys(await read()).filter((k) => k.includes('/20260201/'))).toEqual([]);
    // -n deletes nothing; --older 3d deletes only the backdated ones; --now the rest
    const before = await listFiles(root);
    expect((await run(['reap-orphans', '-n', '--now', orphansFile, 's3'])).code).toBe(0);
    expect(await listFiles(root)).toEqual(before);
    expect((await run(['reap-orphans', '--older', '3d', orphansFile, 's3'])).code).toBe(0);
    expect((await listFiles(root)).filter((f) => f.includes('/20260101/'))).toEqual([]);
    await assertStreamIntact(root);
    expect((await run(['reap-orphans', '--now', orphansFile, 's3'])).code).toBe(0);
    await assertStreamIntact(root);
    expect((await listFiles(root)).filter((f) => !f.startsWith('streams/') && !f.startsWith('.')).every((f) => /\/(20260301|20260301\.1|9|20260201)\//.test(f))).toBe(true);
  });
});
