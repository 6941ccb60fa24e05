import { spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, realpath, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createHttpClient, digestFile, type HttpClient } from '@meph/http';
import { createVerifier } from '@meph/signer';
import { formatUpdated, openSource, type Item, type Product, type ProductsDocument } from '@meph/simplestreams';
import { editableCopy, nextDailyVersion, runOnTarget, type OpIoOptions, type OpResult, type StreamPlan } from '@meph/stream-ops';
import { hostDebianMirror } from '../config/host-mirror.js';
import { BootloaderImportError } from '../errors.js';
import { bootloaderProductId, type BootloaderEntry, type BootloadersConfig } from './config.js';
import { downloadListed, readArchiveIndex, type ArchivePackage } from './debian-archive.js';

/** The system archive keyrings used when neither the config nor the caller names any. */
export const DEFAULT_ARCHIVE_KEYRINGS = ['/usr/share/keyrings/debian-archive-keyring.gpg', '/usr/share/keyrings/ubuntu-archive-keyring.gpg'];

export interface BootloaderImportOptions extends OpIoOptions {
  /** Search `<release>-proposed(-updates)` too (meph2-import --proposed). */
  proposed?: boolean;
  /** Archive keyrings; default the config's `keyrings:`, else DEFAULT_ARCHIVE_KEYRINGS that exist. */
  keyrings?: string[];
  /** Mirror for entries without `archive:` (default: the host's configured Debian mirror). */
  mirror?: string;
  now?: Date;
  /** Progress lines for users (stderr). */
  onProgress?: (message: string) => void;
  http?: HttpClient;
}

/**
 * MAAS serves bootloader items only under these keys; Debian calls the signed GRUB source
 * `grub-efi-<arch>-signed` where Ubuntu calls it `grub2-signed`.
 */
export function bootloaderItemKey(srcPackage: string): string {
  return /^grub-efi-[a-z0-9]+-signed$/.test(srcPackage) ? 'grub2-signed' : srcPackage;
}

interface SourceSet {
  src: string;
  version: string;
  release: string;
  packages: ArchivePackage[];
}

/**
 * `meph2-util import bootloaders.yaml TARGET` (upstream §8.10): for each entry, the newest
 * version of its packages across the release's suites (through the signed InRelease →
 * Packages chain), skipped when the newest stream version was built from the same source
 * versions; otherwise the .debs are downloaded (sha256 from Packages), unpacked, the
 * configured files picked and packed per source package into `<src>.tar.xz` at the archive
 * root, and a `YYYYMMDD.N` version added.
 */
