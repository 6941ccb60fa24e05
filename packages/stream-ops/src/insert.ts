import type { Item, ProductsDocument } from '@meph/simplestreams';
import { relabelProductId, unlabelProductId } from './labels.js';
import { assertSafeRelativePath } from '@meph/simplestreams';
import { filterProducts, parseFilters, resolveWork } from '@meph/simplestreams';
import { formatUpdated } from '@meph/simplestreams';
import { emptyPlan, type StreamPlan } from './plan.js';
import { buildProduct, docHead, editableCopy, flattenProduct } from './tree.js';
import { jsonPathOf, loadSourceStream, type ProductsFile, type ReadOptions } from './streams.js';
import { runOnTarget, type OpIoOptions, type OpResult } from './run.js';

/** How promote renames and relabels what insert copies (identity for plain insert). */
export interface InsertTransform {
  contentId(cid: string): string;
  /** `contentId` is the source products file's content id. */
  productId(pid: string, contentId: string): string;
  item(item: Item): Item;
}

export interface InsertPlanOptions {
  filters?: readonly string[];
  /** At most this many versions per product after the insert (upstream: 20 for insert, 100 for promote). */
  max?: number;
  transform?: InsertTransform;
  operation?: string;
  now?: Date;
}

/**
 * Plans `insert` (upstream §8.1): source versions missing from the target are added (additive
 * only, never removes), products touched are rebuilt from their flattened items and condensed
 * MAAS-safely, and every new item's file is copied to the same relative path.
 */
export function planInsert(source: readonly ProductsFile[], target: readonly ProductsFile[], options: InsertPlanOptions = {}): StreamPlan {
  const operation = options.operation ?? 'insert';
  const plan = emptyPlan(operation);
  const filters = parseFilters([...(options.filters ?? [])]);
  const max = options.max ?? 20;
  const updated = formatUpdated(options.now);
  const outputs = new Map<string, ProductsFile & { touched: boolean }>();

  const targetFileFor = (cid: string, src: ProductsFile): ProductsFile & { touched: boolean } => {
    let out = outputs.get(cid);
    if (out) return out;
    const existing = target.find((f) => f.doc.content_id === cid);
    if (existing) {
      out = { path: existing.path, doc: editableCopy(existing.doc), touched: false };
    } else {
      const { updated: _u, ...head } = docHead(src.doc);
      const path = options.transform ? `streams/v1/${cid}.json` : jsonPathOf(src.path);
      assertSafeRelativePath(path, 'products path');
      out = { path, doc: { ...head, content_id: cid, products: {} } as ProductsDocument, touched: false };
    }
    outputs.set(cid, out);
    return out;
  };

  for (const src of source) {
    const filtered = filters.length ? filterProducts(src.doc, filters) : src.doc;
    const cid = options.transform?.contentId(src.doc.content_id) ?? src.doc.content_id;
    for (const [pid, product] of Object.entries(filtered.products)) {
      const out = targetFileFor(cid, src);
      const tpid = options.transform?.productId(pid, src.doc.content_id) ?? pid;
      const existing = out.doc.products[tpid];
      const { add } = resolveWork(Object.keys(product.versions ?? {}), Object.keys(existing?.versions ?? {}), max, true);
      if (!add.length) continue;
      const flat = flattenProduct(filtered, pid);
      const versions = flattenProduct(out.doc, tpid);
      for (const vname of add) {
        const items: Record<string, Item> = {};
        for (const [iname, raw] of Object.entries(flat[vname] ?? {})) {
          const item = options.transform ? options.transform.item(raw) : raw;
          items[iname] = item;
          const pedigree = `${tpid}/${vname}/${iname}`;
          if (item.path !== undefined) {
            assertSafeRelativePath(item.path, `${src.path}: ${pid}/${vname}/${iname}`);
            plan.copies.push({ from: item.path, to: item.path, item, pedigree });
          }
          plan.events.push({ type: 'item-inserted', content_id: cid, product: tpid, version: vname, item: iname, path: item.path });
        }
        versions[vname] = items;
      }
      out.doc.products[tpid] = buildProduct(docHead(out.doc), tpid, versions, existing);
      out.touched = true;
    }
  }
  for (const out of outputs.values()) {
    if (!out.touched) continue;
    out.doc.updated = updated;
    plan.changes.push({ path: out.path, contentId: out.doc.content_id, doc: out.doc });
  }
  return plan;
}

export interface InsertOptions extends OpIoOptions, ReadOptions {
  filters?: readonly string[];
}

/** `meph2-util insert SRC TARGET [FILTER…]`. */
export async function insert(sourceLocation: string, targetRoot: string, options: InsertOptions = {}): Promise<OpResult> {
  const source = await loadSourceStream(sourceLocation, options);
  return runOnTarget(targetRoot, { createTarget: true, ...options }, (target) => ({
    plan: planInsert(source.products, target, { ...(options.filters ? { filters: options.filters } : {}) }),
    source: source.source,
  }));
}

