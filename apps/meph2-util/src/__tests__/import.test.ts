import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliCaptured, SHARED_DIR } from '@meph/test-support';
import { spec } from '../main.js';
import { assertStreamIntact, readProducts, tempDir } from './stream-fixture.js';

let dir: string;
beforeAll(async () => {
  dir = await tempDir('meph-import-');
  await fs.writeFile(
    path.join(dir, 'notify.yaml'),
    'product_id: com.ubuntu.maas:candidate:1:maas-notification\ncontent_id: com.ubuntu.maas:candidate:1:maas-notification\nrelease-notification:\n  version: 1.0\n  maas_version: "3.5.0"\n  message: "<b>MAAS 3.5 is out</b>"\n',
  );
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});
const env = { ...process.env, MEPH_SIGNING_KEY: '', MEPH_GPG_KEY: '', MEPH_KEYRING: '' };
const run = (args: string[]) => runCliCaptured(spec, args, { cwd: dir, env });
const FILE = 'streams/v1/com.ubuntu.maas:candidate:1:maas-notification.json';

describe('meph2-util import', () => {
  it('publishes a release notification once; an unchanged config adds no duplicate version', async () => {
    const r = await run(['import', '-u', 'notify.yaml', 'stream']);
    expect(r.stderr).not.toContain('error');
    expect(r.code).toBe(0);
    const doc = await readProducts(path.join(dir, 'stream'), FILE);
    expect(doc.datatype).toBe('release-notifications');
    const product = doc.products['com.ubuntu.maas:candidate:1:maas-notification']!;
    const [version] = Object.keys(product.versions);
    expect(version).toMatch(/^\d{8}\.0$/);
    expect(product.versions[version!]!.items['release_notification']).toMatchObject({ ftype: 'notifications', release_notification: { maas_version: '3.5.0', message: '<b>MAAS 3.5 is out</b>' } });
    await assertStreamIntact(path.join(dir, 'stream'));
    expect((await run(['import', '-u', 'notify.yaml', 'stream'])).code).toBe(0);
    expect(Object.keys((await readProducts(path.join(dir, 'stream'), FILE)).products['com.ubuntu.maas:candidate:1:maas-notification']!.versions)).toEqual([version]);
  });

  it('rejects an unquoted maas_version and names the unsupported import kinds in one line', async () => {
    await fs.writeFile(path.join(dir, 'bad.yaml'), 'product_id: p\ncontent_id: p\nrelease-notification:\n  version: 1.0\n  maas_version: 3.5\n  message: hi\n');
    expect((await run(['import', '-u', 'bad.yaml', 'stream'])).stderr).toMatch(/^meph2-util: error: import: .*maas_version must be a quoted string/);
    await fs.writeFile(path.join(dir, 'centos.yaml'), 'product_id: p\ncontent_id: c\nimage_index:\n  x: 1\n');
    const r = await run(['import', '-u', 'centos.yaml', 'stream']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^meph2-util: error: .*centos\.yaml: CentOS image_index imports .* does not support yet\); only release-notification and bootloaders imports are supported\n$/);
  });

  it('an empty release-notification: section is one line naming the file (was an internal error), nothing written', async () => {
    await fs.writeFile(path.join(dir, 'empty.yaml'), 'product_id: p\ncontent_id: p\nrelease-notification:\n');
    const r = await run(['import', '-u', 'empty.yaml', 'empty-stream']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^meph2-util: error: .*empty\.yaml: release-notification: must be a mapping of version, maas_version and message\n$/);
    await expect(fs.access(path.join(dir, 'empty-stream'))).rejects.toThrow();
  });

  it("parses the original's bootloaders.yaml and refuses its grub-mkimage (ppc64el) entry in one line, before any download", async () => {
    const r = await run(['import', '-u', path.join(SHARED_DIR, 'reference/conf/bootloaders.yaml'), 'stream2']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^meph2-util: error: bootloader grub-ieee1275\/open-firmware\/ppc64el: grub_format \(building a GRUB image with grub-mkimage\) is not supported by meph/m);
    expect(r.stderr.split('\n').filter((l) => l.startsWith('meph2-util: error:'))).toHaveLength(1);
    await expect(fs.stat(path.join(dir, 'stream2'))).rejects.toThrow();
  });

  it('a bootloaders config with a bad entry fails naming the file and the key', async () => {
    await fs.writeFile(path.join(dir, 'bl.yaml'), 'product_id: "p:1:{os}:{firmware_platform}:{arch}"\ncontent_id: c\nbootloaders:\n - firmware-platform: pxe\n   packages: [pxelinux]\n   arch: i386\n   arches: i386\n   release: bookworm\n   os: pxelinux\n   files: [../../etc/shadow]\n');
    const r = await run(['import', '-u', 'bl.yaml', 'stream3']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/^meph2-util: error: .*bl\.yaml: bootloaders\[0\]\.files\[0\]: "\.\.\/\.\.\/etc\/shadow"/m);
  });
});