export async function importBootloaders(cfg: BootloadersConfig, targetRoot: string, o: BootloaderImportOptions = {}): Promise<OpResult> {
  for (const e of cfg.bootloaders) {
    if (e.grubFormat) throw new BootloaderImportError(`bootloader ${e.os}/${e.firmwarePlatform}/${e.arch}: grub_format (building a GRUB image with grub-mkimage) is not supported by meph`, { hint: 'remove that entry from the config (MAAS ppc64el bootloaders)' });
  }
  const keyrings = await existingKeyrings(o.keyrings ?? cfg.keyrings ?? DEFAULT_ARCHIVE_KEYRINGS);
  const verifier = await createVerifier({ keyrings });
  const http = o.http ?? createHttpClient({ ...(o.signal ? { signal: o.signal } : {}) });
  const staging = await mkdtemp(path.join(os.tmpdir(), 'meph-bootloaders-'));
  try {
    // the archive is read before the target is locked: it takes a while and needs no lock
    const resolved: Array<{ entry: BootloaderEntry; sources: SourceSet[]; mirror: string }> = [];
    const indexes = new Map<string, Map<string, ArchivePackage>>();
    for (const entry of cfg.bootloaders) {
      const mirror = entry.archive ?? o.mirror ?? (await hostDebianMirror(entry.release));
      const suites = [...(o.proposed ? [`${entry.release}-proposed`, `${entry.release}-proposed-updates`] : []), `${entry.release}-updates`, `${entry.release}-security`, entry.release];
      const components = entry.allowUniverse ? ['main', 'universe'] : ['main'];
      const key = JSON.stringify([mirror, suites, components, entry.arch]);
      let index = indexes.get(key);
      if (!index) {
        o.onProgress?.(`reading ${mirror} ${suites.join(',')} ${components.join(',')} binary-${entry.arch}`);
        index = await readArchiveIndex({ mirror, suites, components, arch: entry.arch, http, verifier: verifier, ...(o.signal ? { signal: o.signal } : {}) });
        indexes.set(key, index);
      }
      const bySource = new Map<string, SourceSet>();
      for (const name of entry.packages) {
        const p = index.get(name);
        if (!p) throw new BootloaderImportError(`package ${name} is not in ${mirror} (${suites.join(', ')}; ${components.join(', ')}; binary-${entry.arch})`, { hint: 'check the package names and release of the bootloaders config' });
        const s = bySource.get(p.source) ?? { src: p.source, version: p.version, release: p.suite, packages: [] };
        s.packages.push(p);
        bySource.set(p.source, s);
      }
      resolved.push({ entry, sources: [...bySource.values()], mirror });
    }

    return await runOnTarget(targetRoot, { createTarget: true, ...o }, async (target) => {
      const plan: StreamPlan = { operation: 'import', copies: [], changes: [], events: [] };
      const now = o.now ?? new Date();
      const existing = target.find((f) => f.doc.content_id === cfg.contentId);
      const doc: ProductsDocument = existing
        ? editableCopy(existing.doc)
        : ({ format: 'products:1.0', content_id: cfg.contentId, datatype: 'image-downloads', products: {} });
      for (const { entry, sources, mirror } of resolved) {
        const productId = bootloaderProductId(cfg, entry);
        const old = doc.products[productId];
        const product: Product = old
          ? { ...old, versions: { ...old.versions } }
          : { label: 'candidate', os: entry.os, arch: entry.arch, arches: entry.arches, 'bootloader-type': entry.firmwarePlatform, versions: {} };
        if (builtFromSame(product, sources)) {
          plan.events.push({ type: 'import-skipped', product: productId, reason: 'built from the latest package set, skipping' });
          o.onProgress?.(`${productId}: built from the latest package set, skipping`);
          continue;
        }
        const version = nextDailyVersion(Object.keys(product.versions), now);
        const dir = `bootloaders/${entry.firmwarePlatform}/${entry.arch}/${version}`;
        const items: Record<string, Item> = {};
        const work = path.join(staging, 'work', productId.replace(/[^A-Za-z0-9._-]/g, '_'));
        const picked = await pickFiles(entry, sources, mirror, work, http, o.onProgress);
        for (const s of sources) {
          const files = picked.get(s.src) ?? [];
          if (files.length === 0) continue;
          const rel = `${dir}/${s.src}.tar.xz`;
          const out = path.join(staging, rel);
          await packArchive(path.join(work, 'pick', s.src), files, out);
          const { sha256, size } = await digestFile(out, ['sha256']);
          const key = bootloaderItemKey(s.src);
          if (items[key]) throw new BootloaderImportError(`${productId}: two source packages map to the item ${key}`);
          items[key] = { ftype: 'archive.tar.xz', path: rel, sha256, size, src_package: s.src, src_release: s.release, src_version: s.version };
          plan.copies.push({ from: rel, to: rel, item: items[key], pedigree: `${productId}/${version}/${key}` });
          plan.events.push({ type: 'item-inserted', content_id: cfg.contentId, product: productId, version, item: key, path: rel });
        }
        await rm(work, { recursive: true, force: true });
        product.versions[version] = { items };
        doc.products[productId] = product;
        o.onProgress?.(`${productId} ${version}: ${Object.values(items).map((i) => `${String(i['src_package'])} ${String(i['src_version'])}`).join(', ')}`);
      }
      if (plan.copies.length > 0) {
        doc.updated = formatUpdated(now);
        plan.changes.push({ path: existing?.path ?? `streams/v1/${cfg.contentId}.json`, contentId: cfg.contentId, doc });
      }
      return { plan, source: openSource(staging) };
    });
  } finally {
    await rm(staging, { recursive: true, force: true });
    if (!o.http) http.close();
  }
}

function builtFromSame(product: Product, sources: SourceSet[]): boolean {
  const newest = Object.keys(product.versions).sort().at(-1);
  if (newest === undefined) return false;
  const items = Object.values(product.versions[newest]!.items ?? {});
  return sources.every((s) => items.some((i) => i['src_package'] === s.src && i['src_version'] === s.version && i['src_release'] === s.release));
}