export const PROMOTE_LABELS = ['alpha1', 'alpha2', 'alpha3', 'beta1', 'beta2', 'beta3', 'rc', 'release'] as const;
export type PromoteLabel = (typeof PROMOTE_LABELS)[number];

/** upstream §8.2: `:candidate` leaves the content id, `.candidate:` becomes `:` in product ids. */
export function promoteTransform(label: string): InsertTransform {
  return {
    contentId: (cid) => cid.replace(':candidate', ''),
    productId: (pid) => pid.replace('.candidate:', ':'),
    item: (item) => ({ ...item, label }),
  };
}

/** The label default of promote: the stream label of a new target. */
export const DEFAULT_PROMOTE_STREAM_LABEL = 'stable';

/**
 * The stream label of a source products file (the second `:` field of its content id, as
 * diff/patch see it), when its product ids carry it as `<prefix>.<label>:…`; undefined for a
 * label-less stream such as the original promote wrote (`com.ubuntu.maas:v3:download`).
 */
export function sourceStreamLabel(doc: ProductsDocument): string | undefined {
  const label = doc.content_id.split(':')[1];
  if (!label || doc.content_id.split(':').length < 3) return undefined;
  const pids = Object.keys(doc.products);
  if (label === 'candidate' || (pids.length && pids.every((pid) => pid.includes(`.${label}:`)))) return label;
  return undefined;
}

function withLabel(cid: string, label: string): string {
  const fields = cid.split(':');
  fields[1] = label;
  return fields.join(':');
}

/**
 * How promote names what it writes into `target`. A source labelled L (`X:L:v3:download`,
 * products `X.L:…`) lands in the target's own stream of that name: an existing
 * `X:<T>:v3:download` keeps its label T; an existing label-less `X:v3:download` (made by the
 * original promote) is kept as is; otherwise (a new target) it becomes `X:<targetLabel>:…`
 * (default "stable"), so `diff`/`patch` can then work between the two streams. Items are
 * labelled `itemLabel`, or the target's stream label when none is given.
 */
export function promoteTransformFor(source: readonly ProductsFile[], target: readonly ProductsFile[], options: { itemLabel?: string; targetLabel?: string } = {}): InsertTransform {
  const plans = new Map<string, { from: string; to: string | undefined }>();
  for (const src of source) {
    const from = sourceStreamLabel(src.doc);
    if (from === undefined) continue;
    const cid = src.doc.content_id;
    const labelled = target.map((t) => t.doc.content_id).find((t) => t.split(':').length === cid.split(':').length && t !== cid && withLabel(t, from) === cid);
    const labelless = target.some((t) => t.doc.content_id === cid.replace(`:${from}`, ''));
    const to = labelled ? labelled.split(':')[1] : labelless ? undefined : (options.targetLabel ?? DEFAULT_PROMOTE_STREAM_LABEL);
    plans.set(cid, { from, to });
  }
  const itemLabel = options.itemLabel ?? [...plans.values()].find((p) => p.to !== undefined)?.to ?? 'release';
  const legacy = promoteTransform(itemLabel);
  return {
    contentId: (cid) => {
      const plan = plans.get(cid);
      if (!plan) return legacy.contentId(cid);
      return plan.to === undefined ? cid.replace(`:${plan.from}`, '') : withLabel(cid, plan.to);
    },
    productId: (pid, cid) => {
      const plan = plans.get(cid);
      if (!plan) return legacy.productId(pid, cid);
      return plan.to === undefined ? unlabelProductId(pid, plan.from) : relabelProductId(pid, plan.from, plan.to);
    },
    item: (item) => legacy.item(item),
  };
}

export interface PromoteOptions extends OpIoOptions, ReadOptions {
  filters?: readonly string[];
  /** Item label (the original's -l); default: the target's stream label ("release" for a label-less one). */
  label?: string;
  /** Stream label of a new target (default "stable"); an existing target keeps its own. */
  targetLabel?: string;
  /** Metadata only (the original's test switch); the files must then already be in the target. */
  skipFileCopy?: boolean;
}

/** `meph2-util promote [-l LABEL] [--target-label L] SRC TARGET VERSION [FILTER…]`. */
export async function promote(sourceLocation: string, targetRoot: string, version: string, options: PromoteOptions = {}): Promise<OpResult> {
  const source = await loadSourceStream(sourceLocation, options);
  return runOnTarget(targetRoot, { createTarget: true, ...options }, (target) => {
    const plan = planInsert(source.products, target, {
      filters: [...(options.filters ?? []), `version_name=${version}`],
      max: 100,
      transform: promoteTransformFor(source.products, target, {
        ...(options.label !== undefined ? { itemLabel: options.label } : {}),
        ...(options.targetLabel !== undefined ? { targetLabel: options.targetLabel } : {}),
      }),
      operation: 'promote',
    });
    if (options.skipFileCopy) plan.copies = [];
    return { plan, source: source.source };
  });
}
