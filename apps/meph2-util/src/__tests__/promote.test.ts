import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expandProducts } from '@meph/simplestreams';
import { runCliCaptured } from '@meph/cli-kit/testing';
import { spec } from '../main.js';
import { assertStreamIntact, JAMMY, listFiles, makeStream, NOBLE, readProducts, tempDir, versionMap } from './stream-fixture.js';

let dir: string;
beforeAll(async () => {
  dir = await tempDir('meph-promote-');
  await makeStream(path.join(dir, 'candidate'), { serials: ['20260720', '20260722'], releases: [NOBLE, JAMMY] });
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});
const env = { ...process.env, MEPH_SIGNING_KEY: '', MEPH_GPG_KEY: '', MEPH_KEYRING: '' };
const run = (args: string[]) => runCliCaptured(spec, args, { cwd: dir, env });
const RELEASED = 'streams/v1/com.ubuntu.maas:v3:download.json';

describe('meph2-util promote', () => {
  it('copies one version, renames the content id and product ids, relabels items (seed 12)', async () => {
    const r = await run(['promote', '-u', '-l', 'rc', 'candidate', 'released', '20260720', 'release=noble']);
    expect(r.stderr).toContain('filter_list=["release=noble","version_name=20260720"]');
    expect(r.code).toBe(0);
    const doc = await readProducts(path.join(dir, 'released'), RELEASED);
    expect(doc.content_id).toBe('com.ubuntu.maas:v3:download');
    expect(versionMap(doc)).toEqual({
      'com.ubuntu.maas:v3:boot:24.04:amd64:ga-24.04': ['20260720'],
      'com.ubuntu.maas:v3:boot:24.04:amd64:hwe-24.04': ['20260720'],
    });
    const expanded = expandProducts(doc);
    for (const p of Object.values(expanded.products)) for (const v of Object.values(p.versions)) for (const item of Object.values(v.items)) expect(item['label']).toBe('rc');
    expect(doc.products['com.ubuntu.maas:v3:boot:24.04:amd64:ga-24.04']?.['label']).toBe('rc');
    expect(await assertStreamIntact(path.join(dir, 'released'))).toBe(8);
    expect((await listFiles(path.join(dir, 'released'))).filter((f) => f.startsWith('jammy'))).toEqual([]);
  });

  it('adds further versions next to the promoted ones; the default label is "release"', async () => {
    const r = await run(['promote', '-u', 'candidate', 'released', '20260722']);
    expect(r.code).toBe(0);
    const doc = await readProducts(path.join(dir, 'released'), RELEASED);
    expect(versionMap(doc)['com.ubuntu.maas:v3:boot:24.04:amd64:ga-24.04']).toEqual(['20260720', '20260722']);
    expect(versionMap(doc)['com.ubuntu.maas:v3:boot:22.04:arm64:ga-22.04']).toEqual(['20260722']);
    const labels = new Set<unknown>();
    for (const [vname, v] of Object.entries(expandProducts(doc).products['com.ubuntu.maas:v3:boot:24.04:amd64:ga-24.04']!.versions)) for (const i of Object.values(v.items)) labels.add(`${vname}:${String(i['label'])}`);
    expect([...labels].sort()).toEqual(['20260720:rc', '20260722:release']);
    await assertStreamIntact(path.join(dir, 'released'));
  });

  it('rejects a label outside the original choices', async () => {
    const r = await run(['promote', '-u', '-l', 'gold', 'candidate', 'released', '20260722']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Invalid values/);
  });

  it('--skip-file-copy writes metadata only', async () => {
    const r = await run(['promote', '-u', '--skip-file-copy', 'candidate', 'meta-only', '20260722', 'release=jammy']);
    expect(r.code).toBe(0);
    expect((await listFiles(path.join(dir, 'meta-only'))).filter((f) => !f.startsWith('streams/') && !f.startsWith('.'))).toEqual([]);
  });
});
