/**
 * Test support: a mirror tree held in memory, loaded from a fixture directory, edited by the
 * tests (one break per test) and read back the way MAAS would walk it. Broken streams must
 * still load here, which is why this does not use loadStream (that refuses them early).
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { IndexDocument, ProductsDocument } from '@meph/simplestreams';
import type { MaasStreamInput, MaasStreamSource } from '../types.js';
import { checkClearsignedLayout } from '../signed-layout.js';

export const GOOD_DIR = path.join(import.meta.dirname, 'good');
export const V3 = 'streams/v1/com.ubuntu.maas:stable:v3:download.json';
export const BOOTLOADERS = 'streams/v1/com.ubuntu.maas:stable:1:bootloader-download.json';
export const CENTOS = 'streams/v1/com.ubuntu.maas:stable:centos-bases-download.json';
export const INDEX = 'streams/v1/index.json';
export const SINDEX = 'streams/v1/index.sjson';
export const NOBLE = 'com.ubuntu.maas.stable:v3:boot:24.04:amd64:ga-24.04';
export const RESOLUTE = 'com.ubuntu.maas.stable:v3:boot:26.04:amd64:ga-26.04';
export const UEFI = 'com.ubuntu.maas.stable:1:grub-efi-signed:uefi:amd64';
export const CENTOS8 = 'com.ubuntu.maas.stable:centos-bases:8:amd64';

/** The original tools' dump format: sorted keys, indent 1. */
export function dumpJson(value: unknown): string {
  const sort = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(sort)
      : v !== null && typeof v === 'object'
        ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sort((v as Record<string, unknown>)[k])]))
        : v;
  return JSON.stringify(sort(value), null, 1) + '\n';
}

async function walk(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await walk(path.join(dir, e.name), rel)));
    else if (e.isFile()) out.push(rel);
  }
  return out;
}

export class Mirror {
  constructor(readonly files: Map<string, Buffer>) {}

  static async fromDir(dir: string): Promise<Mirror> {
    const files = new Map<string, Buffer>();
    for (const rel of await walk(dir)) files.set(rel, await readFile(path.join(dir, rel)));
    return new Mirror(files);
  }

  clone(): Mirror {
    return new Mirror(new Map(this.files));
  }

  text(rel: string): string {
    const b = this.files.get(rel);
    if (!b) throw new Error(`fixture has no ${rel}`);
    return b.toString('utf8');
  }

  setText(rel: string, text: string | Buffer): void {
    this.files.set(rel, typeof text === 'string' ? Buffer.from(text) : text);
  }

  delete(rel: string): void {
    this.files.delete(rel);
  }

  /** Edits a plain JSON document in place (parse → fn → dump). */
  edit(rel: string, fn: (doc: any) => void): void {
    const doc = JSON.parse(this.text(rel)) as unknown;
    fn(doc);
    this.setText(rel, dumpJson(doc));
  }

  source(): Required<MaasStreamSource> {
    return {
      exists: async (rel) => this.files.has(rel),
      readText: async (rel) => this.text(rel),
      openData: async (rel) => {
        const b = this.files.get(rel);
        if (!b) throw new Error(`${rel}: no such file`);
        return Readable.from([b]);
      },
    };
  }

  /** Walks the tree from an index the way MAAS does; unreadable files are left out. */
  load(indexPath = INDEX): MaasStreamInput {
    const parse = (rel: string): unknown => {
      const b = this.files.get(rel);
      if (!b) return undefined;
      const text = b.toString('utf8');
      try {
        return JSON.parse(rel.endsWith('.sjson') ? (checkClearsignedLayout(text).payload ?? '') : text) as unknown;
      } catch {
        return undefined;
      }
    };
    const index = parse(indexPath) as IndexDocument | undefined;
    const products: MaasStreamInput['products'] = [];
    for (const entry of Object.values(index?.index ?? {})) {
      if (entry.format === 'index:1.0') continue; // nested indexes are not products files
      const doc = typeof entry.path === 'string' ? parse(entry.path) : undefined;
      if (doc !== undefined) products.push({ path: entry.path, doc: doc as ProductsDocument });
    }
    return { ...(index ? { index, indexPath } : {}), products, source: this.source() };
  }

  async writeTo(dir: string): Promise<void> {
    for (const [rel, b] of this.files) {
      await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
      await writeFile(path.join(dir, rel), b);
    }
  }
}

/** A throw-away GnuPG home with one Ed25519 signing key (real gpg, no agent left behind). */
export class TestGpg {
  private constructor(readonly home: string) {}

  static async create(): Promise<TestGpg> {
    const home = await mkdtemp(path.join(os.tmpdir(), 'meph-maas-gpg-'));
    const gpg = new TestGpg(home);
    gpg.run(['--passphrase', '', '--quick-gen-key', 'meph maas test <maas-test@example.invalid>', 'ed25519', 'sign', 'never']);
    return gpg;
  }

  private run(args: string[], input?: string): string {
    return execFileSync('gpg', ['--homedir', this.home, '--batch', '--pinentry-mode', 'loopback', '--no-tty', ...args], {
      input: input ?? '',
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  }

  clearsign(text: string): string {
    return this.run(['--clearsign', '--digest-algo', 'SHA512', '--output', '-'], text);
  }

  /** Writes the public key as a keyring file: binary (as MAAS needs) or ASCII-armored. */
  async exportKeyring(armored: boolean): Promise<string> {
    const file = path.join(this.home, armored ? 'keyring.asc' : 'keyring.gpg');
    this.run(['--output', file, ...(armored ? ['--armor'] : []), '--export']);
    return file;
  }

  async dispose(): Promise<void> {
    try {
      execFileSync('gpgconf', ['--homedir', this.home, '--kill', 'all'], { stdio: 'ignore' });
    } catch {
      // no agent running
    }
    await rm(this.home, { recursive: true, force: true });
  }
}

/** Adds `.sjson` twins of every document under streams/v1 (index.sjson lists .sjson files). */
export function signMirror(m: Mirror, gpg: TestGpg): void {
  for (const rel of [...m.files.keys()]) {
    if (!rel.startsWith('streams/v1/') || !rel.endsWith('.json')) continue;
    let text = m.text(rel);
    if (rel === INDEX) {
      const doc = JSON.parse(text) as IndexDocument;
      for (const e of Object.values(doc.index)) e.path = e.path.replace(/\.json$/, '.sjson');
      text = dumpJson(doc);
    }
    m.setText(rel.replace(/\.json$/, '.sjson'), gpg.clearsign(text));
  }
}
