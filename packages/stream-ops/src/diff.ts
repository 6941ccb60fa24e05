import { isDeepStrictEqual } from 'node:util';
import type { Product } from '@meph/simplestreams';
import { StreamOpError, VersionConflictError } from './errors.js';
import { compareVersions, newestFirst } from '@meph/simplestreams';
import { streamLabel, unlabelProductId, unlabelStreamName } from './labels.js';
import type { PatchDocument, ProductPatch, StreamPatch } from './patch-format.js';
import { flattenProduct } from './tree.js';
import type { ProductsFile } from './streams.js';

export interface DiffOptions {
  /** Ignore versions only the target has. */
  newVersionsOnly?: boolean;
  /** Skip a missing version when the other side has a newer one; keep only the newest missing one. */
  latestOnly?: boolean;
  /** Give one-sided products/versions both labels, and metadata the source's value for both. */
  promote?: boolean;
}

interface LabelledStream {
  label: string;
  files: Map<string, ProductsFile>;
}

/** Groups a stream's products files by label-less name; all must carry one label (upstream §2.8). */
export function labelStream(files: readonly ProductsFile[], side: string): LabelledStream {
  if (!files.length) {
    throw new StreamOpError('diff', `the ${side} stream has no products files`, {
      hint: side === 'target' ? 'start a new stream with meph2-util promote SOURCE TARGET VERSION (it takes the target label, e.g. stable), then diff/patch' : 'check the stream path',
    });
  }
  const labels = new Set(files.map((f) => streamLabel(f.path)));
  if (labels.size !== 1) {
    throw new StreamOpError('diff', `the ${side} stream mixes labels ${[...labels].join(', ')} in its products file names`, { hint: 'every products file of one stream must share its label (second ":" field)' });
  }
  return { label: [...labels][0] as string, files: new Map(files.map((f) => [unlabelStreamName(f.path), f])) };
}

function productsByLabelless(file: ProductsFile, label: string): Map<string, string> {
  return new Map(Object.keys(file.doc.products).map((pid) => [unlabelProductId(pid, label), pid]));
}

/** The identity of a version's files: what must match for the same version on both sides. */
function itemIdentity(items: Record<string, Record<string, unknown>> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, item] of Object.entries(items ?? {})) out[name] = [item['sha256'], item['sha512'], item['md5'], item['size'] === undefined ? undefined : Number(item['size'])];
  return out;
}

/** Versions one side lacks, after --latest-only thinning. */
function missingVersions(have: string[], other: string[], latestOnly: boolean): string[] {
  const otherSet = new Set(other);
  let missing = newestFirst(have.filter((v) => !otherSet.has(v)));
  if (latestOnly) {
    const newestOther = newestFirst(other)[0];
    missing = missing.filter((v) => newestOther === undefined || compareVersions(v, newestOther) > 0).slice(0, 1);
  }
  return missing;
}

function diffProduct(pidLabelless: string, sp: Product, tp: Product, srcFile: ProductsFile, tgtFile: ProductsFile, spid: string, tpid: string, sl: string, tl: string, o: DiffOptions): ProductPatch | undefined {
  const entry: ProductPatch = { metadata: {} };
  const keys = new Set([...Object.keys(sp), ...Object.keys(tp)]);
  for (const key of [...keys].sort()) {
    if (key === 'versions' || key === 'label') continue;
    const sv = sp[key];
    const tv = tp[key];
    if (isDeepStrictEqual(sv, tv)) continue;
    const values: Record<string, unknown> = {};
    if (sv !== undefined) values[sl] = sv;
    if (o.promote && sv !== undefined) values[tl] = sv;
    else if (tv !== undefined) values[tl] = tv;
    entry.metadata[key] = values;
  }
  const sVers = Object.keys(sp.versions ?? {});
  const tVers = Object.keys(tp.versions ?? {});
  const versions: Record<string, { labels: string[] }> = {};
  for (const v of missingVersions(sVers, tVers, Boolean(o.latestOnly))) versions[v] = { labels: o.promote ? [sl, tl] : [sl] };
  if (!o.newVersionsOnly) for (const v of missingVersions(tVers, sVers, Boolean(o.latestOnly))) versions[v] = { labels: o.promote ? [tl, sl] : [tl] };
  const common = sVers.filter((v) => tp.versions?.[v]);
  if (common.length) {
    const sflat = flattenProduct(srcFile.doc, spid);
    const tflat = flattenProduct(tgtFile.doc, tpid);
    for (const v of common) {
      if (!isDeepStrictEqual(itemIdentity(sflat[v]), itemIdentity(tflat[v]))) {
        throw new VersionConflictError(pidLabelless, v, `its items differ between ${sl} (${srcFile.path}) and ${tl} (${tgtFile.path})`, 'a published version must never change: give the rebuilt image a new version name');
      }
    }
  }
  if (Object.keys(versions).length) entry.versions = versions;
  return Object.keys(entry.metadata).length || entry.versions ? entry : undefined;
}

/**
 * `diff SRC TARGET` (upstream §8.7): what a patch must say to make TARGET follow SRC, in the
 * patch format of §2.8. Identical streams give an empty document. The same version with
 * different items on the two sides is an error (VersionConflictError).
 */
export function diffStreams(source: readonly ProductsFile[], target: readonly ProductsFile[], options: DiffOptions = {}): PatchDocument {
  const src = labelStream(source, 'source');
  const tgt = labelStream(target, 'target');
  const sl = src.label;
  const tl = tgt.label;
  const out: PatchDocument = {};
  for (const streamKey of [...new Set([...src.files.keys(), ...tgt.files.keys()])].sort()) {
    const sf = src.files.get(streamKey);
    const tf = tgt.files.get(streamKey);
    if (!sf || !tf) {
      out[streamKey] = { notMerged: sf ? tl : sl, products: {} };
      continue;
    }
    const stream: StreamPatch = { products: {} };
    const sp = productsByLabelless(sf, sl);
    const tp = productsByLabelless(tf, tl);
    for (const name of [...new Set([...sp.keys(), ...tp.keys()])].sort()) {
      const spid = sp.get(name);
      const tpid = tp.get(name);
      if (spid && tpid) {
        const entry = diffProduct(name, sf.doc.products[spid] as Product, tf.doc.products[tpid] as Product, sf, tf, spid, tpid, sl, tl, options);
        if (entry) stream.products[name] = entry;
      } else if (spid) stream.products[name] = { labels: options.promote ? [sl, tl] : [sl], metadata: {} };
      else if (!options.newVersionsOnly) stream.products[name] = { labels: options.promote ? [tl, sl] : [tl], metadata: {} };
    }
    if (Object.keys(stream.products).length) out[streamKey] = stream;
  }
  return out;
}
