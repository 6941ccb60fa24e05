import path from 'node:path';
import { commitStreamUpdate, expandProducts, formatUpdated, withStreamLock, type ProductsDocument, type StreamLockHold } from '@meph/simplestreams';
import { condensedProducts } from './products-doc.js';

export interface CommitProductsOptions {
  contentId: string;
  /** Newly built versions, expanded (every field on every item). */
  added: readonly ProductsDocument[];
  /** Products the file keeps besides the new ones (cloudimg-sync: the target's current products). */
  base?: ProductsDocument;
  /** Timestamp for `updated`. */
  now?: Date;
  /** The stream's lock, when the caller already holds it (cloudimg-sync holds it throughout). */
  lock?: StreamLockHold;
}

export interface CommittedProducts {
  /** What was written (MAAS-condensed). */
  doc: ProductsDocument;
  productsPath: string;
  indexPath: string;
  indexWritten: boolean;
}

/** `base` + `added` as one expanded products document of `contentId` (a new version of a product replaces the same version). */
export function mergeProducts(contentId: string, added: readonly ProductsDocument[], base?: ProductsDocument): ProductsDocument {
  const out: ProductsDocument = { format: 'products:1.0', content_id: contentId, datatype: 'image-downloads', products: {} };
  if (base) Object.assign(out.products, expandProducts({ ...base, content_id: contentId }).products);
  for (const doc of added) {
    for (const [pid, product] of Object.entries(doc.products)) {
      const existing = out.products[pid];
      if (existing) Object.assign(existing.versions, product.versions);
      else out.products[pid] = product;
    }
  }
  return out;
}

/**
 * The one "products → stream" step of meph2-build and meph2-cloudimg-sync: merges the new
 * versions into `base`, condenses for MAAS (sticky `di_version`, `kpackage`), stamps
 * `updated` and `datatype`, and writes `streams/v1/<content_id>.json` then the regenerated
 * index, each atomically, under the stream's writer lock. Data files must already be in place.
 */
export async function commitProducts(root: string, options: CommitProductsOptions): Promise<CommittedProducts> {
  const merged = mergeProducts(options.contentId, options.added, options.base);
  const doc = condensedProducts(merged);
  doc.updated = formatUpdated(options.now ?? new Date());
  doc.datatype = 'image-downloads';
  const rel = `streams/v1/${options.contentId}.json`;
  const commit = await withStreamLock(root, (held) => commitStreamUpdate(root, { products: [{ path: rel, doc }], index: 'regenerate', lock: { held } }), options.lock ? { held: options.lock } : {});
  return { doc, productsPath: path.join(root, rel), indexPath: path.join(root, 'streams/v1/index.json'), indexWritten: Boolean(commit.index) };
}
