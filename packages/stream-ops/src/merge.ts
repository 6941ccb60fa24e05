import { assertSafeRelativePath } from '@meph/simplestreams';
import { VersionConflictError } from './errors.js';
import { emptyPlan, type StreamPlan } from './plan.js';
import { flattenProduct } from './tree.js';
import { jsonPathOf, loadSourceStream, type ProductsFile, type ReadOptions } from './streams.js';
import { runOnTarget, type OpIoOptions, type OpResult } from './run.js';

/**
 * Plans `merge SRC TARGET` (upstream §8.4): every source item's file is copied to the same
 * relative path unless the target already has that (product, version, item) with the same
 * sha256 (a different sha256 is an error); then each source products file replaces the target
 * file of the same name. Fixed [BUG?]: a product present in the target without that version no
 * longer crashes, the version is simply new.
 */
export function planMerge(source: readonly ProductsFile[], target: readonly ProductsFile[]): StreamPlan {
  const plan = emptyPlan('merge');
  const targetProducts = new Map<string, ProductsFile>();
  for (const file of target) for (const pid of Object.keys(file.doc.products)) targetProducts.set(pid, file);
  for (const src of source) {
    assertSafeRelativePath(src.path, 'source products path');
    for (const pid of Object.keys(src.doc.products)) {
      const srcFlat = flattenProduct(src.doc, pid);
      const tfile = targetProducts.get(pid);
      const tgtFlat = tfile ? flattenProduct(tfile.doc, pid) : {};
      for (const [vname, items] of Object.entries(srcFlat)) {
        for (const [iname, item] of Object.entries(items)) {
          const existing = tgtFlat[vname]?.[iname];
          if (existing) {
            if (existing.sha256 !== item.sha256) {
              throw new VersionConflictError(pid, vname, `item ${iname}: sha256 ${String(item.sha256)} in the source but ${String(existing.sha256)} in the target`, 'files of a published version never change: remove or rename the version on one side first');
            }
            continue;
          }
          if (typeof item.path !== 'string') continue;
          assertSafeRelativePath(item.path, `${src.path}: ${pid}/${vname}/${iname}`);
          plan.copies.push({ from: item.path, to: item.path, item, pedigree: `${pid}/${vname}/${iname}` });
          plan.events.push({ type: 'item-inserted', content_id: src.doc.content_id, product: pid, version: vname, item: iname, path: item.path });
        }
      }
    }
    plan.changes.push({ path: jsonPathOf(src.path), contentId: src.doc.content_id, doc: src.doc });
    plan.events.push({ type: 'products-replaced', content_id: src.doc.content_id, path: jsonPathOf(src.path) });
  }
  return plan;
}

export interface MergeOptions extends OpIoOptions, ReadOptions {}

export async function merge(sourceLocation: string, targetRoot: string, options: MergeOptions = {}): Promise<OpResult> {
  const source = await loadSourceStream(sourceLocation, { policy: options.policy ?? 'off', ...(options.verifier ? { verifier: options.verifier } : {}) });
  return runOnTarget(targetRoot, { createTarget: true, ...options }, (target) => ({ plan: planMerge(source.products, target), source: source.source }));
}
