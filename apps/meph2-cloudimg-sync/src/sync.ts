/**
 * meph2-cloudimg-sync as a function: read the cloud-image feed and the MAAS target, plan the
 * missing versions, build them (bounded parallelism across release/arch pairs, one failure
 * does not stop the others), add d-i items, and write the output stream: the target's
 * current products (metadata only) plus the new versions, MAAS-condensed.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pLimit from 'p-limit';
import {
  commitStreamUpdate,
  expandProducts,
  formatUpdated,
  loadStream,
  maasCondense,
  MEPH2_BUILD_STICKY,
  verifyFile,
  withStreamLock,
  type Filter,
  type ProductsDocument,
  type SignaturePolicy,
  type SignatureVerifier,
} from '@meph/simplestreams';
import { crawlInstallers, diKernelInfo, isSupported, loadDistroInfo, type DiKernelInfo } from '@meph/di-crawler';
import { createHttpClient, isNotFound, type HttpClient, type HttpClientOptions } from '@meph/http';
import type { BuildConfig, Converter } from '@meph/image-transform';
import { addDiItems, type PlannedKernelLine } from './di.js';
import { currentTargetProducts, planSync, SOURCE_CONTENT_IDS, type BuildJob, type Plan } from './plan.js';
import { SyncSourceError } from './errors.js';

export interface SyncEvent {
  readonly type: string;
  readonly [k: string]: unknown;
}

export interface SyncOptions {
  config: BuildConfig;
  source: string;
  /** URL/path of the existing MAAS stream, or 'force' (= empty). */
  target: string;
  outputDir: string;
  arches: readonly string[];
  filters: readonly Filter[];
  max: number;
  rebuild: ReadonlyMap<string, string>;
  proposed: boolean;
  proposedPackages: string[];
  prePurgePackages: string[];
  enableDi: boolean;
  /** d-i archive root per arch (the original: archive.ubuntu.com for x86, ports for the rest). */
  diArchive: (arch: string) => string;
  diVerifier?: SignatureVerifier;
  /** Feed signature checking. */
  verifier?: SignatureVerifier;
  policy: SignaturePolicy;
  converter: Converter;
  converterName: string;
  /** Release/arch pairs built at once. */
  jobs: number;
  dryRun: boolean;
  http?: HttpClientOptions;
  signal?: AbortSignal;
  onEvent?: (e: SyncEvent) => void;
  now?: Date;
  /** For the supported-release check (tests). */
  today?: Date;
}

export interface SyncFailure {
  job: BuildJob;
  error: Error;
}

export interface SyncResult {
  plan: Plan;
  built: BuildJob[];
  failures: SyncFailure[];
  productsPath?: string;
}

/** Release → arches this config builds for, limited to supported releases and `arches`. */
export function buildableMatrix(config: BuildConfig, arches: readonly string[], emit: (e: SyncEvent) => void, today = new Date()): Map<string, Set<string>> {
  const distro = loadDistroInfo();
  const out = new Map<string, Set<string>>();
  for (const r of config.releases) {
    const info = distro.find((d) => d.series === r.release);
    if (info && !isSupported(info, today)) {
      emit({ type: 'release-ignored', release: r.release, reason: 'unsupported according to distro-info' });
      continue;
    }
    if (!info) emit({ type: 'warning', message: `release ${r.release} is unknown to distro-info; building it anyway` });
    const set = new Set(r.kernels.map((k) => k.arch).filter((a) => arches.includes(a)));
    if (set.size) out.set(r.release, set);
  }
  return out;
}

async function readSources(options: SyncOptions): Promise<{ docs: ProductsDocument[]; url: (rel: string) => string }> {
  const policy: SignaturePolicy = options.source.endsWith('.sjson') ? 'required' : options.policy;
  const stream = await loadStream(options.source, { ...(options.verifier ? { verifier: options.verifier } : {}), policy });
  const docs = stream.products.map((p) => p.doc).filter((d) => (SOURCE_CONTENT_IDS as readonly string[]).includes(d.content_id));
  if (!docs.length) {
    throw new SyncSourceError(options.source, `has no ${SOURCE_CONTENT_IDS.join(' or ')} products (found: ${stream.products.map((p) => p.doc.content_id).join(', ') || 'none'})`);
  }
  return { docs, url: (rel) => stream.source.url(rel) };
}

