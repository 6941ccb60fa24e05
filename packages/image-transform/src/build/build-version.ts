import { constants as fsc, promises as fsp } from 'node:fs';
import path from 'node:path';
import pLimit from 'p-limit';
import type { DiKernelInfo } from '@meph/di-crawler';
import { createHttpClient, type HttpClient, type HttpClientOptions } from '@meph/http';
import { formatUpdated, hashFile, moveIntoPlace, resolveInside, writeFileAtomic, type FlatItem, type ProductsDocument } from '@meph/simplestreams';
import type { Converter, ConvertRequest, KernelRequest } from '../converter.js';
import type { BuildEvent } from '../events.js';
import type { BuildConfig } from '../config/types.js';
import type { BuildSettings } from '../config/settings.js';
import { hostDebianMirror } from '../config/host-mirror.js';
import { ConverterOutputError, NothingToBuildError, SourceFormatError } from '../errors.js';
import { planVersion, type VersionPlan } from '../metadata/plan.js';
import { addDiItems, checkDiKernels, crawlDiKernels, resolveDiSource, type DiSourceOptions, type PlannedKernelLine } from '../di/index.js';
import { commitProducts } from './commit-products.js';
import { expandedProducts, flatItems, flatJsonText, type FileDigests } from './products-doc.js';
import { createTempArea, removeStaleTempAreas } from './temp-area.js';

export interface BuildVersionOptions {
  config: BuildConfig;
  arch: string;
  release: string;
  /** Version name to build, e.g. 20240101 or 20240101.1. */
  version: string;
  /** Local path or http(s) URL of the source image (never modified). */
  source: string;
  /** Stream root: data under `<release>/<arch>/<version>/`, metadata under `streams/v1/`. */
  outputDir: string;
  converter: Converter;
  /** Name of the converter in messages (default: the function's name). */
  converterName?: string;
  /** Effective settings (flags > env > config); missing fields fall back to the config. */
  settings?: Partial<BuildSettings>;
  /** M2E_ADD_REPOS / M2E_ADD_PACKAGES equivalents. */
  addRepos?: string[];
  addPackages?: string[];
  /** Also write a JSON list of the new items here (`--flat-json`). */
  flatJson?: string;
  /** Plan only: nothing is created, written or converted. */
  dryRun?: boolean;
  /** Write `streams/v1/<content_id>.json` and the index (default true). */
  writeMetadata?: boolean;
  /** Called after the index is written (e.g. to sign the stream). */
  sign?: (rootDir: string) => Promise<void>;
  cacheDir?: string;
  kernelConcurrency?: number;
  signal?: AbortSignal;
  onEvent?: (event: BuildEvent) => void;
  /** Timestamp for `updated` (tests). */
  now?: Date;
  /** d-i items (when enable_di is on): where to crawl, or an index crawled already (cloudimg-sync). */
  di?: DiSourceOptions & { info?: DiKernelInfo; client?: HttpClient; http?: HttpClientOptions };
  /** `-v` count, passed on to a command converter. */
  verbosity?: number;
}

export interface BuildResult {
  plan: VersionPlan;
  dryRun: boolean;
  /** False when every output already existed (nothing was converted) or on a dry run. */
  converterRan: boolean;
  /** Whether the converter would have to run (every output present → false). */
  needsConversion: boolean;
  /** The new products with every field on every item (empty products on a dry run). */
  expanded?: ProductsDocument;
  /** What was written to `productsPath` (condensed). */
  products?: ProductsDocument;
  productsPath?: string;
  indexPath?: string;
  items: FlatItem[];
  /** The converter request (also on dry runs, with final output paths). */
  request?: ConvertRequest;
  /** Whether d-i items are (or would be) added. */
  enableDi: boolean;
}

async function exists(file: string): Promise<boolean> {
  return fsp.access(file, fsc.F_OK).then(
    () => true,
    () => false,
  );
}

function toKernelRequests(plan: VersionPlan, root: string): KernelRequest[] {
  return plan.kernels.map((k) => {
    const req: KernelRequest = { package: k.package, flavor: k.flavor, kernelPath: resolveInside(root, k.kernelPath), initrdPath: resolveInside(root, k.initrdPath) };
    if (k.dtb) req.dtb = { name: k.dtb.name, path: resolveInside(root, k.dtb.path) };
    if (k.kihelper) req.kihelper = k.kihelper;
    return req;
  });
}

async function effectiveMirror(config: BuildConfig, settings: Partial<BuildSettings>, release: string): Promise<string | undefined> {
  if (settings.mirror ?? config.mirror) return settings.mirror ?? config.mirror;
  return config.distro === 'debian' ? hostDebianMirror(release) : undefined;
}

