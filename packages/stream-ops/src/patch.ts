import { isDeepStrictEqual } from 'node:util';
import type { Product, ProductsDocument, Version } from '@meph/simplestreams';
import { assertSafeRelativePath } from '@meph/simplestreams';
import { PatchFormatError } from './errors.js';
import { formatUpdated } from '@meph/simplestreams';
import { labelStream } from './diff.js';
import { relabelProductId, unlabelProductId } from './labels.js';
import { emptyPlan, type StreamPlan } from './plan.js';
import type { PatchDocument, ProductPatch } from './patch-format.js';
import { cloneJson, copyProducts, flattenProduct, setProductField } from './tree.js';
import { loadSourceStream, type ProductsFile, type ReadOptions } from './streams.js';
import { runOnTarget, type OpIoOptions, type OpResult } from './run.js';

function compileRegex(text: string, source: string, streamKey: string): RegExp {
  try {
    return new RegExp(`^(?:${text})$`);
  } catch (err) {
    throw new PatchFormatError(source, `${streamKey} / ${text}: not a valid regular expression: ${(err as Error).message}`);
  }
}

/** Every value of `key` on the product, its versions and items (what flattening could see). */
function fieldValues(product: Product, key: string): unknown[] {
  const values: unknown[] = [];
  if (key in product) values.push(product[key]);
  for (const v of Object.values(product.versions ?? {})) {
    if (key in v) values.push(v[key]);
    for (const item of Object.values(v.items ?? {})) if (key in item) values.push(item[key]);
  }
  return values;
}

interface PatchContext {
  plan: StreamPlan;
  patchSource: string;
  streamKey: string;
  contentId: string;
  targetLabel: string;
  sourceLabel: string | undefined;
  sourceFile: ProductsFile | undefined;
}

function requireSource(ctx: PatchContext, what: string): ProductsFile {
  if (!ctx.sourceFile) {
    throw new PatchFormatError(ctx.patchSource, `${ctx.streamKey}: ${what} must be copied from a source stream, but ${ctx.sourceLabel === undefined ? 'no source stream was given' : 'the source has no such products file'}`, 'run patch SOURCE TARGET, e.g. meph2-util patch candidate/ stable/ -i patch.yaml');
  }
  return ctx.sourceFile;
}

/** Queues every file of a source version for copying into the target. */
function copyVersionFiles(ctx: PatchContext, srcDoc: ProductsDocument, spid: string, version: string, tpid: string): void {
  const flat = flattenProduct(srcDoc, spid)[version] ?? {};
  for (const [iname, item] of Object.entries(flat)) {
    if (typeof item.path !== 'string') continue;
    assertSafeRelativePath(item.path, `${ctx.sourceFile?.path}: ${spid}/${version}/${iname}`);
    ctx.plan.copies.push({ from: item.path, to: item.path, item, pedigree: `${tpid}/${version}/${iname}` });
  }
}

function relabel(version: Version, label: unknown): Version {
  if ('label' in version) version['label'] = label;
  for (const item of Object.values(version.items ?? {})) if ('label' in item) item['label'] = label;
  return version;
}

/** Applies one product entry to one existing target product; returns the new product or null (deleted). */
function patchProduct(ctx: PatchContext, pid: string, current: Product, spec: ProductPatch): Product | null {
  const ev = { content_id: ctx.contentId, product: pid };
  if (spec.labels !== undefined && !spec.labels.includes(ctx.targetLabel)) {
    ctx.plan.events.push({ type: 'product-removed', ...ev, reason: `labels do not include ${ctx.targetLabel}` });
    return null;
  }
  let product: Product = current;
  const edit = (): Product => (product === current ? (product = { ...current, versions: { ...current.versions } }) : product);
  for (const [version, vspec] of Object.entries(spec.versions ?? {})) {
    const wanted = (vspec.labels ?? []).includes(ctx.targetLabel);
    const present = Boolean(product.versions[version]);
    if (present && !wanted) {
      delete edit().versions[version];
      ctx.plan.events.push({ type: 'version-removed', ...ev, version });
    } else if (!present && wanted) {
      const src = requireSource(ctx, `${pid} version ${version}`);
      const spid = relabelProductId(pid, ctx.targetLabel, ctx.sourceLabel as string);
      const sversion = src.doc.products[spid]?.versions?.[version];
      if (!sversion) throw new PatchFormatError(ctx.patchSource, `${ctx.streamKey}: version ${version} of ${spid} is not in the source (${src.path})`, 'regenerate the patch with meph2-util diff, or drop that version from it');
      edit().versions[version] = relabel(cloneJson(sversion), product['label'] ?? ctx.targetLabel);
      copyVersionFiles(ctx, src.doc, spid, version, pid);
      ctx.plan.events.push({ type: 'version-added', ...ev, version, from: spid });
    }
  }
  for (const [key, byLabel] of Object.entries(spec.metadata)) {
    if (!(ctx.targetLabel in byLabel)) continue;
    const value = byLabel[ctx.targetLabel];
    const values = fieldValues(product, key);
    if (values.length && values.every((v) => isDeepStrictEqual(v, value))) continue;
    const p = edit();
    p.versions = cloneJson(p.versions);
    setProductField(p, key, value);
    ctx.plan.events.push({ type: 'metadata-changed', ...ev, key, value });
  }
  if (!Object.keys(product.versions).length) {
    ctx.plan.events.push({ type: 'product-removed', ...ev, reason: 'no versions left' });
    return null;
  }
  return product;
}