async function readTarget(options: SyncOptions, emit: (e: SyncEvent) => void): Promise<ProductsDocument | undefined> {
  if (options.target === 'force') return undefined;
  const stream = await loadStream(options.target, { ...(options.verifier ? { verifier: options.verifier } : {}), policy: options.policy === 'required' ? 'when-present' : options.policy });
  const docs = stream.products.filter((p) => p.doc.content_id === options.config.contentId);
  if (!docs.length) {
    emit({ type: 'warning', message: `${options.target}: no ${options.config.contentId} products; treating the target as empty` });
    return undefined;
  }
  const merged: ProductsDocument = { ...docs[0]!.doc, products: {} };
  for (const d of docs) Object.assign(merged.products, d.doc.products);
  const { doc, dropped } = currentTargetProducts(merged, options.config.contentId);
  for (const name of dropped) emit({ type: 'product-skipped', product: name, reason: 'old product (not in the configured stream)' });
  return doc;
}

/** Fetches the source image to `dir` verifying its checksum (or verifies a local one); returns its path. */
async function fetchSource(job: BuildJob, url: string, dir: string, client: HttpClient): Promise<string> {
  const item = job.item;
  if (/^https?:\/\//.test(url)) {
    if (typeof item.sha256 !== 'string') throw new SyncSourceError(url, 'has no sha256 in the feed, so it cannot be verified');
    const dest = path.join(dir, `${job.release}-${job.arch}-${job.sourceVersion}-${path.basename(item.path)}`);
    try {
      await client.download(url, dest, { checksums: { sha256: item.sha256 }, ...(typeof item.size === 'number' ? { size: item.size } : {}) });
    } catch (err) {
      if (isNotFound(err)) throw new SyncSourceError(url, `HTTP ${err.status}`);
      throw err;
    }
    return dest;
  }
  const local = url.replace(/^file:\/\//, '');
  await verifyFile(local, item);
  return local;
}

/**
 * Runs a sync. Except on a dry run (which creates nothing), the output directory's writer
 * lock is held from reading the target to writing the index, so two syncs into one
 * directory cannot interleave.
 */
export async function runSync(options: SyncOptions): Promise<SyncResult> {
  if (options.dryRun) return syncUnlocked(options);
  const outputDir = path.resolve(options.outputDir);
  await mkdir(outputDir, { recursive: true });
  return withStreamLock(outputDir, () => syncUnlocked(options));
}

async function syncUnlocked(options: SyncOptions): Promise<SyncResult> {
  const emit = (e: SyncEvent): void => options.onEvent?.(e);
  const buildable = buildableMatrix(options.config, options.arches, emit, options.today);
  const [{ docs, url }, target] = await Promise.all([readSources(options), readTarget(options, emit)]);
  const plan = planSync({ sources: docs, target, buildable, filters: options.filters, max: options.max, rebuild: options.rebuild });
  for (const s of plan.skipped) emit({ type: 'version-skipped', ...s });
  for (const j of plan.jobs) emit({ type: 'version-planned', release: j.release, arch: j.arch, sourceVersion: j.sourceVersion, version: j.version, source: url(j.item.path) });
  const result: SyncResult = { plan, built: [], failures: [] };
  if (options.dryRun) return result;

  const client = createHttpClient({ ...options.http, ...(options.signal ? { signal: options.signal } : {}), onEvent: (e) => emit({ ...e }) });
  const work = await mkdtemp(path.join(os.tmpdir(), 'meph-cloudimg-sync-'));
  const outputDir = path.resolve(options.outputDir);
  const { buildVersion } = await import('@meph/image-transform');
  try {
    let info: DiKernelInfo | undefined;
    let diError: Error | undefined;
    if (options.enableDi && plan.jobs.length) {
      const releases = [...new Set(plan.jobs.map((j) => j.release))];
      const byArchive = new Map<string, string[]>();
      for (const arch of new Set(plan.jobs.map((j) => j.arch))) {
        const a = options.diArchive(arch);
        byArchive.set(a, [...(byArchive.get(a) ?? []), arch]);
      }
      const merged: ProductsDocument = { format: 'products:1.0', content_id: 'com.ubuntu.installer:released:netboot', products: {} };
      try {
        for (const [archive, arches] of byArchive) {
          const { doc, errors } = await crawlInstallers({
            archive, releases, arches, proposed: options.proposed, client, strict: false,
            ...(options.diVerifier ? { verifier: options.diVerifier } : {}),
            onEvent: (e) => emit({ ...e }),
          });
          Object.assign(merged.products, doc.products);
          for (const e of errors) emit({ type: 'warning', message: `d-i crawl: ${e.message}` });
        }
        info = diKernelInfo(merged);
      } catch (err) {
        diError = err as Error;
      }
    }

    const newProducts: ProductsDocument[] = [];
    const groups = new Map<string, BuildJob[]>();
    for (const j of plan.jobs) groups.set(`${j.release}/${j.arch}`, [...(groups.get(`${j.release}/${j.arch}`) ?? []), j]);
    const limit = pLimit(Math.max(1, options.jobs));
    let finished = 0;
    const progress = (): void => emit({ type: 'progress', step: 'builds', done: finished, total: plan.jobs.length, unit: 'versions' });
    if (plan.jobs.length) progress();
    await Promise.all(
      [...groups.values()].map((jobs) =>
        limit(async () => {
          for (const job of jobs) {
            options.signal?.throwIfAborted();
            try {
              if (diError) throw diError;
              emit({ type: 'build-start', release: job.release, arch: job.arch, version: job.version, sourceVersion: job.sourceVersion });
              const source = await fetchSource(job, url(job.item.path), work, client);
              const built = await buildVersion({
                config: options.config,
                arch: job.arch,
                release: job.release,
                version: job.version,
                source,
                outputDir,
                converter: options.converter,
                converterName: options.converterName,
                settings: { enableDi: false, proposed: options.proposed, proposedPackages: options.proposedPackages, prePurgePackages: options.prePurgePackages },
                writeMetadata: false,
                cacheDir: path.join(work, 'cache'),
                ...(options.signal ? { signal: options.signal } : {}),
                onEvent: (e) => emit({ ...e, release: job.release, arch: job.arch, version: job.version }),
                ...(options.now ? { now: options.now } : {}),
              });
              if (!built.expanded || !Object.keys(built.expanded.products).length) throw new SyncSourceError(`${job.release}/${job.arch}`, 'the build produced no products');
              if (info) {
                const kernels = new Map<string, PlannedKernelLine>(built.plan.products.map((p) => [p.productId, p.kernel]));
                await addDiItems({ expanded: built.expanded, kernels, info, client, outputDir, release: job.release, arch: job.arch });
              }
              newProducts.push(built.expanded);
              result.built.push(job);
              emit({ type: 'build-done', release: job.release, arch: job.arch, version: job.version, products: Object.keys(built.expanded.products).length });
            } catch (err) {
              if (options.signal?.aborted) throw err;
              result.failures.push({ job, error: err as Error });
              emit({ type: 'build-failed', release: job.release, arch: job.arch, version: job.version, sourceVersion: job.sourceVersion, message: (err as Error).message });
            }
            finished++;
            progress();
          }
        }),
      ),
    );

    // Output: target products (metadata only) + the new versions, condensed for MAAS.
    const out: ProductsDocument = { format: 'products:1.0', content_id: options.config.contentId, datatype: 'image-downloads', products: {} };
    if (target) Object.assign(out.products, expandProducts({ ...target, content_id: options.config.contentId }).products);
    for (const doc of newProducts) {
      for (const [pid, product] of Object.entries(doc.products)) {
        const existing = out.products[pid];
        if (existing) Object.assign(existing.versions, product.versions);
        else out.products[pid] = product;
      }
    }
    const condensed = maasCondense(out, { sticky: MEPH2_BUILD_STICKY });
    condensed.updated = formatUpdated(options.now ?? new Date());
    condensed.datatype = 'image-downloads';
    const rel = `streams/v1/${options.config.contentId}.json`;
    await withStreamLock(outputDir, () => commitStreamUpdate(outputDir, { products: [{ path: rel, doc: condensed }], index: 'regenerate' }));
    result.productsPath = path.join(outputDir, rel);
    emit({ type: 'products-written', path: result.productsPath, products: Object.keys(condensed.products).length, newVersions: result.built.length });
    return result;
  } finally {
    client.close();
    await rm(work, { recursive: true, force: true });
  }
}
