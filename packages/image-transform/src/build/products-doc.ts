import { formatUpdated, maasCondense, MEPH2_BUILD_STICKY, PRODUCTS_FORMAT, type FlatItem, type Item, type ProductsDocument } from '@meph/simplestreams';
import type { VersionPlan } from '../metadata/plan.js';

/** Size and sha256 of one built file, by relative path. */
export type FileDigests = ReadonlyMap<string, { size: number; sha256: string }>;

/**
 * The products of one built version, uncondensed: every item carries all its fields (as the
 * original's `create_version` returns them), ready to be inserted into another tree.
 */
export function expandedProducts(plan: VersionPlan, digests: FileDigests, updated = formatUpdated()): ProductsDocument {
  const doc: ProductsDocument = { format: PRODUCTS_FORMAT, content_id: plan.contentId, datatype: 'image-downloads', updated, products: {} };
  for (const p of plan.products) {
    const items: Record<string, Item> = {};
    for (const [name, planned] of Object.entries(p.items)) {
      const digest = digests.get(planned.path);
      if (!digest) throw new Error(`internal: no digest for ${planned.path}`);
      const item: Item = { ...p.fields, ftype: planned.ftype, path: planned.path, size: digest.size, sha256: digest.sha256 };
      if (planned.kpackage) item['kpackage'] = planned.kpackage;
      items[name] = item;
    }
    doc.products[p.productId] = { versions: { [plan.version]: { items } } };
  }
  return doc;
}

/**
 * What meph2-build writes to `streams/v1/<content_id>.json`: the new products condensed as
 * the original does (sticky `di_version`, `kpackage`) but never above the level MAAS 3.8 reads
 * a field from.
 */
export function condensedProducts(expanded: ProductsDocument): ProductsDocument {
  return maasCondense(expanded, { sticky: MEPH2_BUILD_STICKY });
}

/** `--flat-json`: every new item with all its fields plus product/version/item names. */
export function flatItems(expanded: ProductsDocument): FlatItem[] {
  const out: FlatItem[] = [];
  for (const [productName, product] of Object.entries(expanded.products)) {
    for (const [versionName, version] of Object.entries(product.versions)) {
      for (const [itemName, item] of Object.entries(version.items)) {
        out.push({ ...item, content_id: expanded.content_id, product_name: productName, version_name: versionName, item_name: itemName });
      }
    }
  }
  return out;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]));
  }
  return value;
}

/** The `--flat-json` file text: a list, keys sorted, indent 2 (as the original). */
export function flatJsonText(items: readonly FlatItem[]): string {
  return `${JSON.stringify(sortKeys(items.map(({ content_id: _cid, ...rest }) => rest)), null, 2)}\n`;
}
