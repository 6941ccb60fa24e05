import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildIndex, expandProducts } from '@meph/simplestreams';
import { runCliCaptured } from '@meph/test-support';
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
const RELEASED = 'streams/v1/com.ubuntu.maas:stable:v3:download.json';
const LABELLESS = 'streams/v1/com.ubuntu.maas:v3:download.json';

describe('meph2-util promote', () => {
  it('copies one version into a new target under the target label (stable), relabels items (seed 12, label kept for diff/patch)', async () => {
    const r = await run(['promote', '-u', '-l', 'rc', 'candidate', 'released', '20260720', 'release=noble']);
    expect(r.stderr).toContain('filter_list=["release=noble","version_name=20260720"]');
    expect(r.code).toBe(0);
    const doc = await readProducts(path.join(dir, 'released'), RELEASED);
    expect(doc.content_id).toBe('com.ubuntu.maas:stable:v3:download');
    expect(versionMap(doc)).toEqual({
      'com.ubuntu.maas.stable:v3:boot:24.04:amd64:ga-24.04': ['20260720'],
      'com.ubuntu.maas.stable:v3:boot:24.04:amd64:hwe-24.04': ['20260720'],
    });
    const expanded = expandProducts(doc);
    for (const p of Object.values(expanded.products)) for (const v of Object.values(p.versions)) for (const item of Object.values(v.items)) expect(item['label']).toBe('rc');
    expect(doc.products['com.ubuntu.maas.stable:v3:boot:24.04:amd64:ga-24.04']?.['label']).toBe('rc');
    expect(await assertStreamIntact(path.join(dir, 'released'))).toBe(8);
    expect((await listFiles(path.join(dir, 'released'))).filter((f) => f.startsWith('jammy'))).toEqual([]);
  });

  it('adds further versions next to the promoted ones; the default item label is the target stream label', async () => {
    const r = await run(['promote', '-u', 'candidate', 'released', '20260722']);
    expect(r.code).toBe(0);
    const doc = await readProducts(path.join(dir, 'released'), RELEASED);
    expect(versionMap(doc)['com.ubuntu.maas.stable:v3:boot:24.04:amd64:ga-24.04']).toEqual(['20260720', '20260722']);
    expect(versionMap(doc)['com.ubuntu.maas.stable:v3:boot:22.04:arm64:ga-22.04']).toEqual(['20260722']);
    const labels = new Set<unknown>();
    for (const [vname, v] of Object.entries(expandProducts(doc).products['com.ubuntu.maas.stable:v3:boot:24.04:amd64:ga-24.04']!.versions)) for (const i of Object.values(v.items)) labels.add(`${vname}:${String(i['label'])}`);
    expect([...labels].sort()).toEqual(['20260720:rc', '20260722:stable']);
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

  it('from an empty target, diff --promote and patch then work between the two streams (issue 10)', async () => {
    await makeStream(path.join(dir, 'daily'), { serials: ['20260720', '20260722'], releases: [NOBLE] });
    expect((await run(['promote', '-u', 'daily', 'fresh', '20260720'])).code).toBe(0);
    const d = await run(['diff', '--promote', 'daily', 'fresh', '-o', 'fresh.yaml']);
    expect(d.code, d.stderr).toBe(0);
    const yaml = await fs.readFile(path.join(dir, 'fresh.yaml'), 'utf8');
    expect(yaml).not.toMatch(/not_merged/);
    expect(yaml).toMatch(/^com\.ubuntu\.maas:v3:download\.json:$/m);
    const p = await run(['patch', '-u', 'daily', 'fresh', '-i', 'fresh.yaml']);
    expect(p.code, p.stderr).toBe(0);
    expect(versionMap(await readProducts(path.join(dir, 'fresh'), RELEASED))['com.ubuntu.maas.stable:v3:boot:24.04:amd64:ga-24.04']).toEqual(['20260720', '20260722']);
    await assertStreamIntact(path.join(dir, 'fresh'));
  });

  it('--target-label names a new target stream; a target holding the original\'s label-less file is written the original way', async () => {
    expect((await run(['promote', '-u', '--target-label', 'beta', 'candidate', 'beta', '20260722', 'release=noble'])).code).toBe(0);
    expect(Object.keys((await readProducts(path.join(dir, 'beta'), 'streams/v1/com.ubuntu.maas:beta:v3:download.json')).products)).toContain('com.ubuntu.maas.beta:v3:boot:24.04:amd64:ga-24.04');
    // a released stream as the original promote left it
    expect((await run(['promote', '-u', '--target-label', 'x', 'candidate', 'legacy', '20260720', 'release=noble'])).code).toBe(0);
    const old = await readProducts(path.join(dir, 'legacy'), 'streams/v1/com.ubuntu.maas:x:v3:download.json');
    const relabelled = JSON.parse(JSON.stringify(old).replaceAll('com.ubuntu.maas.x:', 'com.ubuntu.maas:').replaceAll('com.ubuntu.maas:x:v3:download', 'com.ubuntu.maas:v3:download'));
    await fs.rm(path.join(dir, 'legacy/streams/v1'), { recursive: true });
    await fs.mkdir(path.join(dir, 'legacy/streams/v1'), { recursive: true });
    await fs.writeFile(path.join(dir, 'legacy', LABELLESS), JSON.stringify(relabelled));
    await fs.writeFile(path.join(dir, 'legacy/streams/v1/index.json'), JSON.stringify(buildIndex([{ path: LABELLESS, doc: relabelled }])));
    const r = await run(['promote', '-u', 'candidate', 'legacy/streams/v1/index.json', '20260722', 'release=noble']);
    expect(r.code, r.stderr).toBe(0);
    const doc = await readProducts(path.join(dir, 'legacy'), LABELLESS);
    expect(versionMap(doc)['com.ubuntu.maas:v3:boot:24.04:amd64:ga-24.04']).toEqual(['20260720', '20260722']);
    expect((await fs.readdir(path.join(dir, 'legacy/streams/v1'))).sort()).toEqual(['com.ubuntu.maas:v3:download.json', 'index.json']);
  });
});
