/**
 * meph2-build --enable-di against this machine's configured Debian mirror (from its apt
 * sources, never a hard-coded host), verified with the Debian archive keyring: signed
 * InRelease → SHA256SUMS → netboot kernel/initrd. Some networks (a filtering proxy) serve the
 * archive metadata but not the installer images; then the build must fail in one line naming
 * the installer file the verified SHA256SUMS lists and the 404.
 */
import { existsSync, promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCliCaptured } from '@meph/test-support';
import { expandProducts, type ProductsDocument } from '@meph/simplestreams';
import { hostDebianMirror } from '@meph/image-transform';
import { spec } from '../main.js';

const mirror = await hostDebianMirror('bookworm');

describe.skipIf(!mirror || !existsSync('/usr/share/keyrings/debian-archive-keyring.gpg'))('meph2-build --enable-di against the configured Debian mirror', () => {
  it('publishes the verified bookworm netboot installer as di-kernel/di-initrd (or names the file the mirror does not serve)', async () => {
    const tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'meph-build-live-di-'));
    try {
      await fsp.writeFile(path.join(tmp, 'src.img'), 'source');
      const config = path.join(import.meta.dirname, '__fixtures__', 'bookworm-v2.yaml');
      const r = await runCliCaptured(spec, ['--config', config, 'amd64', 'bookworm', '20260101', 'src.img', 'out'], { cwd: tmp, env: { ...process.env, MAAS_CLOUDIMG2EPH2: 'fake' } });
      if (r.code !== 0) {
        const errors = r.stderr.trim().split('\n').filter((l) => l.includes('error'));
        expect(errors).toHaveLength(1);
        expect(errors[0]).toMatch(/^meph2-build: error: d-i archive \S+: cannot crawl the installer for bookworm\/amd64: \S+\/dists\/bookworm\/main\/installer-amd64\/20\d{6}\S*\/images\/netboot\/\S+: is listed in SHA256SUMS but the server answers 404/);
        console.warn(`live d-i: ${mirror} does not serve the installer images here; checked the signed chain and the one-line failure`);
        return;
      }
      const doc = expandProducts(JSON.parse(await fsp.readFile(path.join(tmp, 'out/streams/v1/org.debian.meph:daily:v2:download.json'), 'utf8')) as ProductsDocument);
      const items = doc.products['org.debian.meph.daily:v2:boot:12:amd64:ga-12']!.versions['20260101']!.items;
      expect(items['di-kernel']).toMatchObject({ ftype: 'di-kernel', path: expect.stringMatching(/^bookworm\/amd64\/di\/20\d{6}\S*\/bookworm\/generic\/di-kernel$/) });
      expect((await fsp.stat(path.join(tmp, 'out', String(items['di-kernel']!.path)))).size).toBe(items['di-kernel']!.size);
    } finally {
      await fsp.rm(tmp, { recursive: true, force: true });
    }
  }, 300_000);
});
