/**
 * Generates a cloud-images-shaped feed: `streams/v1/index.json` and
 * `streams/v1/com.ubuntu.cloud:<stream>:download.json` whose versions carry real root
 * tarballs (`root.tar.xz`: a tiny tree packed with tar + xz, deterministic per serial, or a
 * given real rootfs tarball such as a bookworm minbase) and a manifest.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, link, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface FeedProduct {
  release: string;
  /** Release number (`24.04`, `12`). */
  version: string;
  arch: string;
  serials: string[];
  os?: string;
  releaseTitle?: string;
  releaseCodename?: string;
}

export interface FeedSpec {
  stream?: 'daily' | 'candidate';
  products: FeedProduct[];
  /** A real root tarball (`.tar.xz`) to publish for every version instead of the tiny tree. */
  rootTarball?: string;
}

export interface GeneratedFeed {
  root: string;
  contentId: string;
  productsPath: string;
}

async function fileSha256(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(file)) h.update(c as Buffer);
  return h.digest('hex');
}

/** A tiny but real root filesystem tarball (tar + xz), identical bytes for identical inputs. */
export async function makeTinyRootTarball(out: string, label: string): Promise<void> {
  const tree = await mkdtemp(path.join(os.tmpdir(), 'meph-tinyroot-'));
  try {
    for (const d of ['bin', 'etc', 'usr/bin', 'var/lib/dpkg', 'tmp', 'root']) await mkdir(path.join(tree, d), { recursive: true });
    await writeFile(path.join(tree, 'etc/os-release'), `PRETTY_NAME="meph fixture ${label}"\nNAME="meph-fixture"\nID=meph-fixture\n`);
    await writeFile(path.join(tree, 'etc/hostname'), 'fixture\n');
    await writeFile(path.join(tree, 'var/lib/dpkg/status'), `Package: base-files\nStatus: install ok installed\nVersion: ${label}\nArchitecture: all\n\n`);
    await writeFile(path.join(tree, 'usr/bin/hello'), '#!/bin/sh\necho hello\n', { mode: 0o755 });
    await mkdir(path.dirname(out), { recursive: true });
    await run('tar', ['--sort=name', '--mtime=2026-01-01 00:00Z', '--owner=0', '--group=0', '--numeric-owner', '-C', tree, '-cJf', out, '.']);
  } finally {
    await rm(tree, { recursive: true, force: true });
  }
}

export async function generateCloudFeed(root: string, spec: FeedSpec): Promise<GeneratedFeed> {
  const stream = spec.stream ?? 'daily';
  const contentId = `com.ubuntu.cloud:${stream}:download`;
  const products: Record<string, unknown> = {};
  for (const p of spec.products) {
    const versions: Record<string, unknown> = {};
    for (const serial of p.serials) {
      const base = `server/${p.release}/${serial}/${p.release}-server-cloudimg-${p.arch}`;
      const tarRel = `${base}-root.tar.xz`;
      const tarAbs = path.join(root, tarRel);
      await mkdir(path.dirname(tarAbs), { recursive: true });
      await rm(tarAbs, { force: true });
      if (spec.rootTarball) await link(spec.rootTarball, tarAbs).catch(() => copyFile(spec.rootTarball!, tarAbs));
      else await makeTinyRootTarball(tarAbs, `${p.release}-${p.arch}-${serial}`);
      const manifestRel = `${base}.manifest`;
      await writeFile(path.join(root, manifestRel), `base-files\t${serial}\n`);
      const item = async (rel: string, ftype: string) => ({ ftype, path: rel, sha256: await fileSha256(path.join(root, rel)), size: (await stat(path.join(root, rel))).size });
      versions[serial] = {
        label: stream === 'daily' ? 'daily' : 'release',
        pubname: `ubuntu-${p.release}-${stream}-${p.arch}-server-${serial}`,
        items: { 'root.tar.xz': await item(tarRel, 'root.tar.xz'), manifest: await item(manifestRel, 'manifest') },
      };
    }
    const cloud = stream === 'daily' ? 'com.ubuntu.cloud.daily' : 'com.ubuntu.cloud.candidate';
    products[`${cloud}:server:${p.version}:${p.arch}`] = {
      arch: p.arch,
      os: p.os ?? 'ubuntu',
      release: p.release,
      release_codename: p.releaseCodename ?? p.release,
      release_title: p.releaseTitle ?? p.version,
      version: p.version,
      versions,
    };
  }
  const updated = 'Thu, 01 Jan 2026 00:00:00 +0000';
  const doc = { content_id: contentId, datatype: 'image-downloads', format: 'products:1.0', updated, products };
  const productsPath = `streams/v1/${contentId}.json`;
  await mkdir(path.join(root, 'streams/v1'), { recursive: true });
  await writeFile(path.join(root, productsPath), `${JSON.stringify(doc, null, 1)}\n`);
  const index = {
    format: 'index:1.0',
    updated,
    index: { [contentId]: { datatype: 'image-downloads', format: 'products:1.0', path: productsPath, products: Object.keys(products).sort(), updated } },
  };
  await writeFile(path.join(root, 'streams/v1/index.json'), `${JSON.stringify(index, null, 1)}\n`);
  return { root, contentId, productsPath };
}
