import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildIndex, serializeJson, type ProductsDocument } from '@meph/simplestreams';
import { signStream, type Signer } from '@meph/signer';
import { INDEX_JSON, type StoreStream } from './stream-files.js';

/**
 * A local products document with every version (and product) the store has and it lacks:
 * what another publisher landed meanwhile is kept; where both have a version, ours wins.
 */
export function mergeProducts(local: ProductsDocument | undefined, store: ProductsDocument | undefined): ProductsDocument {
  if (!local) return structuredClone(store!);
  const merged = structuredClone(local);
  for (const [pid, product] of Object.entries(store?.products ?? {})) {
    const mine = merged.products[pid];
    if (!mine) {
      merged.products[pid] = structuredClone(product);
      continue;
    }
    mine.versions ??= {};
    for (const [v, version] of Object.entries(product.versions ?? {})) if (!mine.versions[v]) mine.versions[v] = structuredClone(version);
  }
  return merged;
}

export interface StagedMerge {
  /** A stream directory holding only the merged metadata (streams/v1), to publish from. */
  dir: string;
  docs: Map<string, ProductsDocument>;
  cleanup(): Promise<void>;
}

/**
 * Writes the merged metadata of `local` (content id → document and its path) and `store` into
 * a temporary stream directory: products files, a fresh index, and, with a signer, their
 * signatures. The data objects of the store's versions are already in the store.
 */
export async function stageMerge(local: ReadonlyMap<string, { path: string; doc: ProductsDocument }>, store: StoreStream, signer: Signer | undefined): Promise<StagedMerge> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'meph-publish-merge-'));
  try {
    const docs = new Map<string, ProductsDocument>();
    const entries: { path: string; doc: ProductsDocument }[] = [];
    const cids = new Set([...local.keys(), ...store.products.keys()]);
    for (const cid of [...cids].sort()) {
      const mine = local.get(cid);
      const theirs = store.products.get(cid);
      const doc = mergeProducts(mine?.doc, theirs?.doc);
      const rel = mine?.path ?? theirs!.key;
      await fsp.mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
      await fsp.writeFile(path.join(dir, rel), serializeJson(doc));
      docs.set(cid, doc);
      entries.push({ path: rel, doc });
    }
    await fsp.writeFile(path.join(dir, INDEX_JSON), serializeJson(buildIndex(entries)));
    if (signer) await signStream(dir, signer);
    return { dir, docs, cleanup: () => fsp.rm(dir, { recursive: true, force: true }) };
  } catch (err) {
    await fsp.rm(dir, { recursive: true, force: true });
    throw err;
  }
}
