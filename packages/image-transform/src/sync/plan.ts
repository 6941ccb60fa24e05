/**
 * Pure planning for meph2-cloudimg-sync: which cloud-image versions the MAAS stream lacks.
 *
 * "Already built" is decided by (release, arch, MAAS version name), read from the fields of
 * the target's primary-kernel products (`krel == release`) and of the source products — not
 * by product name. The original mapped MAAS products to `com.ubuntu.cloud.candidate:…`
 * names, which never match the daily feed's `com.ubuntu.cloud.daily:…` products, so every
 * run rebuilt the newest versions (upstream-behaviour §6 [BUG?]). Comparing fields works the
 * same for the daily and the candidate feed.
 */
import { compareVersions, expandProducts, matchesFilters, scalarText, type Filter, type Item, type ProductsDocument } from '@meph/simplestreams';

export const SOURCE_CONTENT_IDS = ['com.ubuntu.cloud:daily:download', 'com.ubuntu.cloud:candidate:download'] as const;

/**
 * Image item preference per source version. The original takes `squashfs`, else `tar.gz`;
 * meph also accepts a `root.tar.xz` (the root tarball of current cloud images and of
 * Debian-family feeds) before falling back to `tar.gz`.
 */
export const SOURCE_FTYPES = ['squashfs', 'root.tar.xz', 'tar.gz'] as const;

export interface BuildJob {
  release: string;
  arch: string;
  /** Version name in the source feed (cloud image serial). */
  sourceVersion: string;
  /** Version name the MAAS stream gets (differs with --rebuild FROM:TO). */
  version: string;
  sourceProduct: string;
  /** The chosen source item (with every inherited field). */
  item: Item & { path: string; ftype: string };
}

export interface SkippedVersion {
  release: string;
  arch: string;
  sourceVersion: string;
  version: string;
  reason: 'already-built';
}

export interface PlanInput {
  /** Source products documents (content ids in SOURCE_CONTENT_IDS). */
  sources: readonly ProductsDocument[];
  /** Target MAAS products (already limited to the configured label/stream). */
  target: ProductsDocument | undefined;
  /** Release → arches the config can build for it (supported releases only). */
  buildable: ReadonlyMap<string, ReadonlySet<string>>;
  filters: readonly Filter[];
  /** Per source product, the N newest versions are considered. */
  max: number;
  /** FROM → TO. */
  rebuild: ReadonlyMap<string, string>;
}

export interface Plan {
  jobs: BuildJob[];
  skipped: SkippedVersion[];
}

/** (release/arch) → MAAS version names present for the primary kernel products. */
export function builtVersions(target: ProductsDocument | undefined): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  if (!target) return out;
  const expanded = expandProducts(target);
  for (const product of Object.values(expanded.products)) {
    for (const [vname, version] of Object.entries(product.versions)) {
      for (const item of Object.values(version.items)) {
        const release = item['release'];
        if (typeof release !== 'string' || item['krel'] !== release) continue;
        const key = `${release}/${String(item['arch'])}`;
        let set = out.get(key);
        if (!set) out.set(key, (set = new Set()));
        set.add(vname);
      }
    }
  }
  return out;
}

/** Parses `--rebuild FROM:TO` values. */
export function parseRebuild(values: readonly string[]): Map<string, string> | string {
  const out = new Map<string, string>();
  for (const v of values) {
    const m = /^([^:\s]+):([^:\s]+)$/.exec(v);
    if (!m) return v;
    out.set(m[1]!, m[2]!);
  }
  return out;
}

export function planSync(input: PlanInput): Plan {
  const built = builtVersions(input.target);
  const jobs: BuildJob[] = [];
  const skipped: SkippedVersion[] = [];
  const seen = new Set<string>();
  for (const doc of input.sources) {
    const expanded = expandProducts(doc);
    for (const [pname, product] of Object.entries(expanded.products).sort(([a], [b]) => compareVersions(a, b))) {
      // expandProducts moved every inherited field (release, arch, …) down to the items.
      const first = Object.values(product.versions).flatMap((v) => Object.values(v.items))[0];
      const release = scalarText(first?.['release'] ?? '');
      const arch = scalarText(first?.['arch'] ?? '');
      if (!input.buildable.get(release)?.has(arch)) continue;
      const candidates: Array<{ vname: string; item: BuildJob['item'] }> = [];
      for (const [vname, version] of Object.entries(product.versions)) {
        const byFtype = new Map<string, Item>();
        for (const item of Object.values(version.items)) if (typeof item.ftype === 'string' && !byFtype.has(item.ftype)) byFtype.set(item.ftype, item);
        const ftype = SOURCE_FTYPES.find((f) => byFtype.has(f));
        if (!ftype) continue;
        const item = byFtype.get(ftype)!;
        if (typeof item.path !== 'string') continue;
        const record = { ...item, content_id: doc.content_id, product_name: pname, version_name: vname };
        if (!matchesFilters(record, input.filters)) continue;
        candidates.push({ vname, item: item as BuildJob['item'] });
      }
      candidates.sort((a, b) => compareVersions(b.vname, a.vname));
      for (const { vname, item } of candidates.slice(0, Math.max(0, input.max))) {
        const version = input.rebuild.get(vname) ?? vname;
        const key = `${release}/${arch}/${version}`;
        if (seen.has(key)) continue;
        seen.add(key);
        if (built.get(`${release}/${arch}`)?.has(version)) {
          skipped.push({ release, arch, sourceVersion: vname, version, reason: 'already-built' });
          continue;
        }
        jobs.push({ release, arch, sourceVersion: vname, version, sourceProduct: pname, item });
      }
    }
  }
  return { jobs, skipped };
}

/**
 * Keeps only the target products of the configured stream: their names must contain the
 * `<label>:<vN>` part of the configured content id (e.g. `candidate:v3`); others are old.
 */
export function currentTargetProducts(target: ProductsDocument, contentId: string): { doc: ProductsDocument; dropped: string[] } {
  const parts = contentId.split(':');
  const marker = parts.length >= 4 ? `${parts[1]}:${parts[2]}` : undefined;
  const dropped: string[] = [];
  const products: ProductsDocument['products'] = {};
  for (const [name, product] of Object.entries(target.products)) {
    if (marker && !name.includes(marker)) dropped.push(name);
    else products[name] = product;
  }
  return { doc: { ...target, products }, dropped };
}
