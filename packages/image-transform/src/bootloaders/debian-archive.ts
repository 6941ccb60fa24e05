import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseReleaseSha256 } from '@meph/di-crawler';
import { isNotFound, type HttpClient } from '@meph/http';
import type { SignatureVerifier } from '@meph/simplestreams';
import { BootloaderImportError } from '../errors.js';
import { compareDebianVersions } from './debian-version.js';

/** One binary package as a Packages index lists it. */
export interface ArchivePackage {
  package: string;
  version: string;
  /** Source package name, version suffix removed (`Source: grub2 (2.06-13)` → grub2). */
  source: string;
  filename: string;
  sha256: string;
  size: number;
  /** The suite it was found in. */
  suite: string;
  component: string;
}

export interface ArchiveIndexOptions {
  mirror: string;
  suites: string[];
  components: string[];
  arch: string;
  http: HttpClient;
  verifier: SignatureVerifier;
  signal?: AbortSignal;
}

/**
 * The newest version of every binary package across the suites, read through the archive's
 * trust chain: `dists/<suite>/InRelease` verified against the archive keyring (only the signed
 * text is used), then `<component>/binary-<arch>/Packages.xz` checked against the sha256 and
 * size InRelease lists for it. A suite without InRelease (e.g. no -updates) is skipped; no
 * suite at all is an error.
 */
/** Downloads a file an index lists with its size and sha256, verified; a 404 is named against that index. */
export async function downloadListed(http: HttpClient, url: string, dest: string, want: { sha256: string; size: number }, listedBy: string): Promise<void> {
  try {
    await http.download(url, dest, { size: want.size, checksums: { sha256: want.sha256 } });
  } catch (e) {
    if (isNotFound(e)) throw new BootloaderImportError(`${url}: not found although ${listedBy} lists it`, { cause: e });
    throw e;
  }
}

export async function readArchiveIndex(o: ArchiveIndexOptions): Promise<Map<string, ArchivePackage>> {
  const newest = new Map<string, ArchivePackage>();
  let suitesRead = 0;
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'meph-archive-'));
  try {
    for (const suite of o.suites) {
      const url = `${o.mirror}/dists/${suite}/InRelease`;
      const text = await o.http.getText(url).catch((e: unknown) => {
        if (isNotFound(e)) return undefined;
        throw e;
      });
      if (text === undefined) continue;
      let signed: string;
      try {
        signed = (await o.verifier.verifyClearsigned(text, url)).payload;
      } catch (e) {
        throw new BootloaderImportError(`${url}: ${(e as Error).message}`, { cause: e, hint: 'the archive signature does not verify against the archive keyring (install debian-archive-keyring, or pass --keyring)' });
      }
      const sums = parseReleaseSha256(signed, url);
      suitesRead++;
      for (const component of o.components) {
        const rel = `${component}/binary-${o.arch}/Packages.xz`;
        const want = sums.get(rel);
        if (!want) continue;
        const dest = path.join(scratch, `${suite}-${component}-Packages.xz`);
        const purl = `${o.mirror}/dists/${suite}/${rel}`;
        await downloadListed(o.http, purl, dest, want, url);
        const xz = spawnSync('xz', ['-dc', dest], { maxBuffer: 1 << 30, encoding: 'utf8' });
        if (xz.status !== 0) throw new BootloaderImportError(`${purl}: cannot decompress: ${xz.stderr || xz.error?.message}`, { hint: 'install xz-utils' });
        for (const p of parsePackages(xz.stdout, suite, component)) {
          const cur = newest.get(p.package);
          if (!cur || compareDebianVersions(p.version, cur.version) > 0) newest.set(p.package, p);
        }
        await rm(dest, { force: true });
      }
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  if (suitesRead === 0) throw new BootloaderImportError(`${o.mirror}: none of the suites ${o.suites.join(', ')} has a dists/<suite>/InRelease`, { hint: 'check the archive URL and release in the bootloaders config' });
  return newest;
}

/** Parses a Packages index (deb822 stanzas) into the fields the import needs. */
export function parsePackages(text: string, suite: string, component: string): ArchivePackage[] {
  const out: ArchivePackage[] = [];
  for (const stanza of text.split(/\n\s*\n/)) {
    const f: Record<string, string> = {};
    for (const line of stanza.split('\n')) {
      const m = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(line);
      if (m) f[m[1]!] = m[2]!;
    }
    if (!f['Package'] || !f['Version'] || !f['Filename'] || !f['SHA256'] || !f['Size']) continue;
    out.push({
      package: f['Package'],
      version: f['Version'],
      source: (f['Source'] ?? f['Package']).replace(/\s*\(.*\)\s*$/, '').trim(),
      filename: f['Filename'],
      sha256: f['SHA256'].toLowerCase(),
      size: Number(f['Size']),
      suite,
      component,
    });
  }
  return out;
}