async function existingKeyrings(candidates: string[]): Promise<string[]> {
  const found: string[] = [];
  for (const k of candidates) if ((await stat(k).catch(() => undefined))?.isFile()) found.push(k);
  if (found.length === 0) throw new BootloaderImportError(`no archive keyring found (looked for ${candidates.join(', ')})`, { hint: 'install debian-archive-keyring or pass --keyring FILE' });
  return found;
}

const GLOB = /[*?[]/;

function globToRegExp(glob: string): RegExp {
  const re = glob.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]');
  return new RegExp(`^${re}$`);
}

/**
 * Downloads and unpacks the entry's packages and copies the configured files, per source
 * package, into `<work>/pick/<src>/`. Returns src → the file names picked.
 */
async function pickFiles(entry: BootloaderEntry, sources: SourceSet[], mirror: string, work: string, http: HttpClient, progress?: (m: string) => void): Promise<Map<string, string[]>> {
  const unpacked: Array<{ src: string; root: string }> = [];
  for (const s of sources) {
    for (const p of s.packages) {
      const deb = path.join(work, 'debs', path.basename(p.filename));
      const url = `${mirror}/${p.filename}`;
      progress?.(`downloading ${p.package} ${p.version} (${p.size} bytes)`);
      await downloadListed(http, url, deb, p, 'the Packages index');
      const root = path.join(work, 'x', p.package);
      await mkdir(root, { recursive: true });
      await run('dpkg-deb', ['-x', deb, root]);
      unpacked.push({ src: s.src, root });
    }
  }
  const picked = new Map<string, string[]>();
  const put = async (src: string, from: string, name: string, rootDir: string) => {
    const real = await realpath(from);
    const realRoot = await realpath(rootDir);
    if (!real.startsWith(realRoot + path.sep)) throw new BootloaderImportError(`${from}: a link leaving the package; refusing it`);
    if (!(await stat(real)).isFile()) return false;
    const list = picked.get(src) ?? [];
    if (list.includes(name)) throw new BootloaderImportError(`${entry.os}/${entry.firmwarePlatform}: two files would be named ${name}`);
    await mkdir(path.join(work, 'pick', src), { recursive: true });
    await copyFile(real, path.join(work, 'pick', src, name));
    list.push(name);
    picked.set(src, list);
    return true;
  };
  for (const rule of entry.files) {
    let matched = 0;
    for (const u of unpacked) {
      if (GLOB.test(rule.source)) {
        const dir = path.dirname(rule.source);
        if (GLOB.test(dir)) throw new BootloaderImportError(`files: "${rule.source}": a wildcard is only allowed in the last path component`);
        const re = globToRegExp(path.basename(rule.source));
        const names = (await readdir(path.join(u.root, dir)).catch(() => [] as string[])).filter((n) => re.test(n)).sort();
        for (const n of names) if (await put(u.src, path.join(u.root, dir, n), n, u.root)) matched++;
      } else {
        const from = path.join(u.root, rule.source);
        if (await stat(from).catch(() => undefined)) {
          if (await put(u.src, from, rule.dest ?? path.basename(rule.source), u.root)) matched++;
        }
      }
    }
    if (matched === 0) throw new BootloaderImportError(`${entry.os}/${entry.firmwarePlatform}/${entry.arch}: no file ${rule.source} in ${entry.packages.join(', ')}`, { hint: 'the package layout differs from the config; list the package with dpkg -c' });
  }
  return picked;
}

/** A reproducible xz tar with the files at its root (sorted, root-owned, mtime 0). */
async function packArchive(dir: string, files: string[], out: string): Promise<void> {
  await mkdir(path.dirname(out), { recursive: true });
  await run('tar', ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '--mtime=@0', '--mode=u+rw,go+r,go-w', '-cJf', out, '-C', dir, '--', ...[...files].sort()], { XZ_OPT: '-6' });
}

function run(cmd: string, args: string[], env: Record<string, string> = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
    child.on('error', (e) => reject(new BootloaderImportError(`cannot run ${cmd}: ${e.message}`)));
    child.on('close', (code) => (code === 0 ? resolve() : reject(new BootloaderImportError(`${cmd} ${args.slice(0, 2).join(' ')} failed (exit ${code}): ${err.trim().split('\n').pop() ?? ''}`))));
  });
}
