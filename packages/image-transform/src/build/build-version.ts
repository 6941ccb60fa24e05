import { constants as fsc, promises as fsp } from 'node:fs';
import path from 'node:path';
import pLimit from 'p-limit';
import { commitStreamUpdate, formatUpdated, hashFile, moveIntoPlace, resolveInside, writeFileAtomic, type FlatItem, type ProductsDocument } from '@meph/simplestreams';
import type { Converter, ConvertRequest, KernelRequest, PipelineEvent } from '../converter.js';
import type { BuildConfig } from '../config/types.js';
import type { BuildSettings } from '../config/settings.js';
import { hostDebianMirror } from '../config/host-mirror.js';
import { ConverterOutputError, PlanError, SourceFormatError } from '../errors.js';
import { planVersion, type VersionPlan } from '../metadata/plan.js';
import { condensedProducts, expandedProducts, flatItems, flatJsonText, type FileDigests } from './products-doc.js';
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
  onEvent?: (event: PipelineEvent) => void;
  /** Timestamp for `updated` (tests). */
  now?: Date;
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
    addRepos: options.addRepos ?? [],
    addPackages: options.addPackages ?? [],
    prePurgePackages: s.prePurgePackages ?? config.prePurgePackages,
    proposedPackages: s.proposedPackages ?? config.proposedPackages,
    workDir,
  };
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

async function digestAll(root: string, files: readonly string[], emit: (e: PipelineEvent) => void, signal?: AbortSignal): Promise<Map<string, { size: number; sha256: string }>> {
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
 * → convert the source (skipped when every output exists) into a scratch area inside the
 * output dir → move the data into place → write `streams/v1/<content_id>.json` with only the
 * new products → regenerate the index → sign (via `options.sign`).
 */
export async function buildVersion(options: BuildVersionOptions): Promise<BuildResult> {
  const emit = options.onEvent ?? (() => {});
  const { config, outputDir } = options;
  const settings = options.settings ?? {};
  const plan = planVersion(config, options);
  if (settings.enableDi ?? config.enableDi) {
    throw new PlanError(`${config.file}: d-i items (enable_di) are not produced by meph2-build`, { hint: 'build with --disable-di; d-i kernels come from meph2-cloudimg-sync' });
  }
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(options.source) && !(await exists(options.source))) {
    throw new SourceFormatError(options.source, 'no such source file', { hint: 'give an existing file or an http(s) URL' });
  }
  for (const w of plan.warnings) emit({ type: 'warning', message: w });
  emit({ type: 'plan', arch: plan.arch, release: plan.release, version: plan.version, products: plan.products.length, files: plan.files.length });

  const root = path.resolve(outputDir);
  const result: BuildResult = { plan, dryRun: Boolean(options.dryRun), converterRan: false, needsConversion: false, items: [] };
  if (plan.products.length === 0) return result;

  const present = await Promise.all(plan.files.map((rel) => exists(resolveInside(root, rel))));
  result.needsConversion = present.some((p) => !p);
  if (options.dryRun) {
    result.request = await makeConvertRequest(options, plan, root, path.join(root, '.meph-build.<pid>.<random>', 'work'));
    return result;
  }

  options.signal?.throwIfAborted();
  const stale = await removeStaleTempAreas(root);
  if (stale.length) emit({ type: 'stale-removed', paths: stale });

  if (!result.needsConversion) {
    emit({ type: 'converter-skipped', reason: 'all outputs exist', files: plan.files.length });
  } else {
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

  const digests: FileDigests = await digestAll(root, plan.files, emit, options.signal);
  const updated = formatUpdated(options.now ?? new Date());
  const expanded = expandedProducts(plan, digests, updated);
  result.expanded = expanded;
  result.items = flatItems(expanded);
  for (const item of result.items) {
    emit({ type: 'item-built', productId: item.product_name, version: item.version_name, item: item.item_name, path: item['path'], size: item['size'], sha256: item['sha256'] });
  }

  if (options.writeMetadata !== false) {
    options.signal?.throwIfAborted();
    const products = condensedProducts(expanded);
    const rel = `streams/v1/${config.contentId}.json`;
    const commit = await commitStreamUpdate(root, { products: [{ path: rel, doc: products }], index: 'regenerate' });
    result.products = products;
    result.productsPath = path.join(root, rel);
    result.indexPath = path.join(root, 'streams/v1/index.json');
    emit({ type: 'products-written', path: result.productsPath, products: Object.keys(products.products).length });
    if (commit.index) emit({ type: 'index-written', path: result.indexPath });
  }
  if (options.flatJson) {
    await writeFileAtomic(path.resolve(options.flatJson), flatJsonText(result.items));
    emit({ type: 'flat-json-written', path: path.resolve(options.flatJson), items: result.items.length });
  }
  if (options.sign && options.writeMetadata !== false) await options.sign(root);
  return result;
}
