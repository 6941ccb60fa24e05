import { AliasError } from '../errors.js';
import type { FlatItem, Item, Product, ProductsDocument, Version } from '../model.js';

type Obj = Record<string, unknown>;

/** Strings, numbers and booleans are inherited; objects, arrays and null stay where they are. */
export function isInheritable(v: unknown): v is string | number | boolean {
  const t = typeof v;
  return t === 'string' || t === 'number' || t === 'boolean';
}

/**
 * The reference client's `str()` of a scalar: booleans are `True`/`False`, numbers their
 * decimal form (a JSON `1.0` reads as 1 here and prints `1`, unlike Python's `1.0`).
 */
export function pyStr(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  return undefined;
}

/**
 * A metadata value as text for messages and comparisons: strings as they are, other scalars via
 * String(), objects and arrays (hostile or malformed metadata) as JSON, never "[object Object]".
 */
export function scalarText(v: unknown): string {
  if (typeof v === 'object' && v !== null) return JSON.stringify(v);
  return String(v);
}

/**
 * The expanded tree (reference client's expanded form): every item carries all scalar
 * fields of its product and version (deepest level wins); products and versions keep only
 * their non-scalar fields (`versions`/`items`, objects such as `requirements`); top-level
 * fields are untouched. Returns a new document; the input is not modified and item values
 * keep their JSON types.
 */
export function expandProducts(doc: ProductsDocument): ProductsDocument {
  const out: Obj = {};
  for (const k in doc) if (k !== 'products') out[k] = doc[k];
  const products: Record<string, Product> = {};
  for (const pname in doc.products) {
    const product = doc.products[pname]!;
    const pInherited: Obj = {};
    const newProduct: Obj = {};
    for (const k in product) {
      if (k === 'versions') continue;
      const v = product[k];
      if (isInheritable(v)) pInherited[k] = v;
      else newProduct[k] = v;
    }
    const versions: Record<string, Version> = {};
    for (const vname in product.versions) {
      const version = product.versions[vname]!;
      const vInherited: Obj = Object.assign({}, pInherited);
      const newVersion: Obj = {};
      for (const k in version) {
        if (k === 'items') continue;
        const v = version[k];
        if (isInheritable(v)) vInherited[k] = v;
        else newVersion[k] = v;
      }
      const items: Record<string, Item> = {};
      for (const iname in version.items) items[iname] = { ...vInherited, ...version.items[iname] };
      newVersion['items'] = items;
      versions[vname] = newVersion as Version;
    }
    newProduct['versions'] = versions;
    products[pname] = newProduct as Product;
  }
  out['products'] = products;
  return out as ProductsDocument;
}

export interface FlattenOptions {
  /** Convert values to the reference client's strings (`38` → `"38"`, `true` → `"True"`), as sstream-query prints them. */
  stringify?: boolean;
}

/** Scalar fields of one level copied onto `into` (converted with pyStr when stringify). */
export function addScalars(into: Obj, level: Obj, stringify: boolean): void {
  for (const k in level) {
    const v = level[k];
    if (stringify) {
      const s = pyStr(v);
      if (s !== undefined) into[k] = s;
    } else if (isInheritable(v)) into[k] = v;
  }
}

/**
 * Applies the document's `_aliases` table the way the reference client does before it
 * flattens: every object in the tree whose field has an alias table and a non-empty string
 * value gets that table entry merged in (overwriting). Returns the document itself when it
 * has no `_aliases`, otherwise an expanded deep copy. An unknown value is an AliasError.
 */
export function applyAliases(doc: ProductsDocument, source = String(doc.content_id)): ProductsDocument {
  const refs = doc['_aliases'];
  if (typeof refs !== 'object' || refs === null || Array.isArray(refs)) return doc;
  const table = refs as Record<string, unknown>;
  const copy = structuredClone(doc) as unknown;
  const walk = (data: unknown): void => {
    if (Array.isArray(data)) {
      for (const x of data) walk(x);
      return;
    }
    if (typeof data !== 'object' || data === null) return;
    const o = data as Obj;
    for (const key of Object.keys(o)) {
      if (key === '_aliases') continue;
      const ref = table[key];
      if (typeof ref !== 'object' || ref === null || Object.keys(ref).length === 0) continue;
      const value = o[key];
      if (typeof value !== 'string' || value === '') continue;
      const entry = (ref as Obj)[value];
      if (typeof entry !== 'object' || entry === null) throw new AliasError(source, key, value);
      Object.assign(o, entry);
    }
    for (const key in o) if (key !== '_aliases') walk(o[key]);
  };
  walk(copy);
  return copy as ProductsDocument;
}

/** Flat record of one product level: top-level scalars + product scalars + product_name. */
export function productBase(top: Obj, pname: string, product: Obj, stringify: boolean): Obj {
  const base = Object.assign({}, top);
  addScalars(base, product, stringify);
  base['product_name'] = pname;
  return base;
}

export function versionBase(pbase: Obj, vname: string, version: Obj, stringify: boolean): Obj {
  const base = Object.assign({}, pbase);
  addScalars(base, version, stringify);
  base['version_name'] = vname;
  return base;
}

export function flatItem(vbase: Obj, iname: string, item: Obj, stringify: boolean): FlatItem {
  const rec = Object.assign({}, vbase);
  addScalars(rec, item, stringify);
  rec['item_name'] = iname;
  return rec as FlatItem;
}

export function topBase(doc: ProductsDocument, stringify: boolean): Obj {
  const top: Obj = {};
  addScalars(top, doc, stringify);
  return top;
}

/**
 * Every item of the document, in document order, as a flat record (spec §5.1): top-level
 * scalars, then the product's (+ `product_name`), the version's (+ `version_name`), the
 * item's (+ `item_name`); the deepest level wins. Objects/arrays/null are left out.
 * `_aliases` are applied first, like the reference client.
 */
export function flattenItems(doc: ProductsDocument, options: FlattenOptions = {}): FlatItem[] {
  const stringify = options.stringify ?? false;
  const d = applyAliases(doc);
  const top = topBase(d, stringify);
  const out: FlatItem[] = [];
  for (const pname in d.products) {
    const product = d.products[pname]!;
    const pbase = productBase(top, pname, product, stringify);
    for (const vname in product.versions) {
      const version = product.versions[vname]!;
      const vbase = versionBase(pbase, vname, version, stringify);
      for (const iname in version.items) out.push(flatItem(vbase, iname, version.items[iname]!, stringify));
    }
  }
  return out;
}