/** The converter request for a plan, with every output path under `root`. */
export async function makeConvertRequest(options: BuildVersionOptions, plan: VersionPlan, root: string, workDir: string): Promise<ConvertRequest> {
  const { config } = options;
  const s = options.settings ?? {};
  const req: ConvertRequest = {
    arch: plan.arch,
    release: plan.release,
    version: plan.version,
    source: options.source,
    imageFormat: s.imageFormat ?? 'auto',
    kernels: toKernelRequests(plan, root),
    manifestPath: resolveInside(root, plan.manifestPath!),
    proposed: s.proposed ?? config.enableProposed,
    addRepos: options.addRepos ?? s.addRepos ?? [],
    addPackages: options.addPackages ?? s.addPackages ?? [],
    prePurgePackages: s.prePurgePackages ?? config.prePurgePackages,
    proposedPackages: s.proposedPackages ?? config.proposedPackages,
    builtinKernel: plan.builtinKernel,
    workDir,
  };
  if (options.verbosity) req.verbosity = options.verbosity;
  if (plan.squashfsPath) {
    req.squashfs = { path: resolveInside(root, plan.squashfsPath), compression: s.squashfsCompression ?? 'xz' };
    if (s.squashfsBlockSize) req.squashfs.blockSize = s.squashfsBlockSize;
  }
  if (plan.rootImageGzPath) req.rootImageGzPath = resolveInside(root, plan.rootImageGzPath);
  const mirror = await effectiveMirror(config, s, plan.release);
  if (mirror) req.mirror = mirror;
  if (options.cacheDir) req.cacheDir = options.cacheDir;
  if (options.kernelConcurrency) req.kernelConcurrency = options.kernelConcurrency;
  if (options.signal) req.signal = options.signal;
  if (options.onEvent) req.onEvent = options.onEvent;
  return req;
}

async function digestAll(root: string, files: readonly string[], emit: (e: BuildEvent) => void, signal?: AbortSignal): Promise<Map<string, { size: number; sha256: string }>> {
  const out = new Map<string, { size: number; sha256: string }>();
  const limit = pLimit(2);
  let done = 0;
  await Promise.all(
    files.map((rel) =>
      limit(async () => {
        signal?.throwIfAborted();
        const d = await hashFile(path.join(root, rel), ['sha256']);
        out.set(rel, { size: d.size, sha256: d.sha256! });
        emit({ type: 'progress', step: 'checksums', done: ++done, total: files.length, unit: 'files' });
      }),
    ),
  );
  return out;
}

/**
 * Builds one version of one release/arch, as the original's `meph2-build`: plan the products
 * (a request matching no kernel line is an error) → crawl d-i when enabled (before the long
 * conversion) → convert the source (skipped when every output exists) into a scratch area
 * inside the output dir → move the data into place → add the d-i files → write
 * `streams/v1/<content_id>.json` with only the new products and the index (`commitProducts`)
 * → sign (via `options.sign`).
 */
