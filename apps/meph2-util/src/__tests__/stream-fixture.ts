/**
 * Test fixtures for the stream-editing commands: small but real streams (real files, real
 * sha256), shaped like meph2-build output (upstream-behaviour §3), and integrity checks.
 */
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadStream, verifyFile, buildIndex, writeJsonAtomic, serializeJson, type ProductsDocument, type Product, type Item } from '@meph/simplestreams';

export async function tempDir(prefix = 'meph-ops-'): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}

export interface FixtureRelease {
  release: string;
  version: string; // e.g. '24.04'
  arches: string[];
  subarches: string[]; // e.g. ['ga-24.04', 'hwe-24.04']
  codename?: string;
}

export const NOBLE: FixtureRelease = { release: 'noble', version: '24.04', arches: ['amd64'], subarches: ['ga-24.04', 'hwe-24.04'], codename: 'Noble Numbat' };
export const JAMMY: FixtureRelease = { release: 'jammy', version: '22.04', arches: ['amd64', 'arm64'], subarches: ['ga-22.04'], codename: 'Jammy Jellyfish' };

export interface FixtureOptions {
  label?: string; // candidate | stable | daily
  serials: string[];
  releases?: FixtureRelease[];
  /** Prefix for product ids / content id: 'com.ubuntu.maas' */
  fileBytes?: number;
}

export function contentId(label: string): string {
  return `com.ubuntu.maas:${label}:v3:download`;
}
export function productsPath(label: string): string {
  return `streams/v1/${contentId(label)}.json`;
}
export function productId(label: string, r: FixtureRelease, arch: string, subarch: string): string {
  return `com.ubuntu.maas.${label}:v3:boot:${r.version}:${arch}:${subarch}`;
}

/** Content derived from the path alone: the same version has the same files in every stream. */
function deterministicBytes(seed: string, bytes: number): Buffer {
  const chunks: Buffer[] = [Buffer.from(`${seed}\n`)];
  let block = createHash('sha256').update(seed).digest();
  for (let n = 0; n < bytes; n += block.length) {
    chunks.push(block);
    block = createHash('sha256').update(block).digest();
  }
  return Buffer.concat(chunks);
}

async function writeData(root: string, rel: string, bytes: number, seed: string): Promise<Item> {
  const abs = path.join(root, rel);
  await fs.mkdir(path.dirname(abs), { recursive: true });
  let data: Buffer;
  try {
    data = await fs.readFile(abs);
  } catch {
    data = deterministicBytes(seed, bytes);
    await fs.writeFile(abs, data);
  }
  return { path: rel, size: data.length, sha256: createHash('sha256').update(data).digest('hex') };
}

/**
 * Writes a stream like meph2-build's output into `root`: per release/arch/serial one squashfs
 * + manifest shared by all kernel products, per subarch a kernel and initrd. Product fields at
 * product level, support_esm_eol on versions, item fields on items.
 */
