import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliCaptured } from '@meph/test-support';
import { spec } from '../main.js';
import { assertStreamIntact, JAMMY, listFiles, makeStream, NOBLE, productId, productsPath, readProducts, tempDir, versionMap } from './stream-fixture.js';

let dir: string;
beforeAll(async () => {
  dir = await tempDir('meph-remove-version-');
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});
const env = { ...process.env, MEPH_SIGNING_KEY: '', MEPH_GPG_KEY: '', MEPH_KEYRING: '' };
const run = (args: string[]) => runCliCaptured(spec, args, { cwd: dir, env });

describe('meph2-util remove-version', () => {
  it('removes the version from products whose own fields match (seed 16), metadata only', async () => {
    const root = path.join(dir, 's');
    await makeStream(root, { serials: ['20260720', '20260722'], releases: [NOBLE, JAMMY] });
    const files = await listFiles(root);
    const r = await run(['remove-version', '-u', '--json', 's', '20260720', 'release~(jammy|xenial)', 'arch=amd64']);
    expect(r.code).toBe(0);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l)).filter((e) => e.type === 'version-removed');
    expect(events.map((e) => e.product)).toEqual([productId('candidate', JAMMY, 'amd64', 'ga-22.04')]);
    const doc = await readProducts(root, productsPath('candidate'));
    expect(versionMap(doc)[productId('candidate', JAMMY, 'amd64', 'ga-22.04')]).toEqual(['20260722']);
    expect(versionMap(doc)[productId('candidate', JAMMY, 'arm64', 'ga-22.04')]).toEqual(['20260720', '20260722']);
    expect(versionMap(doc)[productId('candidate', NOBLE, 'amd64', 'ga-24.04')]).toEqual(['20260720', '20260722']);
    expect((await listFiles(root)).filter((f) => !f.startsWith('streams/'))).toEqual(files.filter((f) => !f.startsWith('streams/')));
  });

  it('filters see product-level fields only: an item-level field never matches', async () => {
    const r = await run(['remove-version', '-u', '--json', 's', '20260722', 'ftype=squashfs']);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('version-removed');
  });

  it('-n changes nothing; removing the last version removes the product', async () => {
    const root = path.join(dir, 's');
    const before = await fs.readFile(path.join(root, productsPath('candidate')), 'utf8');
    expect((await run(['remove-version', '-u', '-n', 's', '20260722'])).code).toBe(0);
    expect(await fs.readFile(path.join(root, productsPath('candidate')), 'utf8')).toBe(before);
    const r = await run(['remove-version', '-u', '--json', 's', '20260722', 'arch=amd64', 'release=jammy']);
    expect(r.stdout).toContain('"type":"product-removed"');
    const doc = await readProducts(root, productsPath('candidate'));
    expect(doc.products[productId('candidate', JAMMY, 'amd64', 'ga-22.04')]).toBeUndefined();
    await assertStreamIntact(root);
  });
});

