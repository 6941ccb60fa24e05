import type { FlatItem, Item, Product, ProductsDocument, Version } from '../model.js';
import { applyAliases, flatItem, isInheritable, productBase, topBase, versionBase } from './expand.js';
import type { Filter } from './filters.js';
import { newestFirst } from './versions.js';

export interface SelectOptions {
  /** Build the flat record of each selected item (default true). */
  flat?: boolean;
  /** Keep at most this many versions per product (newest first), counted after item filtering. */
  max?: number;
  /** Flat records with the reference client's string values (default true). */
  stringify?: boolean;
}

export interface SelectedItem {
  productName: string;
  versionName: string;
  itemName: string;
  /** The item as stored in the document. */
  item: Item;
  /** Set unless `flat: false` was asked for. */
  flat?: FlatItem;
}

/**
 * The reference client's selection (sstream-query / mirror): items are filtered first (on
 * their flat records), a version with no item left disappears, then the newest `max`
 * versions of each product are kept. Order: products in document order, versions newest
 * first (plain string order), items in document order. Older versions are not even
 * flattened once `max` is reached.
 */
export function selectItems(doc: ProductsDocument, filters: readonly Filter[], options: SelectOptions = {}): SelectedItem[] {
  return Array.from(iterateSelectedItems(doc, filters, options));
}

/** {@link selectItems} one item at a time, so a caller can stream its output. */
export function* iterateSelectedItems(doc: ProductsDocument, filters: readonly Filter[], options: SelectOptions = {}): Generator<SelectedItem> {
  const stringify = options.stringify ?? true;
  const wantFlat = options.flat ?? true;
  const max = options.max;
  const view = applyAliases(doc);
  const top = topBase(view, false);
  const topOut = wantFlat && stringify ? topBase(view, true) : top;
  const nf = filters.length;
  if (max !== undefined && max <= 0) return;
  for (const pname in view.products) {
    const product = view.products[pname]!;
    if (nf > 0 && rejectedWhole(filters, top, pname, product)) continue;
    const rawProduct = doc.products[pname]!;
    const pbase = wantFlat ? productBase(topOut, pname, product, stringify) : undefined;
    let kept = 0;
    for (const vname of newestFirst(Object.keys(product.versions ?? {}))) {
      const version = product.versions[vname]!;
      const rawItems = rawProduct.versions[vname]!.items;
      // Built when the first item passes: most versions of a filtered query have none.
      let vbase: Record<string, unknown> | undefined;
      let any = false;
      for (const iname in version.items) {
        const item = version.items[iname]!;
        // Filters look the key up level by level (same answer as on the flat record, without building it).
        let pass = true;
        for (let f = 0; f < nf && pass; f++) {
          const filter = filters[f]!;
          pass = filter.testValue(lookup(filter.key, top, pname, product, vname, version, iname, item));
        }
        if (!pass) continue;
        any = true;
        const selected: SelectedItem = { productName: pname, versionName: vname, itemName: iname, item: rawItems[iname]! };
        if (pbase) selected.flat = flatItem((vbase ??= versionBase(pbase, vname, version, stringify)), iname, item, stringify);
        yield selected;
      }
      if (any && max !== undefined && ++kept >= max) break;
    }
  }
}

/**
 * True when a filter rejects every item of the product without looking at them one by one: the
 * value it tests comes from the product (or the document) for every item, because no version
 * or item sets that key itself, and it fails. In a MAAS stream filtered on `release` or
 * `arch`, most products go this way.
 */
function rejectedWhole(filters: readonly Filter[], top: Record<string, unknown>, pname: string, product: Product): boolean {
  for (const filter of filters) {
    const key = filter.key;
    if (key === 'item_name' || key === 'version_name') continue;
    let value: unknown;
    if (key === 'product_name') value = pname;
    else {
      const own = product[key];
      value = own !== undefined && isInheritable(own) ? own : top[key];
    }
    if (!filter.testValue(value) && !setBelowProduct(key, product)) return true;
  }
  return false;
}

/** Whether any version or item of the product has its own `key`. */
function setBelowProduct(key: string, product: Product): boolean {
  const versions = product.versions;
  for (const vname in versions) {
    const version = versions[vname]!;
    if (version[key] !== undefined) return true;
    const items = version.items;
    for (const iname in items) if (items[iname]![key] !== undefined) return true;
  }
  return false;
}

/** The value `key` has in the flat record of one item (deepest level wins; objects skipped). */
function lookup(key: string, top: Record<string, unknown>, pname: string, product: Product, vname: string, version: Version, iname: string, item: Item): unknown {
  if (key === 'item_name') return iname;
  let v = item[key];
  if (v !== undefined && isInheritable(v)) return v;
  if (key === 'version_name') return vname;
  v = version[key];
  if (v !== undefined && isInheritable(v)) return v;
  if (key === 'product_name') return pname;
  v = product[key];
  if (v !== undefined && isInheritable(v)) return v;
  return top[key];
}

/**
 * A copy of the document holding only the items that pass the filters, only versions with
 * at least one such item (at most `max` newest per product) and only products with a
 * version left. Items, and the fields of products/versions, are the original objects.
 * Products, versions and items keep their document order.
 */
export function filterProducts(doc: ProductsDocument, filters: readonly Filter[], options: { max?: number } = {}): ProductsDocument {
  const selected = selectItems(doc, filters, { ...options, flat: false });
  const chosen = new Map<string, Map<string, Set<string>>>();
  for (const s of selected) {
    let versions = chosen.get(s.productName);
    if (!versions) chosen.set(s.productName, (versions = new Map<string, Set<string>>()));
    let items = versions.get(s.versionName);
    if (!items) versions.set(s.versionName, (items = new Set()));
    items.add(s.itemName);
  }
  const products: Record<string, Product> = {};
  for (const pname in doc.products) {
    const versions = chosen.get(pname);
    if (!versions) continue;
    const product = doc.products[pname]!;
    const newVersions: Record<string, Version> = {};
    for (const vname in product.versions) {
      const items = versions.get(vname);
      if (!items) continue;
      const version = product.versions[vname]!;
      const newItems: Record<string, Item> = {};
      for (const iname in version.items) if (items.has(iname)) newItems[iname] = version.items[iname]!;
      newVersions[vname] = { ...version, items: newItems };
    }
    products[pname] = { ...product, versions: newVersions };
  }
  return { ...doc, products };
}