/**
 * Plans `patch [SRC] TARGET` (upstream §8.8). Product regexes are anchored and matched against
 * label-less target product ids; versions listed without the target label are removed, listed
 * with it and absent are copied (files too) from SRC, metadata takes the target label's value
 * (also where a version or item carried its own copy, which would otherwise shadow it);
 * unmatched regexes add the matching SRC products whose labels include the target label.
 * A product left without versions is removed (MAAS rejects empty products). A products file
 * that neither stream has is skipped (reported), unless no key of the patch applies at all.
 */
export function planPatch(patch: PatchDocument, target: readonly ProductsFile[], source: readonly ProductsFile[] | undefined, options: { patchSource?: string; now?: Date } = {}): StreamPlan {
  const plan = emptyPlan('patch');
  const patchSource = options.patchSource ?? 'patch';
  if (!Object.keys(patch).length) return plan;
  const tgt = labelStream(target, 'target');
  const src = source ? labelStream(source, 'source') : undefined;
  const updated = formatUpdated(options.now);
  const absent = Object.keys(patch).filter((key) => !tgt.files.has(key) && !src?.files.has(key));
  const applicable = Object.keys(patch).length - absent.length;
  for (const [streamKey, streamPatch] of Object.entries(patch)) {
    const tfile = tgt.files.get(streamKey);
    if (!tfile && applicable > 0 && absent.includes(streamKey)) {
      // A shared patch (conf/cpc-patch.yaml) names streams a site may not carry: nothing to do.
      plan.events.push({ type: 'stream-skipped', stream: streamKey, reason: `neither stream has this products file (label ${tgt.label})` });
      continue;
    }
    if (!tfile) {
      throw new PatchFormatError(patchSource, `${streamKey}: the target has no such products file (its files: ${[...tgt.files.keys()].join(', ')})`, `patch keys name products files without the stream label; the target's label is ${tgt.label}`);
    }
    const ctx: PatchContext = { plan, patchSource, streamKey, contentId: tfile.doc.content_id, targetLabel: tgt.label, sourceLabel: src?.label, sourceFile: src?.files.get(streamKey) };
    const products = copyProducts(tfile.doc.products);
    let changed = false;
    for (const [regexText, spec] of Object.entries(streamPatch.products)) {
      const re = compileRegex(regexText, patchSource, streamKey);
      const matched = Object.keys(products).filter((pid) => re.test(unlabelProductId(pid, tgt.label)));
      if (matched.length) {
        for (const pid of matched) {
          const next = patchProduct(ctx, pid, products[pid] as Product, spec);
          if (next === products[pid]) continue;
          changed = true;
          if (next) products[pid] = next;
          else delete products[pid];
        }
        continue;
      }
      if (!(spec.labels ?? []).includes(tgt.label)) continue;
      const sfile = requireSource(ctx, `products matching ${regexText}`);
      for (const [spid, sproduct] of Object.entries(sfile.doc.products)) {
        if (!re.test(unlabelProductId(spid, ctx.sourceLabel as string))) continue;
        const tpid = relabelProductId(spid, ctx.sourceLabel as string, tgt.label);
        const product = cloneJson(sproduct);
        setProductField(product, 'label', tgt.label);
        products[tpid] = product;
        for (const version of Object.keys(product.versions ?? {})) copyVersionFiles(ctx, sfile.doc, spid, version, tpid);
        plan.events.push({ type: 'product-added', content_id: ctx.contentId, product: tpid, from: spid, versions: Object.keys(product.versions ?? {}).length });
        changed = true;
      }
    }
    if (changed) plan.changes.push({ path: tfile.path, contentId: tfile.doc.content_id, doc: Object.keys(products).length ? { ...tfile.doc, products, updated } : null });
  }
  return plan;
}

export interface PatchOptions extends OpIoOptions, ReadOptions {
  /** Stream to copy added versions/products from (local directory or URL). */
  sourceLocation?: string;
  /** Names the patch in messages (file name or "stdin"). */
  patchSource?: string;
}

/** `meph2-util patch [SRC] TARGET -i PATCH.yaml`. */
export async function applyPatch(patch: PatchDocument, targetRoot: string, options: PatchOptions = {}): Promise<OpResult> {
  const source = options.sourceLocation ? await loadSourceStream(options.sourceLocation, { policy: options.policy ?? 'off', ...(options.verifier ? { verifier: options.verifier } : {}) }) : undefined;
  return runOnTarget(targetRoot, options, (target) => ({
    plan: planPatch(patch, target, source?.products, options.patchSource ? { patchSource: options.patchSource } : {}),
    ...(source ? { source: source.source } : {}),
  }));
}
