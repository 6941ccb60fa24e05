import { isDeepStrictEqual } from 'node:util';
import type { Product, Version } from '@meph/simplestreams';
import { assertSafeRelativePath } from '@meph/simplestreams';
import { StreamOpError, VersionConflictError } from './errors.js';
import { matchesFilters, parseFilters } from '@meph/simplestreams';
import { emptyPlan, type StreamPlan } from './plan.js';
import { cloneJson, copyProducts } from './tree.js';
import type { ProductsFile } from './streams.js';
import { runOnTarget, type OpIoOptions, type OpResult } from './run.js';

/**
 * What remove-version/copy-version filters see (upstream §8.6): the product's own scalar
 * fields, no inheritance, plus `product_name` and `content_id` for convenience.
 */
function productRecord(contentId: string, pid: string, product: Product): Record<string, unknown> {
  const rec: Record<string, unknown> = { content_id: contentId, product_name: pid };
  for (const [k, v] of Object.entries(product)) if (k !== 'versions' && (v === null || typeof v !== 'object')) rec[k] = v;
  return rec;
}

/** Plans `remove-version STREAM VERSION [FILTER…]`; a product left with no version is removed too (MAAS rejects empty products). */
export function planRemoveVersion(target: readonly ProductsFile[], version: string, filterSpecs: readonly string[] = []): StreamPlan {
  const plan = emptyPlan('remove-version');
  const filters = parseFilters([...filterSpecs]);
  for (const file of target) {
    let products: Record<string, Product> | undefined;
    for (const [pid, product] of Object.entries(file.doc.products)) {
      if (!product.versions?.[version] || !matchesFilters(productRecord(file.doc.content_id, pid, product), filters)) continue;
      products ??= copyProducts(file.doc.products);
      const { [version]: _gone, ...versions } = product.versions;
      plan.events.push({ type: 'version-removed', content_id: file.doc.content_id, product: pid, version });
      if (Object.keys(versions).length) products[pid] = { ...product, versions };
      else {
        delete products[pid];
        plan.events.push({ type: 'product-removed', content_id: file.doc.content_id, product: pid, reason: 'no versions left' });
      }
    }
    if (products) plan.changes.push({ path: file.path, contentId: file.doc.content_id, doc: Object.keys(products).length ? { ...file.doc, products } : null });
  }
  return plan;
}

/** Characters a version name may hold: what real streams use (`20260720`, `20260720.1`, `20190701_01`, `20101020ubuntu136.20`). */
const VERSION_NAME = /^[A-Za-z0-9][A-Za-z0-9._+~-]*$/;
/** MAAS stores version names in 32 characters (maas-acceptance rule 19). */
const VERSION_NAME_MAX = 32;

/**
 * copy-version exists to publish a version under a new name MAAS will pick over the old one,
 * and MAAS picks the string-greatest version: TO must be a valid name (non-empty, no blanks
 * or slashes, at most 32 characters) and sort after FROM. The original accepted any TO.
 */
export function assertCopyVersionNames(from: string, to: string): void {
  const hint = 'e.g. copy-version STREAM 20260720 20260720.1';
  if (from === '') throw new StreamOpError('copy-version', 'FROM is empty', { hint });
  if (to === '') throw new StreamOpError('copy-version', 'TO is empty', { hint });
  if (!VERSION_NAME.test(to)) throw new StreamOpError('copy-version', `TO ${JSON.stringify(to)} is not a version name: use letters, digits and . _ + ~ - only, starting with a letter or digit`, { hint });
  if (to.length > VERSION_NAME_MAX) throw new StreamOpError('copy-version', `TO ${JSON.stringify(to)} is longer than the ${VERSION_NAME_MAX} characters MAAS stores`, { hint });
  if (to <= from) {
    throw new StreamOpError('copy-version', `TO ${JSON.stringify(to)} does not sort after FROM ${JSON.stringify(from)}: MAAS uses the string-greatest version, so clients would never move to it`, { hint });
  }
}

/**
 * Plans `copy-version STREAM FROM TO [FILTER…]` (upstream §8.6): the version is duplicated under
 * the new name, `FROM` replaced by `TO` in every item path, and each new path's file copied once
 * (symlinks recreated, not followed). An existing `TO` identical to the copy is left alone (so a
 * rerun completes); a different one is an error: files of a published version never change.
 */
export function planCopyVersion(target: readonly ProductsFile[], from: string, to: string, filterSpecs: readonly string[] = []): StreamPlan {
  assertCopyVersionNames(from, to);
  const plan = emptyPlan('copy-version');
  const filters = parseFilters([...filterSpecs]);
  for (const file of target) {
    let products: Record<string, Product> | undefined;
    for (const [pid, product] of Object.entries(file.doc.products)) {
      const original = product.versions?.[from];
      if (!original || !matchesFilters(productRecord(file.doc.content_id, pid, product), filters)) continue;
      const copy: Version = cloneJson(original);
      for (const [iname, item] of Object.entries(copy.items ?? {})) {
        if (typeof item.path !== 'string') continue;
        const oldPath = assertSafeRelativePath(item.path, `${file.path}: ${pid}/${from}/${iname}`);
        const newPath = assertSafeRelativePath(oldPath.split(from).join(to), `${file.path}: ${pid}/${to}/${iname}`);
        item.path = newPath;
        if (newPath !== oldPath) plan.copies.push({ from: oldPath, to: newPath, item, pedigree: `${pid}/${to}/${iname}`, withinTarget: true });
      }
      const present = product.versions[to];
      if (present) {
        if (isDeepStrictEqual(present, copy)) continue;
        throw new VersionConflictError(pid, to, `already exists in ${file.path} with different content`, 'pick a version name that is not published yet');
      }
      products ??= copyProducts(file.doc.products);
      products[pid] = { ...product, versions: { ...product.versions, [to]: copy } };
      plan.events.push({ type: 'version-copied', content_id: file.doc.content_id, product: pid, from, to });
    }
    if (products) plan.changes.push({ path: file.path, contentId: file.doc.content_id, doc: { ...file.doc, products } });
  }
  return plan;
}

export interface VersionOpOptions extends OpIoOptions {
  filters?: readonly string[];
}

export async function removeVersion(targetRoot: string, version: string, options: VersionOpOptions = {}): Promise<OpResult> {
  return runOnTarget(targetRoot, options, (target) => ({ plan: planRemoveVersion(target, version, options.filters) }));
}

export async function copyVersion(targetRoot: string, from: string, to: string, options: VersionOpOptions = {}): Promise<OpResult> {
  return runOnTarget(targetRoot, options, (target) => ({ plan: planCopyVersion(target, from, to, options.filters) }));
}
