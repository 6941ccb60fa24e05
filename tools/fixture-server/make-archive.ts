/**
 * Generates an archive-shaped tree (Ubuntu or Debian flavour) with installer netboot files:
 *   dists/<suite>/{InRelease,Release,Release.gpg}
 *   dists/<suite>/main/installer-<arch>/<version>/images/{SHA256SUMS,SHA256SUMS.gpg,MD5SUMS,…}
 *   dists/<suite>/main/installer-<arch>/current -> <newest version>
 * Files are small deterministic byte strings; everything is signed by a test key.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { TestKey } from './gpg.js';

export interface ArchiveSpec {
  /** suite name (`noble`, `noble-updates`) → installer versions in it. */
  suites: Record<string, string[]>;
  arches: string[];
  layout?: 'ubuntu' | 'debian';
  /**
   * How checksum lists are signed: `inrelease` (InRelease + Release + Release.gpg listing
   * every SHA256SUMS), `sha256sums-gpg` (only SHA256SUMS.gpg next to each list, no Release
   * files at all), `none` (unsigned Release).
   */
  signing?: 'inrelease' | 'sha256sums-gpg' | 'none';
  key?: TestKey;
  /** Extra `device-tree/*.dtb` files per version (to make big archives for benchmarks). */
  dtbsPerVersion?: number | ((arch: string, version: string) => number);
  /** Mixed into every file's bytes (to make the same version differ between two trees). */
  salt?: string;
  /** Leave SHA256SUMS out (the crawler must fall back to the directory listing). */
  omitChecksums?: boolean;
}

export interface GeneratedArchive {
  root: string;
  /** Every classified netboot file written: images-relative path per version dir. */
  files: Array<{ suite: string; arch: string; version: string; path: string; sha256: string; size: number }>;
}

function content(...parts: string[]): Buffer {
  const head = `fixture ${parts.join(' ')}\n`;
  // a few hundred bytes, distinct per file
  return Buffer.from(head.repeat(8));
}

function sha256(b: Buffer | string): string {
  return createHash('sha256').update(b).digest('hex');
}
function md5(b: Buffer | string): string {
  return createHash('md5').update(b).digest('hex');
}

function netbootFiles(layout: 'ubuntu' | 'debian', arch: string, dtbs: number): string[] {
  const inst = layout === 'ubuntu' ? 'ubuntu-installer' : 'debian-installer';
  const kernel = arch === 'ppc64el' ? 'vmlinux' : 'linux';
  const files = [
    `netboot/${inst}/${arch}/${kernel}`,
    `netboot/${inst}/${arch}/initrd.gz`,
    `netboot/${inst}/${arch}/pxelinux.0`,
    `netboot/netboot.tar.gz`,
    `netboot/mini.iso`,
    `netboot/gtk/${inst}/${arch}/${kernel}`,
    `cdrom/vmlinuz`,
    `cdrom/initrd.gz`,
    `netboot/xen/vmlinuz`,
  ];
  if (layout === 'ubuntu') files.push(`hwe-netboot/${inst}/${arch}/${kernel}`, `hwe-netboot/${inst}/${arch}/initrd.gz`);
  if (arch === 'arm64') files.push(`netboot/${inst}/arm64/xgene-uboot/uImage`, `netboot/${inst}/arm64/xgene-uboot/uInitrd`, 'device-tree/apm-mustang.dtb');
  for (let i = 0; i < dtbs; i++) files.push(`device-tree/board-${String(i).padStart(4, '0')}.dtb`);
  return files;
}

export async function generateArchive(root: string, spec: ArchiveSpec): Promise<GeneratedArchive> {
  const layout = spec.layout ?? 'ubuntu';
  const signing = spec.signing ?? 'inrelease';
  if (signing !== 'none' && !spec.key) throw new Error('generateArchive: signing needs a key');
  const out: GeneratedArchive = { root, files: [] };
  for (const [suite, versions] of Object.entries(spec.suites)) {
    const suiteDir = path.join(root, 'dists', suite);
    await rm(suiteDir, { recursive: true, force: true });
    const releaseEntries: Array<{ rel: string; data: Buffer }> = [];
    for (const arch of spec.arches) {
      const instDir = path.join(suiteDir, 'main', `installer-${arch}`);
      for (const version of versions) {
        const images = path.join(instDir, version, 'images');
        const lines: string[] = [];
        const md5Lines: string[] = [];
        const dtbs = typeof spec.dtbsPerVersion === 'function' ? spec.dtbsPerVersion(arch, version) : (spec.dtbsPerVersion ?? 0);
        for (const rel of netbootFiles(layout, arch, dtbs)) {
          const data = content(suite.replace(/-.*$/, ''), arch, version, rel, spec.salt ?? ''); // same build, same bytes in every pocket
          await mkdir(path.dirname(path.join(images, rel)), { recursive: true });
          await writeFile(path.join(images, rel), data);
          lines.push(`${sha256(data)}  ./${rel}`);
          md5Lines.push(`${md5(data)}  ./${rel}`);
          out.files.push({ suite, arch, version, path: rel, sha256: sha256(data), size: data.length });
        }
        if (!spec.omitChecksums) {
          const sums = Buffer.from(`${lines.sort((a, b) => (a.slice(66) < b.slice(66) ? -1 : 1)).join('\n')}\n`);
          const md5s = Buffer.from(`${md5Lines.join('\n')}\n`);
          await writeFile(path.join(images, 'SHA256SUMS'), sums);
          await writeFile(path.join(images, 'MD5SUMS'), md5s);
          if (signing === 'sha256sums-gpg') await spec.key!.detachSign(path.join(images, 'SHA256SUMS'));
          if (signing === 'inrelease') {
            releaseEntries.push({ rel: `main/installer-${arch}/${version}/images/SHA256SUMS`, data: sums });
            releaseEntries.push({ rel: `main/installer-${arch}/${version}/images/MD5SUMS`, data: md5s });
          }
        }
      }
      const newest = [...versions].sort().pop();
      if (newest) {
        await symlink(newest, path.join(instDir, 'current'));
        if (signing === 'inrelease' && !spec.omitChecksums) {
          const sums = await readFile(path.join(instDir, newest, 'images', 'SHA256SUMS'));
          releaseEntries.push({ rel: `main/installer-${arch}/current/images/SHA256SUMS`, data: sums });
        }
      }
    }
    await mkdir(suiteDir, { recursive: true });
    if (signing === 'sha256sums-gpg') continue;
    const release = [
      'Origin: Fixture',
      'Label: Fixture',
      `Suite: ${suite}`,
      `Codename: ${suite.replace(/-.*$/, '')}`,
      'Date: Thu, 01 Jan 2026 00:00:00 UTC',
      `Architectures: ${spec.arches.join(' ')}`,
      'Components: main',
      'Description: meph test archive',
      'MD5Sum:',
      ...releaseEntries.map((e) => ` ${md5(e.data)} ${String(e.data.length).padStart(8)} ${e.rel}`),
      'SHA256:',
      ...releaseEntries.map((e) => ` ${sha256(e.data)} ${String(e.data.length).padStart(8)} ${e.rel}`),
      '',
    ].join('\n');
    await writeFile(path.join(suiteDir, 'Release'), release);
    if (signing === 'inrelease') {
      await spec.key!.detachSign(path.join(suiteDir, 'Release'), path.join(suiteDir, 'Release.gpg'));
      await spec.key!.clearsign(path.join(suiteDir, 'Release'), path.join(suiteDir, 'InRelease'));
    }
  }
  return out;
}
