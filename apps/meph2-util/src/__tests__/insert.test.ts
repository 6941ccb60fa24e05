import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliCaptured } from '@meph/test-support';
import { spec } from '../main.js';
import { assertStreamIntact, contentId, JAMMY, listFiles, makeStream, NOBLE, productId, productsPath, readProducts, tempDir, throwAwayKey, versionMap } from './stream-fixture.js';

let dir: string;
beforeAll(async () => {
  dir = await tempDir('meph-insert-');
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const env = { ...process.env, MEPH_SIGNING_KEY: '', MEPH_GPG_KEY: '', MEPH_KEYRING: '', SS_GPG_DEFAULT_KEY: '', GNUPGHOME: '/nonexistent/meph-empty-gnupg-home' };
const run = (args: string[]) => runCliCaptured(spec, args, { cwd: dir, env });

describe('meph2-util insert', () => {
  it('adds every new version with its files, and the index lists the products file (seed 7)', async () => {
    await makeStream(path.join(dir, 'build1'), { serials: ['20260720'], releases: [NOBLE, JAMMY] });
    const r = await run(['insert', '-u', 'build1', 'daily']);
    expect(r.stderr).not.toContain('error');
    expect(r.code).toBe(0);
    const doc = await readProducts(path.join(dir, 'daily'), productsPath('candidate'));
    expect(Object.keys(doc.products)).toHaveLength(4);
    expect(await assertStreamIntact(path.join(dir, 'daily'))).toBe(16);
    const index = JSON.parse(await fs.readFile(path.join(dir, 'daily/streams/v1/index.json'), 'utf8'));
    const entry = index.index[contentId('candidate')];
    expect(index.format).toBe('index:1.0');
    expect(index.updated).toMatch(/^\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d \+0000$/);
    expect(entry).toMatchObject({ path: productsPath('candidate'), format: 'products:1.0', datatype: 'image-downloads' });
    expect(entry.updated).toBe(doc.updated);
    expect(entry.products).toEqual(Object.keys(doc.products).sort());
  });

  it('condenses MAAS-safely: item fields on items, product fields on the product, nothing at the top', async () => {
    const doc = await readProducts(path.join(dir, 'daily'), productsPath('candidate'));
    const p = doc.products[productId('candidate', NOBLE, 'amd64', 'ga-24.04')]!;
    expect(p).toMatchObject({ arch: 'amd64', label: 'candidate', os: 'ubuntu', release: 'noble', subarch: 'ga-24.04', version: '24.04', release_title: '24.04 LTS' });
    const v = p.versions['20260720']!;
    expect(v['support_esm_eol']).toBe('2034-05-31');
    expect(p['support_esm_eol']).toBeUndefined();
    for (const item of Object.values(v.items)) expect(Object.keys(item)).toEqual(expect.arrayContaining(['ftype', 'path', 'sha256', 'size']));
    expect(doc['label']).toBeUndefined();
  });

  it('never removes versions, and a rerun changes nothing (seed 12)', async () => {
    await makeStream(path.join(dir, 'build2'), { serials: ['20260722'], releases: [NOBLE] });
    const r = await run(['insert', '-u', 'build2', 'daily']);
    expect(r.code).toBe(0);
    const doc = await readProducts(path.join(dir, 'daily'), productsPath('candidate'));
    expect(versionMap(doc)[productId('candidate', NOBLE, 'amd64', 'ga-24.04')]).toEqual(['20260720', '20260722']);
    expect(versionMap(doc)[productId('candidate', JAMMY, 'arm64', 'ga-22.04')]).toEqual(['20260720']);
    const before = await fs.readFile(path.join(dir, 'daily', productsPath('candidate')), 'utf8');
    const again = await run(['insert', '-u', '--json', 'build2', 'daily']);
    expect(again.code).toBe(0);
    expect(again.stdout).not.toContain('item-inserted');
    expect(await fs.readFile(path.join(dir, 'daily', productsPath('candidate')), 'utf8')).toBe(before);
  });

  it('--dry-run reports items and files and writes nothing; --json gives one event per line', async () => {
    await makeStream(path.join(dir, 'build3'), { serials: ['20260723'], releases: [NOBLE] });
    const before = await listFiles(path.join(dir, 'daily'));
    const r = await run(['insert', '-u', '-n', '--json', 'build3', 'daily', 'subarch=hwe-24.04']);
    expect(r.code).toBe(0);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const inserted = events.filter((e) => e.type === 'item-inserted');
    expect(inserted).toHaveLength(4);
    expect(inserted.every((e) => e.dryRun === true && e.product === productId('candidate', NOBLE, 'amd64', 'hwe-24.04'))).toBe(true);
    expect(events.filter((e) => e.type === 'file-copied').map((e) => e.path).sort()).toEqual(
      ['noble/amd64/20260723/hwe-24.04/generic/boot-initrd', 'noble/amd64/20260723/hwe-24.04/generic/boot-kernel', 'noble/amd64/20260723/squashfs', 'noble/amd64/20260723/squashfs.manifest'],
    );
    expect(await listFiles(path.join(dir, 'daily'))).toEqual(before);
  });

  it('refuses a source whose item files do not match their checksums, leaving the target as it was', async () => {
    await makeStream(path.join(dir, 'build4'), { serials: ['20260724'], releases: [NOBLE] });
    await fs.appendFile(path.join(dir, 'build4/noble/amd64/20260724/squashfs'), 'corrupt');
    const before = await fs.readFile(path.join(dir, 'daily', productsPath('candidate')), 'utf8');
    const r = await run(['insert', '-u', 'build4', 'daily']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^meph2-util: error: .*squashfs.*(size|sha256)/m);
    expect(r.stderr).not.toContain('    at ');
    expect(await fs.readFile(path.join(dir, 'daily', productsPath('candidate')), 'utf8')).toBe(before);
    await assertStreamIntact(path.join(dir, 'daily'));
  });

  it('signs by default: .sjson + .json.gpg for every JSON, index.sjson points at .sjson (seed 8); -u leaves them alone (seed 9)', async () => {
    const key = await throwAwayKey(path.join(dir, 'key'));
    const signed = await run(['insert', '--key', key.secretKey, 'build1', 'signed']);
    expect(signed.stderr).not.toContain('error');
    expect(signed.code).toBe(0);
    const v1 = await fs.readdir(path.join(dir, 'signed/streams/v1'));
    for (const json of v1.filter((f) => f.endsWith('.json'))) {
      expect(v1).toContain(json.replace(/\.json$/, '.sjson'));
      expect(v1).toContain(`${json}.gpg`);
    }
    const indexSjson = await fs.readFile(path.join(dir, 'signed/streams/v1/index.sjson'), 'utf8');
    expect(indexSjson).toMatch(/^-----BEGIN PGP SIGNED MESSAGE-----/);
    expect(indexSjson).toContain(`"path": "streams/v1/${contentId('candidate')}.sjson"`);
    const gpgv = await import('node:child_process').then((cp) => cp.spawnSync('gpgv', ['--keyring', key.keyring, path.join(dir, 'signed/streams/v1/index.sjson')]));
    expect(gpgv.status).toBe(0);
    // reading it back verified with the keyring works
    const verified = await run(['insert', '-u', '-n', '--keyring', key.keyring, 'signed', 'other']);
    expect(verified.code).toBe(0);

    const stamp = async () => Object.fromEntries(await Promise.all(v1.filter((f) => !f.endsWith('.json')).map(async (f) => [f, (await fs.stat(path.join(dir, 'signed/streams/v1', f))).mtimeMs])));
    const before = await stamp();
    const r = await run(['insert', '-u', 'build2', 'signed']);
    expect(r.code).toBe(0);
    expect(await stamp()).toEqual(before);
    expect((await fs.readdir(path.join(dir, 'signed/streams/v1'))).filter((f) => !f.endsWith('.json')).sort()).toEqual(Object.keys(before).sort());
  });

  it('fails in one line without a signing key, before changing anything', async () => {
    const r = await run(['insert', 'build2', 'nokey']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^meph2-util: error: no signing key configured/);
    await expect(fs.access(path.join(dir, 'nokey'))).rejects.toThrow();
  });
});
