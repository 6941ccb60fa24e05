// Test helpers: small real streams (data files with real checksums) and a strict checker.
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { IndexDocument, Item, ProductsDocument } from '../../model.js';
import { verifyFile } from '../checksum.js';
import type { DataFileUpdate } from '../commit.js';

export interface BuiltVersion {
  data: DataFileUpdate[];
  /** product name → version name → items */
  items: Record<string, Record<string, Record<string, Item>>>;
}

/** Writes source files for `versions` of each product into `srcDir` and describes them. */
export async function makeVersions(srcDir: string, products: string[], versions: string[], sizeBytes = 64 * 1024): Promise<BuiltVersion> {
  const out: BuiltVersion = { data: [], items: {} };
  for (const p of products) {
    for (const v of versions) {
      for (const ftype of ['boot-kernel', 'squashfs']) {
        const rel = `${p.split(':').pop()}/${v}/${ftype}`;
        const body = Buffer.alloc(sizeBytes, `${p}/${v}/${ftype}`);
        const from = path.join(srcDir, rel.replaceAll('/', '_'));
        await fsp.mkdir(srcDir, { recursive: true });
        await fsp.writeFile(from, body);
        const item: Item = { ftype, path: rel, size: body.length, sha256: createHash('sha256').update(body).digest('hex') };
        ((out.items[p] ??= {})[v] ??= {})[ftype] = item;
        out.data.push({ from, to: rel, expected: item });
      }
    }
  }
  return out;
}

export function productsDoc(contentId: string, items: BuiltVersion['items']): ProductsDocument {
  const products: ProductsDocument['products'] = {};
  for (const [p, versions] of Object.entries(items)) {
    products[p] = { arch: 'amd64', label: 'candidate', versions: {} };
    for (const [v, its] of Object.entries(versions)) products[p].versions[v] = { items: structuredClone(its) };
  }
  return { format: 'products:1.0', content_id: contentId, datatype: 'image-downloads', updated: 'Mon, 01 Jan 2024 00:00:00 +0000', products };
}

export interface StreamState {
  index: IndexDocument;
  /** relative products path → parsed document */
  products: Record<string, ProductsDocument>;
}

/**
 * Reads a stream as a client would and checks it completely: index parses, every entry's
 * products file parses, every item's file exists with the right size and sha256, and no
 * `.json` in streams/v1 is anything but a products file or the index.
 */
export async function readAndCheckStream(root: string): Promise<StreamState> {
  const index = JSON.parse(await fsp.readFile(path.join(root, 'streams/v1/index.json'), 'utf8')) as IndexDocument;
  if (index.format !== 'index:1.0') throw new Error(`bad index format ${String(index.format)}`);
  const products: Record<string, ProductsDocument> = {};
  for (const entry of Object.values(index.index)) {
    const doc = JSON.parse(await fsp.readFile(path.join(root, entry.path), 'utf8')) as ProductsDocument;
    if (doc.format !== 'products:1.0') throw new Error(`${entry.path}: bad format`);
    products[entry.path] = doc;
    for (const product of Object.values(doc.products))
      for (const version of Object.values(product.versions))
        for (const item of Object.values(version.items)) await verifyFile(path.join(root, String(item.path)), item);
  }
  for (const name of await fsp.readdir(path.join(root, 'streams/v1'))) {
    if (!name.endsWith('.json')) continue;
    const doc = JSON.parse(await fsp.readFile(path.join(root, 'streams/v1', name), 'utf8')) as { format?: string };
    if (doc.format !== 'products:1.0' && doc.format !== 'index:1.0') throw new Error(`streams/v1/${name} is not a stream document`);
  }
  return { index, products };
}

/** Every file below `dir` (relative paths), for "no temp file left" checks. */
export async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fsp.readdir(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await listFiles(path.join(dir, e.name), rel)));
    else out.push(rel);
  }
  return out.sort();
}
