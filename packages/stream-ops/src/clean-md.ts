import type { Product } from '@meph/simplestreams';
import { StreamOpError } from './errors.js';
import { flattenItems, matchesFilters, newestFirst, parseFilters } from '@meph/simplestreams';
import { formatUpdated } from '@meph/simplestreams';
import { emptyPlan, type StreamPlan } from './plan.js';
import type { ProductsFile } from './streams.js';
import { copyProducts } from './tree.js';
import { runOnTarget, type OpIoOptions, type OpResult } from './run.js';

export interface CleanMdPlanOptions {
  filters?: readonly string[];
  now?: Date;
}

/**
 * Plans `clean-md MAX` (upstream §8.3): in every product with items matching the filters, the
 * versions holding matching items beyond the `max` newest are dropped from the metadata. Data
 * files stay (find-orphans / reap-orphans free them).
 */
export function planCleanMd(target: readonly ProductsFile[], max: number, options: CleanMdPlanOptions = {}): StreamPlan {
  if (!Number.isInteger(max) || max < 1) {
    throw new StreamOpError('clean-md', `MAX must be a whole number of at least 1, got ${String(max)}`, { hint: 'clean-md keeps the MAX newest versions of each product' });
  }
  const plan = emptyPlan('clean-md');
  const filters = parseFilters([...(options.filters ?? [])]);
  const updated = formatUpdated(options.now);
  for (const file of target) {
    let candidates: Set<string> | undefined;
    if (filters.length) {
      candidates = new Set();
      for (const item of flattenItems(file.doc)) if (matchesFilters(item, filters)) candidates.add(`${item.product_name}\0${item.version_name}`);
    }
    let products: Record<string, Product> | undefined;
    for (const [pid, product] of Object.entries(file.doc.products)) {
      const names = Object.keys(product.versions ?? {}).filter((v) => !candidates || candidates.has(`${pid}\0${v}`));
      if (names.length <= max) continue;
      const drop = newestFirst(names).slice(max);
      for (const v of drop) plan.events.push({ type: 'version-removed', content_id: file.doc.content_id, product: pid, version: v });
      // a fresh object rather than `delete` on a copy, which would leave it in V8's slow dictionary mode
      const dropped = new Set(drop);
      const versions: Product['versions'] = {};
      for (const v in product.versions) if (!dropped.has(v)) versions[v] = product.versions[v]!;
      products ??= copyProducts(file.doc.products);
      products[pid] = { ...product, versions };
    }
    if (products) plan.changes.push({ path: file.path, contentId: file.doc.content_id, doc: { ...file.doc, products, updated } });
  }
  return plan;
}

export interface CleanMdOptions extends OpIoOptions {
  filters?: readonly string[];
  /** Only this products file (path relative to the root), as when the stream was named by it. */
  productsPath?: string;
}

/** `meph2-util clean-md MAX STREAM [FILTER…]`. */
export async function cleanMd(targetRoot: string, max: number, options: CleanMdOptions = {}): Promise<OpResult> {
  return runOnTarget(targetRoot, options, (target) => {
    const only = options.productsPath;
    const files = only === undefined ? target : target.filter((f) => f.path === only);
    if (only !== undefined && !files.length) {
      throw new StreamOpError('clean-md', `${only} is not a products file of the stream at ${targetRoot}`, { hint: 'name the stream by its directory or streams/v1/index.json to clean every products file' });
    }
    return { plan: planCleanMd(files, max, options.filters ? { filters: options.filters } : {}) };
  });
}