export async function buildVersion(options: BuildVersionOptions): Promise<BuildResult> {
  const emit = options.onEvent ?? (() => {});
  const { config, outputDir } = options;
  const settings = options.settings ?? {};
  const plan = planVersion(config, options);
  if (plan.products.length === 0) {
    const arches = [...new Set(config.releases.find((r) => r.release === plan.release)!.kernels.map((k) => k.arch))].sort();
    throw new NothingToBuildError(`${config.file}: release ${plan.release} has no kernel lines for arch ${plan.arch}; nothing to build`, {
      hint: arches.length ? `arches with kernel lines for ${plan.release}: ${arches.join(', ')}` : `add kernel lines for ${plan.release} to the config`,
    });
  }
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(options.source) && !(await exists(options.source))) {
    throw new SourceFormatError(options.source, 'no such source file', { hint: 'give an existing file or an http(s) URL' });
  }
  for (const w of plan.warnings) emit({ type: 'warning', message: w });
  emit({ type: 'plan', arch: plan.arch, release: plan.release, version: plan.version, products: plan.products.length, files: plan.files.length });

  const root = path.resolve(outputDir);
  const enableDi = settings.enableDi ?? config.enableDi;
  const result: BuildResult = { plan, dryRun: Boolean(options.dryRun), converterRan: false, needsConversion: false, items: [], enableDi };

  const present = await Promise.all(plan.files.map((rel) => exists(resolveInside(root, rel))));
  result.needsConversion = present.some((p) => !p);
  if (options.dryRun) {
    result.request = await makeConvertRequest(options, plan, root, path.join(root, '.meph-build.<pid>.<random>', 'work'));
    return result;
  }

  options.signal?.throwIfAborted();
  const diLines = new Map<string, PlannedKernelLine>(plan.products.map((p) => [p.productId, p.kernel]));
  let ownClient: HttpClient | undefined;
  const client = (): HttpClient =>
    options.di?.client ?? (ownClient ??= createHttpClient({ ...options.di?.http, ...(options.signal ? { signal: options.signal } : {}), onEvent: (e) => emit({ ...e }) }));
  try {
    // d-i first, as the original: a missing installer fails before the long conversion.
    let diInfo = options.di?.info;
    if (enableDi && !diInfo) {
      const source = await resolveDiSource(config, plan.release, { ...options.di, ...(settings.mirror ? { mirror: settings.mirror } : {}) });
      diInfo = await crawlDiKernels({ source, releases: [plan.release], arches: [plan.arch], proposed: settings.proposed ?? config.enableProposed, client: client(), onEvent: emit });
    }
    if (diInfo) checkDiKernels(diInfo, plan.release, plan.arch, diLines.values());

    const stale = await removeStaleTempAreas(root);
    if (stale.length) emit({ type: 'stale-removed', paths: stale });

    if (!result.needsConversion) {
      emit({ type: 'converter-skipped', reason: 'all outputs exist', files: plan.files.length });
    } else {
      await convertInto(root, options, plan, result, emit);
    }

    const digests: FileDigests = await digestAll(root, plan.files, emit, options.signal);
    const expanded = expandedProducts(plan, digests, formatUpdated(options.now ?? new Date()));
    if (diInfo) {
      const fetched = await addDiItems({ expanded, kernels: diLines, info: diInfo, client: client(), outputDir: root, release: plan.release, arch: plan.arch });
      emit({ type: 'di-items-written', files: fetched.length });
    }
    result.expanded = expanded;
    result.items = flatItems(expanded);
  } finally {
    ownClient?.close();
  }
  for (const item of result.items) {
    emit({ type: 'item-built', productId: item.product_name, version: item.version_name, item: item.item_name, path: item['path'], size: item['size'], sha256: item['sha256'] });
  }

  if (options.writeMetadata !== false) {
    options.signal?.throwIfAborted();
    const committed = await commitProducts(root, { contentId: config.contentId, added: [result.expanded], ...(options.now ? { now: options.now } : {}) });
    result.products = committed.doc;
    result.productsPath = committed.productsPath;
    result.indexPath = committed.indexPath;
    emit({ type: 'products-written', path: result.productsPath, products: Object.keys(committed.doc.products).length });
    if (committed.indexWritten) emit({ type: 'index-written', path: result.indexPath });
  }
  if (options.flatJson) {
    await writeFileAtomic(path.resolve(options.flatJson), flatJsonText(result.items));
    emit({ type: 'flat-json-written', path: path.resolve(options.flatJson), items: result.items.length });
  }
  if (options.sign && options.writeMetadata !== false) await options.sign(root);
  return result;
}

/** Runs the converter into a scratch area inside `root`, checks its outputs and moves them into place. */
async function convertInto(root: string, options: BuildVersionOptions, plan: VersionPlan, result: BuildResult, emit: (e: BuildEvent) => void): Promise<void> {
  const tmp = await createTempArea(root);
  try {
    const staging = path.join(tmp, 'data');
    const workDir = path.join(tmp, 'work');
    await fsp.mkdir(workDir, { recursive: true });
    for (const dir of new Set(plan.files.map((f) => path.dirname(resolveInside(staging, f))))) await fsp.mkdir(dir, { recursive: true });
    const request = await makeConvertRequest(options, plan, staging, workDir);
    result.request = request;
    const name = options.converterName ?? (options.converter.name || 'converter');
    emit({ type: 'converter-start', converter: name, source: options.source, kernels: request.kernels.length });
    const started = Date.now();
    await options.converter(request);
    emit({ type: 'converter-done', converter: name, seconds: (Date.now() - started) / 1000 });
    result.converterRan = true;
    options.signal?.throwIfAborted();
    const missing: string[] = [];
    for (const rel of plan.files) if (!(await exists(resolveInside(staging, rel)))) missing.push(rel);
    if (missing.length) throw new ConverterOutputError(name, missing);
    for (const rel of plan.files) await moveIntoPlace(resolveInside(staging, rel), resolveInside(root, rel));
    emit({ type: 'data-written', files: plan.files.length });
  } finally {
    await fsp.rm(tmp, { recursive: true, force: true });
  }
}