export async function makeStream(root: string, options: FixtureOptions): Promise<ProductsDocument> {
  const label = options.label ?? 'candidate';
  const releases = options.releases ?? [NOBLE];
  const bytes = options.fileBytes ?? 512;
  const products: Record<string, Product> = {};
  for (const r of releases) {
    for (const arch of r.arches) {
      for (const subarch of r.subarches) {
        const pid = productId(label, r, arch, subarch);
        const product: Product = {
          arch,
          kflavor: 'generic',
          krel: r.release,
          label,
          os: 'ubuntu',
          release: r.release,
          release_codename: r.codename ?? r.release,
          release_title: `${r.version} LTS`,
          subarch,
          subarches: `generic,${subarch}`,
          support_eol: '2029-05-31',
          version: r.version,
          versions: {},
        };
        for (const serial of options.serials) {
          const base = `${r.release}/${arch}/${serial}`;
          const squash = await writeData(root, `${base}/squashfs`, bytes, `${base}/squashfs`);
          const manifest = await writeData(root, `${base}/squashfs.manifest`, 64, `${base}/manifest`);
          const kernel = await writeData(root, `${base}/${subarch}/generic/boot-kernel`, bytes, `${base}/${subarch}/kernel`);
          const initrd = await writeData(root, `${base}/${subarch}/generic/boot-initrd`, bytes, `${base}/${subarch}/initrd`);
          product.versions[serial] = {
            support_esm_eol: '2034-05-31',
            items: {
              'boot-kernel': { ftype: 'boot-kernel', kpackage: 'linux-generic', ...kernel },
              'boot-initrd': { ftype: 'boot-initrd', kpackage: 'linux-generic', ...initrd },
              squashfs: { ftype: 'squashfs', ...squash },
              manifest: { ftype: 'manifest', ...manifest },
            },
          };
        }
        products[pid] = product;
      }
    }
  }
  const doc = { format: 'products:1.0', content_id: contentId(label), datatype: 'image-downloads', updated: 'Thu, 23 Jul 2026 10:07:14 +0000', products } as ProductsDocument;
  const rel = productsPath(label);
  await fs.mkdir(path.join(root, 'streams/v1'), { recursive: true });
  await fs.writeFile(path.join(root, rel), serializeJson(doc));
  await writeJsonAtomic(path.join(root, 'streams/v1/index.json'), buildIndex([{ path: rel, doc }]));
  return doc;
}

/** Reads a products file of a stream directory. */
export async function readProducts(root: string, rel: string): Promise<ProductsDocument> {
  return JSON.parse(await fs.readFile(path.join(root, rel), 'utf8')) as ProductsDocument;
}

/** `{pid: [versions…]}` of a products file, versions sorted. */
export function versionMap(doc: ProductsDocument): Record<string, string[]> {
  return Object.fromEntries(Object.entries(doc.products).map(([pid, p]) => [pid, Object.keys(p.versions).sort()]));
}

/**
 * The stream reads through its index.json, and every item's file exists with the right size
 * and checksums. Returns the number of items checked.
 */
export async function assertStreamIntact(root: string): Promise<number> {
  const stream = await loadStream(path.join(root, 'streams/v1/index.json'), { policy: 'off' });
  let n = 0;
  const checked = new Set<string>();
  for (const { doc } of stream.products) {
    for (const p of Object.values(doc.products)) {
      for (const v of Object.values(p.versions)) {
        for (const item of Object.values(v.items)) {
          n += 1;
          if (!item.path || checked.has(item.path)) continue;
          checked.add(item.path);
          await verifyFile(path.join(root, item.path), item);
        }
      }
    }
  }
  return n;
}

/** All files under root (relative, sorted), skipping nothing. */
export async function listFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const e of await fs.readdir(dir, { withFileTypes: true })) {
      const abs = path.join(dir, e.name);
      if (e.isDirectory()) await walk(abs);
      else out.push(path.relative(root, abs));
    }
  };
  await walk(root);
  return out.sort();
}

/** A throw-away signing key in its own GNUPGHOME: armored secret key file + binary public keyring. */
export async function throwAwayKey(dir: string): Promise<{ home: string; secretKey: string; keyring: string }> {
  const home = path.join(dir, 'gnupg');
  await fs.mkdir(home, { recursive: true, mode: 0o700 });
  const env = { ...process.env, GNUPGHOME: home, LC_ALL: 'C' };
  const gen = spawnSync('gpg', ['--batch', '--no-tty', '--pinentry-mode', 'loopback', '--passphrase', '', '--quick-gen-key', 'meph ops test <ops@example.invalid>', 'ed25519', 'sign', 'never'], { env });
  if (gen.status !== 0) throw new Error(`gpg key generation failed: ${gen.stderr.toString()}`);
  const secret = spawnSync('gpg', ['--batch', '--pinentry-mode', 'loopback', '--passphrase', '', '--armor', '--export-secret-keys'], { env });
  const pub = spawnSync('gpg', ['--batch', '--export'], { env });
  const secretKey = path.join(dir, 'secret.asc');
  const keyring = path.join(dir, 'pub.gpg');
  await fs.writeFile(secretKey, secret.stdout, { mode: 0o600 });
  await fs.writeFile(keyring, pub.stdout);
  return { home, secretKey, keyring };
}
