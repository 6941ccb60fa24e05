import { FormatError } from '../errors.js';
import { parseJsonObject } from '../read/json.js';
import { filterProducts } from '../flatten/select.js';
import { resolveWork } from '../flatten/versions.js';
import type { Filter } from '../flatten/filters.js';
import type { Item, Product, ProductsDocument } from '../model.js';
import { serializeJson } from '../write/serialize.js';
import { pyJsonString } from '../flatten/output.js';

/** `<out>/.data/references.json`: item path → ids `content_id/product/version/item` that use it (insertion order kept). */
export type References = Map<string, string[]>;

export interface MirrorItemChange {
  /** `product version item`, the original's pedigree. */
  productName: string;
  versionName: string;
  itemName: string;
  contentId: string;
  /** Relative item path (only items with a path are downloaded and counted). */
  path: string;
  size: number;
  item: Item;
}

export interface ContentPlan {
  contentId: string;
  /** The filtered tree that `.data/<content_id>` will hold. */
  target: ProductsDocument;
  add: MirrorItemChange[];
  remove: MirrorItemChange[];
}

export interface MirrorPlanOptions {
  filters: readonly Filter[];
  max?: number;
  keep?: boolean;
  /** Items are recorded in the target tree but neither downloaded nor referenced. */
  itemDownload?: boolean;
}

function refId(c: { contentId: string; productName: string; versionName: string; itemName: string }): string {
  return `${c.contentId}/${c.productName}/${c.versionName}/${c.itemName}`;
}

function itemChange(contentId: string, productName: string, versionName: string, itemName: string, item: Item, source: string): MirrorItemChange | undefined {
  const p = item.path;
  if (typeof p !== 'string' || p === '') return undefined;
  const size = Number(item.size);
  if (!Number.isInteger(size) || size < 0) throw new FormatError(source, `item ${productName} ${versionName} ${itemName} (${p}) has no integer size; a mirror cannot verify it`);
  if (!['sha256', 'sha512', 'md5'].some((a) => typeof item[a] === 'string' && item[a] !== '')) {
    throw new FormatError(source, `item ${productName} ${versionName} ${itemName} (${p}) has no md5/sha256/sha512; a mirror cannot verify it`);
  }
  return { contentId, productName, versionName, itemName, path: p, size, item };
}

function emptyTree(src: ProductsDocument): ProductsDocument {
  const { products: _p, ...head } = src;
  return { ...head, products: {} };
}

/**
 * One products file's share of sstream-mirror's work (spec §10.2): filters applied to items
 * first, then per product `resolve_work(source, target, max, keep)`; added versions carry only
 * their matching items; versions that the filters reject stay in the target (the original's
 * `delete_filtered_items` is off); products are never removed. Pure: the target is not mutated.
 */
export function planContent(src: ProductsDocument, previous: ProductsDocument | undefined, options: MirrorPlanOptions, source = String(src.content_id)): ContentPlan {
  const contentId = String(src.content_id);
  const filtered = filterProducts(src, options.filters);
  const target: ProductsDocument = previous ? structuredClone(previous) : emptyTree(src);
  // the head (updated, datatype, …) follows the source, like the original's rewrite
  const { products: _sp, ...srcHead } = src;
  Object.assign(target, srcHead, { products: target.products ?? {} });
  const plan: ContentPlan = { contentId, target, add: [], remove: [] };
  for (const pname in filtered.products) {
    const fproduct = filtered.products[pname]!;
    const srcVersions = Object.keys(fproduct.versions ?? {});
    const tproduct = target.products[pname];
    const tgtVersions = Object.keys(tproduct?.versions ?? {});
    const work = resolveWork(srcVersions, tgtVersions, options.max, Boolean(options.keep));
    // a target version the filters reject (but the source still has) is not removed by filtering alone
    const rawVersions = src.products[pname]?.versions ?? {};
    const remove = work.remove.filter((v) => !(v in rawVersions && !srcVersions.includes(v)));
    const { versions: _v, ...productFields } = src.products[pname]!;
    const next: Product = { ...(tproduct ?? {}), ...productFields, versions: { ...(tproduct?.versions ?? {}) } };
    for (const vname of work.add) {
      const fversion = fproduct.versions[vname]!;
      const items: Record<string, Item> = {};
      for (const iname in fversion.items) {
        const item = fversion.items[iname]!;
        items[iname] = item;
        const c = itemChange(contentId, pname, vname, iname, item, source);
        if (c) plan.add.push(c);
      }
      if (Object.keys(items).length) next.versions[vname] = { ...fversion, items };
    }
    for (const vname of remove) {
      const tversion = next.versions[vname];
      if (!tversion) continue;
      for (const iname of Object.keys(tversion.items ?? {}).sort()) {
        const item = tversion.items[iname]!;
        if (typeof item.path === 'string' && item.path !== '') {
          plan.remove.push({ contentId, productName: pname, versionName: vname, itemName: iname, path: item.path, size: Number(item.size) || 0, item });
        }
      }
      delete next.versions[vname];
    }
    target.products[pname] = next;
  }
  return plan;
}

/** Applies a plan's adds and removals to the reference map; returns the paths whose last reference went. */
export function updateReferences(refs: References, plan: ContentPlan, itemDownload = true): string[] {
  const freed: string[] = [];
  if (itemDownload) {
    for (const c of plan.add) {
      const list = refs.get(c.path) ?? [];
      const id = refId(c);
      if (!list.includes(id)) list.push(id);
      refs.set(c.path, list);
    }
  }
  for (const c of plan.remove) {
    const list = refs.get(c.path);
    if (!list) continue;
    const left = list.filter((id) => id !== refId(c));
    if (left.length) refs.set(c.path, left);
    else {
      refs.delete(c.path);
      freed.push(c.path);
    }
  }
  return freed;
}

export function parseReferences(text: string, label: string): References {
  const value = parseJsonObject(text, label, (detail) => new FormatError(label, detail, "remove it to rebuild the mirror's bookkeeping"));
  const refs: References = new Map();
  for (const [k, v] of Object.entries(value)) {
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new FormatError(label, `entry ${JSON.stringify(k)} is not a list of ids`);
    refs.set(k, v as string[]);
  }
  return refs;
}

/** Python `json.dumps(refs)` (default separators, no trailing newline), as the original writes it. */
export function formatReferences(refs: References): string {
  return `{${[...refs].map(([k, ids]) => `${pyJsonString(k)}: [${ids.map(pyJsonString).join(', ')}]`).join(', ')}}`;
}

/** The `.data/<content_id>` tree: sorted keys, indent 1, no trailing newline (the original's dump). */
export function formatTargetTree(tree: ProductsDocument): string {
  return serializeJson(tree).replace(/\n$/, '');
}

const MIB = 1024 * 1024;

/** The original's dry-run lines: `+ product version item path N Mb`, `- …`, then `N Mb change`. */
export function planLines(plans: readonly ContentPlan[]): string[] {
  const lines: string[] = [];
  let delta = 0;
  for (const p of plans) {
    for (const c of p.add) {
      lines.push(`+ ${c.productName} ${c.versionName} ${c.itemName} ${c.path} ${Math.floor(c.size / MIB)} Mb`);
      delta += c.size;
    }
    for (const c of p.remove) {
      lines.push(`- ${c.productName} ${c.versionName} ${c.itemName} ${c.path} ${Math.floor(c.size / MIB)} Mb`);
      delta -= c.size;
    }
  }
  lines.push(`${Math.trunc(delta / MIB)} Mb change`);
  return lines;
}

