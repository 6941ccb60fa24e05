import type { Fields, ProductsDocument } from '../model.js';

/**
 * Options of {@link condenseProducts}. `sticky` and `top` are the reference client's
 * (`products_condense(tree, sticky, top)`); the `version*` options exist for consumers that
 * read fields at a fixed level (MAAS 3.8) — see {@link maasCondense}.
 */
export interface CondenseOptions {
  /** Keys never hoisted from any level (e.g. `path`, `sha256`, `md5`, `size`). */
  sticky?: readonly string[];
  /**
   * Highest level values may reach: `'versions'` (default, as the reference client) hoists
   * items → versions → products; `'products'` also hoists products → document top level.
   */
  top?: 'versions' | 'products';
  /** Keys that never leave a version (not hoisted to the product). */
  versionSticky?: readonly string[];
  /**
   * Keys hoisted from the versions to the product by copying: when every version has the same
   * string value, the product gets it and every version keeps its own copy.
   */
  versionCopy?: readonly string[];
}

/** The sticky list of the original's stream maintenance (`meph2-util insert/promote/clean-md`). */
export const MEPH2_UTIL_STICKY: readonly string[] = ['di_version', 'kpackage', 'sha256', 'md5', 'path', 'ftype', 'src_package', 'src_version', 'src_release'];

/** The sticky list of the original's image builders (`meph2-build`, `meph2-cloudimg-sync`). */
export const MEPH2_BUILD_STICKY: readonly string[] = ['di_version', 'kpackage'];

/**
 * Item fields MAAS 3.8 reads only from the item itself (maas-acceptance R-FIELDS / R-MODEL):
 * they must never be hoisted out of the items.
 */
export const MAAS_ITEM_FIELDS: readonly string[] = [
  'ftype', 'path', 'sha256', 'sha512', 'md5', 'size', 'kpackage', 'di_version', 'src_package', 'src_release', 'src_version',
];

/** Version fields MAAS 3.8 reads only from the version (product-level copies are ignored). */
export const MAAS_VERSION_ONLY_FIELDS: readonly string[] = ['support_esm_eol'];

/** Fields MAAS 3.8 reads both from the product and from each version. */
export const MAAS_PRODUCT_AND_VERSION_FIELDS: readonly string[] = ['support_eol'];

type Node = Fields;

/**
 * The `move_dups` rule for one parent and its children: the keys that every child has with
 * the same string value, that are not sticky, and that the parent lacks or already has with
 * that value. Returned in the first child's key order.
 */
function sharedKeys(children: readonly Node[], parent: Node, sticky: ReadonlySet<string>): Map<string, string> {
  const hoist = new Map<string, string>();
  const first = children[0];
  if (first === undefined) return hoist;
  for (const key in first) {
    if (sticky.has(key)) continue;
    const value = first[key];
    if (typeof value !== 'string') continue;
    if (Object.prototype.hasOwnProperty.call(parent, key) && parent[key] !== value) continue;
    let shared = true;
    for (let i = 1; i < children.length; i++) {
      if ((children[i] as Node)[key] !== value) {
        shared = false;
        break;
      }
    }
    if (shared) hoist.set(key, value);
  }
  return hoist;
}

/**
 * A copy of `node` with its keys in sorted order (so the serializer can hand it to the native
 * JSON.stringify), minus `drop` (except keys in `keep`), plus `add`, with `replace` applied.
 * Building fresh objects instead of deleting keys keeps V8's fast object layout.
 */
function rebuild(node: Node, drop: ReadonlyMap<string, string> | undefined, add: ReadonlyMap<string, string> | undefined, replace?: [string, unknown], keep?: ReadonlySet<string>): Node {
  let keys = Object.keys(node);
  if (add) for (const k of add.keys()) if (!Object.prototype.hasOwnProperty.call(node, k)) keys.push(k);
  keys = sortedKeys(keys);
  const out: Node = {};
  for (const k of keys) {
    if (drop?.has(k) && !keep?.has(k)) continue;
    out[k] = replace && replace[0] === k ? replace[1] : Object.prototype.hasOwnProperty.call(node, k) ? node[k] : add!.get(k);
  }
  return out;
}

/** {@link rebuild} for the common case of an item losing hoisted keys (no additions). */
function copyWithout(node: Node, drop: ReadonlyMap<string, string>): Node {
  const keys = sortedKeys(Object.keys(node));
  const out: Node = {};
  for (const k of keys) if (!drop.has(k)) out[k] = node[k];
  return out;
}

interface KeyOrder {
  keys: string[];
  sorted: string[];
}

/**
 * Nodes of a document share a few key orders (one per kind of item, one for versions, …), met
 * in turn: the last few and their sorted forms, so that each is sorted once, not once per node.
 */
