import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliCaptured } from '@meph/test-support';
import { buildIndex, serializeJson } from '@meph/simplestreams';
import { spec } from '../main.js';
import { assertStreamIntact, makeStream, NOBLE, tempDir } from './stream-fixture.js';

let dir: string;
beforeAll(async () => {
  dir = await tempDir('meph-merge-');
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});
const env = { ...process.env, MEPH_SIGNING_KEY: '', MEPH_GPG_KEY: '', MEPH_KEYRING: '' };
const run = (args: string[]) => runCliCaptured(spec, args, { cwd: dir, env });

async function bootloaders(root: string, versions: Record<string, string>): Promise<void> {
  const products: Record<string, unknown> = {};
  const pid = 'com.ubuntu.maas.candidate:1:grub-efi-signed:uefi:amd64';
  const vers: Record<string, unknown> = {};
  for (const [v, content] of Object.entries(versions)) {
    const rel = `bootloaders/uefi/amd64/${v}/grub2-signed.tar.xz`;
    await fs.mkdir(path.join(root, path.dirname(rel)), { recursive: true });
    await fs.writeFile(path.join(root, rel), content);
    const { createHash } = await import('node:crypto');
    vers[v] = { items: { 'grub2-signed': { ftype: 'archive.tar.xz', path: rel, size: Buffer.byteLength(content), sha256: createHash('sha256').update(content).digest('hex'), src_package: 'grub2-signed', src_release: 'noble', src_version: '1.0' } } };
  }
  products[pid] = { arch: 'amd64', arches: 'amd64', label: 'candidate', os: 'grub-efi-signed', 'bootloader-type': 'uefi', versions: vers };
  const doc = { format: 'products:1.0', content_id: 'com.ubuntu.maas:candidate:1:bootloader-download', datatype: 'image-downloads', products } as never;
  const rel = 'streams/v1/com.ubuntu.maas:candidate:1:bootloader-download.json';
  await fs.mkdir(path.join(root, 'streams/v1'), { recursive: true });
  await fs.writeFile(path.join(root, rel), serializeJson(doc));
  await fs.writeFile(path.join(root, 'streams/v1/index.json'), serializeJson(buildIndex([{ path: rel, doc }])));
}

describe('meph2-util merge', () => {
  it('copies the files of another stream in and adds its products file (bootloaders into images)', async () => {
    await makeStream(path.join(dir, 'images'), { serials: ['20260720'], releases: [NOBLE] });
    await bootloaders(path.join(dir, 'boot'), { '20260101.0': 'grub one' });
    const r = await run(['merge', '-u', 'boot', 'images']);
    expect(r.code).toBe(0);
    const index = JSON.parse(await fs.readFile(path.join(dir, 'images/streams/v1/index.json'), 'utf8'));
    expect(Object.keys(index.index).sort()).toEqual(['com.ubuntu.maas:candidate:1:bootloader-download', 'com.ubuntu.maas:candidate:v3:download']);
    expect(await assertStreamIntact(path.join(dir, 'images'))).toBe(9);
  });

  it('accepts a new version of an existing product (the original crashed with KeyError) and refuses a changed sha256', async () => {
    await bootloaders(path.join(dir, 'boot2'), { '20260101.0': 'grub one', '20260201.0': 'grub two' });
    const r = await run(['merge', '-u', 'boot2', 'images']);
    expect(r.code).toBe(0);
    await assertStreamIntact(path.join(dir, 'images'));
    await bootloaders(path.join(dir, 'boot3'), { '20260101.0': 'grub one, rebuilt' });
    const before = await fs.readFile(path.join(dir, 'images/streams/v1/com.ubuntu.maas:candidate:1:bootloader-download.json'), 'utf8');
    const bad = await run(['merge', '-u', 'boot3', 'images']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^meph2-util: error: com\.ubuntu\.maas\.candidate:1:grub-efi-signed:uefi:amd64 version 20260101\.0: item grub2-signed: sha256/m);
    expect(await fs.readFile(path.join(dir, 'images/streams/v1/com.ubuntu.maas:candidate:1:bootloader-download.json'), 'utf8')).toBe(before);
  });
});
