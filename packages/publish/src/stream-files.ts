import { promises as fsp } from 'node:fs';
import path from 'node:path';
import {
  assertSafeRelativePath,
  extractClearsignedPayload,
  flattenItems,
  INDEX_FORMAT,
  isClearsigned,
  parseJson,
  parseProducts,
  type IndexDocument,
  type ProductsDocument,
} from '@meph/simplestreams';

export const STREAMS_PREFIX = 'streams/v1/';
export const INDEX_JSON = 'streams/v1/index.json';

/** A data file a stream references: relative path, size and MD5 when the metadata gives them. */
export interface DataRef {
  path: string;
  size?: number;
  md5?: string;
}

/** Every distinct item path of the products documents (first occurrence wins), sorted. */
export function dataRefs(docs: readonly ProductsDocument[]): DataRef[] {
  const seen = new Map<string, DataRef>();
  for (const doc of docs) {
    for (const fi of flattenItems(doc)) {
      const p = fi['path'];
      if (typeof p !== 'string' || p === '' || seen.has(p)) continue;
      assertSafeRelativePath(p, doc.content_id);
      const size = Number(fi['size']);
      const md5 = fi['md5'];
      seen.set(p, { path: p, ...(Number.isFinite(size) && fi['size'] !== undefined ? { size } : {}), ...(typeof md5 === 'string' && /^[0-9a-f]{32}$/.test(md5) ? { md5 } : {}) });
    }
  }
  return [...seen.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Metadata files of a local stream: every .json/.sjson/.json.gpg under streams/v1 (hidden and temp files skipped). */
export async function localMetadataFiles(streamDir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    for (const e of await fsp.readdir(path.join(streamDir, rel), { withFileTypes: true })) {
      if (e.name.startsWith('.') || e.name.includes('.tmp')) continue;
      const child = `${rel}/${e.name}`;
      if (e.isDirectory()) await walk(child);
      else if (e.isFile() && /\.(json|sjson|json\.gpg)$/.test(e.name)) out.push(child);
    }
  };
  await walk('streams/v1');
  return out.sort();
}

/** Publishing order of metadata: products .json, then their signatures, then the index, then its signatures. */
export function metadataRank(key: string): number {
  const isIndex = /(^|\/)index\.(json|sjson|json\.gpg)$/.test(key);
  const isSig = key.endsWith('.sjson') || key.endsWith('.gpg');
  return (isIndex ? 2 : 0) + (isSig ? 1 : 0);
}

/** The signed/detached twins a metadata file `X.json` may have. */
export function metadataForms(jsonKey: string): string[] {
  const base = jsonKey.replace(/\.s?json$/, '');
  return [`${base}.json`, `${base}.sjson`, `${base}.json.gpg`];
}

/** The file a signature object signs, or undefined when the key is not a signature. */
export function signedBy(key: string): string | undefined {
  if (key.endsWith('.sjson')) return `${key.slice(0, -'.sjson'.length)}.json`;
  for (const ext of ['.gpg', '.asc', '.sig']) if (key.endsWith(ext)) return key.slice(0, -ext.length);
  return undefined;
}

/** A metadata document as text: the payload of a clearsigned file, unchecked (the reader checks signatures). */
function payload(bytes: Buffer, label: string): unknown {
  const text = bytes.toString('utf8');
  return parseJson(isClearsigned(text) ? extractClearsignedPayload(text, label) : text, label);
}

export interface StoreStream {
  index?: IndexDocument;
  /** content id → products document and the key it was read from. */
  products: Map<string, { key: string; doc: ProductsDocument }>;
  signed: boolean;
}

/**
 * Reads the stream currently published in a store (plain twins preferred, `.sjson` payloads
 * when only those exist). Signatures are not checked here: this view only decides what the
 * publish must keep; readers verify.
 */
export async function readStoreStream(get: (key: string) => Promise<Buffer | undefined>, label: string): Promise<StoreStream> {
  const result: StoreStream = { products: new Map(), signed: false };
  const [signedIndex, plainIndex] = await Promise.all([get('streams/v1/index.sjson'), get(INDEX_JSON)]);
  result.signed = signedIndex !== undefined;
  const raw = plainIndex ?? signedIndex;
  if (!raw) return result;
  const idx = payload(raw, `${label}/${INDEX_JSON}`) as IndexDocument;
  if (!idx || typeof idx !== 'object' || idx.format !== INDEX_FORMAT || typeof idx.index !== 'object') return result;
  result.index = idx;
  const entries = Object.entries(idx.index).filter(([, entry]) => typeof entry.path === 'string' && entry.path !== '');
  for (const [, entry] of entries) assertSafeRelativePath(entry.path, `${label}/${INDEX_JSON}`);
  // the products documents are fetched together (one round trip, not one per document), kept in index order
  const docs = await Promise.all(
    entries.map(async ([cid, entry]) => {
      const jsonKey = entry.path.replace(/\.sjson$/, '.json');
      const bytes = (await get(jsonKey)) ?? (await get(jsonKey.replace(/\.json$/, '.sjson')));
      return bytes ? { cid, key: jsonKey, doc: parseProducts(payload(bytes, `${label}/${jsonKey}`), `${label}/${jsonKey}`) } : undefined;
    }),
  );
  for (const d of docs) if (d) result.products.set(d.cid, { key: d.key, doc: d.doc });
  return result;
}

/** `content_id product version` of every version in `store` that `local` lacks. */
export function versionsMissingFrom(local: ReadonlyMap<string, ProductsDocument>, store: StoreStream): string[] {
  const missing: string[] = [];
  for (const [cid, { doc }] of store.products) {
    const mine = local.get(cid);
    for (const [pid, product] of Object.entries(doc.products)) {
      for (const v of Object.keys(product.versions ?? {})) if (!mine?.products[pid]?.versions?.[v]) missing.push(`${cid} ${pid} ${v}`);
    }
  }
  return missing;
}