const RECENT_ORDERS = 8;
const recentOrders: KeyOrder[] = [];

function sortedKeys(keys: string[]): string[] {
  for (const order of recentOrders) {
    if (order.keys.length !== keys.length) continue;
    let same = true;
    for (let i = 0; i < keys.length; i++)
      if (keys[i] !== order.keys[i]) {
        same = false;
        break;
      }
    if (same) return order.sorted;
  }
  const sorted = [...keys].sort();
  if (recentOrders.unshift({ keys, sorted }) > RECENT_ORDERS) recentOrders.pop();
  return sorted;
}

/**
 * Condenses a products document: values shared by all children are hoisted to their parent
 * (items → version, then versions → product, then — with `top: 'products'` — products →
 * document), exactly as the reference client's `products_condense` (spec §6): only strings,
 * only keys present in every sibling with the same value, never sticky keys, and never over a
 * different value already on the parent. `flattenItems(condenseProducts(x))` equals
 * `flattenItems(x)`.
 *
 * Returns a new document: every product, version and item object is a fresh copy (the input
 * is not modified; field values themselves are shared). Product,
 * version and item names keep their order; the fields of every rebuilt node are in sorted
 * order. For streams that MAAS reads, use {@link maasCondense} instead: MAAS 3.8 does no
 * inheritance, so a field hoisted above the level it reads is missing to it.
 */
export function condenseProducts(doc: ProductsDocument, options: CondenseOptions = {}): ProductsDocument {
  const top = options.top ?? 'versions';
  if (top !== 'versions' && top !== 'products') throw new TypeError(`condenseProducts: top must be 'versions' or 'products', not ${JSON.stringify(top)}`);
  const sticky = new Set(options.sticky ?? []);
  const versionSticky = new Set([...sticky, ...(options.versionSticky ?? [])]);
  const versionCopy = new Set(options.versionCopy ?? []);

  const products: Record<string, Node> = {};
  for (const pname in doc.products) {
    const product = doc.products[pname] as Node & { versions?: Record<string, Node & { items?: Record<string, Node> }> };
    // items → each version
    const staged: Record<string, Node> = {};
    for (const vname in product.versions ?? {}) {
      const version = product.versions![vname]!;
      const itemsIn = version.items ?? {};
      const hoist = sharedKeys(Object.values(itemsIn), version, sticky);
      const items: Record<string, Node> = {};
      for (const iname in itemsIn) items[iname] = copyWithout(itemsIn[iname]!, hoist);
      staged[vname] = rebuild(version, undefined, hoist, ['items', items]);
    }
    // versions → the product
    const hoist = sharedKeys(Object.values(staged), product, versionSticky);
    let versions = staged;
    if (hoist.size && [...hoist.keys()].some((k) => !versionCopy.has(k))) {
      versions = {};
      for (const vname in staged) versions[vname] = rebuild(staged[vname]!, hoist, undefined, undefined, versionCopy);
    }
    products[pname] = rebuild(product, undefined, hoist, ['versions', versions]);
  }
  if (top === 'products') {
    const hoist = sharedKeys(Object.values(products), doc, sticky);
    if (hoist.size) for (const pname in products) products[pname] = rebuild(products[pname]!, hoist, undefined);
    return rebuild(doc, undefined, hoist, ['products', products]) as ProductsDocument;
  }
  return rebuild(doc, undefined, undefined, ['products', products]) as ProductsDocument;
}

/**
 * Condensing for MAAS streams: keeps every field at (or below) the level MAAS 3.8 reads it
 * from (maas-acceptance §1.5, §1.14), so the result passes `checkMaasStream` whenever the
 * input does. Item fields (`ftype`, `path`, `sha256`, `size`, `kpackage`, `src_*`, …) stay on
 * the items; shared product fields (`arch`, `label`, `os`, `release`, …) are hoisted up to
 * the product but never to the document top; `support_esm_eol` stays on the versions and
 * `support_eol` is copied to the product while each version keeps its own.
 *
 * Use this for every stream `meph2-util`/`meph2-build` write; use {@link condenseProducts}
 * with the reference options only where byte-compatibility with the reference client
 * matters more than MAAS (non-MAAS streams).
 */
export function maasCondense(doc: ProductsDocument, options: { sticky?: readonly string[] } = {}): ProductsDocument {
  return condenseProducts(doc, {
    sticky: [...MEPH2_UTIL_STICKY, ...MAAS_ITEM_FIELDS, ...(options.sticky ?? [])],
    top: 'versions',
    versionSticky: MAAS_VERSION_ONLY_FIELDS,
    versionCopy: MAAS_PRODUCT_AND_VERSION_FIELDS,
  });
}
