/**
 * Optional live test (off unless MEPH_LIVE_DI=1): crawls the Debian installer tree of this
 * machine's configured Debian mirror (from its apt sources, never a hard-coded host), verified
 * with the Debian archive keyring through the signed InRelease chain, then downloads the
 * netboot kernel with checksum verification.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { crawlInstallers, diKernelInfo, downloadDiFile, lookupDiKernel, type CrawlEvent } from '@meph/di-crawler';
import { createHttpClient } from '@meph/http';
import { hostDebianMirror } from '@meph/image-transform';
import { createVerifier } from '@meph/signer';

const live = process.env['MEPH_LIVE_DI'] === '1';

describe.skipIf(!live)('live d-i crawl of the host Debian mirror (MEPH_LIVE_DI=1)', () => {
  it('finds bookworm amd64 netboot files, verified, and downloads the kernel', async () => {
    const mirror = await hostDebianMirror('bookworm');
    const verifier = await createVerifier({ keyrings: ['/usr/share/keyrings/debian-archive-keyring.gpg'] });
    const client = createHttpClient();
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'meph-live-di-'));
    try {
      const events: CrawlEvent[] = [];
      const { doc, errors } = await crawlInstallers({
        archive: mirror, releases: ['bookworm'], arches: ['amd64'], pockets: [''], verifier, client, strict: false, onEvent: (e) => events.push(e),
      });
      // The signed InRelease chain lists the installer versions and verifies their SHA256SUMS.
      const suite = events.find((e) => e.type === 'di-suite');
      expect(suite).toMatchObject({ suite: 'bookworm', arch: 'amd64', via: 'Release' });
      expect((suite as { versions: string[] }).versions.length).toBeGreaterThan(0);
      // Some networks (a filtering proxy) serve the archive metadata but not the installer
      // images: then the only errors allowed are "listed in SHA256SUMS but 404".
      const unreachable = errors.filter((e) => /is listed in SHA256SUMS but the server answers 404/.test(e.message));
      expect(errors.filter((e) => !unreachable.includes(e))).toEqual([]);
      if (unreachable.length) {
        console.warn(`live d-i: ${mirror} does not serve the installer images here (${unreachable[0]!.message}); checked the signed chain only`);
        return;
      }
      const product = doc.products['com.ubuntu.installer:netboot:12:amd64'];
      expect(product).toBeDefined();
      const hit = lookupDiKernel(diKernelInfo(doc), { release: 'bookworm', arch: 'amd64', flavor: 'generic', krel: 'bookworm' });
      expect(hit.kernel.url).toMatch(/\/netboot\/debian-installer\/amd64\/linux$/);
      const file = await downloadDiFile(client, hit.kernel, tmp);
      expect((await stat(file)).size).toBe(hit.kernel.size);
    } finally {
      client.close();
      await rm(tmp, { recursive: true, force: true });
    }
  }, 300_000);
});
