/**
 * meph2-cloudimg-sync as a function: read the cloud-image feed and the MAAS target, plan the
 * missing versions, build each with {@link buildVersion} (the same settings resolution, d-i
 * handling and products → stream commit as meph2-build; bounded parallelism across
 * release/arch pairs, one failure does not stop the others), and write the output stream:
 * the target's current products (metadata only) plus the new versions, MAAS-condensed.
 * A failed run never replaces the output stream with one that has fewer versions.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pLimit from 'p-limit';
import {
  loadStream,
  parseFilters,
  parseJson,
  verifyFile,
  withStreamLock,
  type Filter,
  type ProductsDocument,
  type SignaturePolicy,
  type SignatureVerifier,
  type StreamLockHold,
} from '@meph/simplestreams';
import { isSupported, loadDistroInfo, type DiKernelInfo } from '@meph/di-crawler';
import { createHttpClient, isNotFound, type HttpClient, type HttpClientOptions } from '@meph/http';
import type { Converter, ConvertRequest } from '../converter.js';
import type { SyncEvent } from '../events.js';
import type { BuildConfig } from '../config/types.js';
import { resolveBuildSettings, type BuildFlags, type BuildSettings } from '../config/settings.js';
import { buildVersion } from '../build/build-version.js';
import { commitProducts, mergeProducts } from '../build/commit-products.js';
import { crawlDiKernels, resolveDiSource, type DiSourceOptions } from '../di/index.js';
import { SyncSourceError } from '../errors.js';
import { currentTargetProducts, planSync, SOURCE_CONTENT_IDS, type BuildJob, type Plan } from './plan.js';


export interface SyncOptions {
  config: BuildConfig;
  /** Command-line settings; merged with `env` and the config exactly as meph2-build does. */
  flags: BuildFlags;
  env: NodeJS.ProcessEnv;
  source: string;
  /** URL/path of the existing MAAS stream, or 'force' (= empty). */
  target: string;
  outputDir: string;
  arches: readonly string[];
  filters: readonly Filter[];
  max: number;
  rebuild: ReadonlyMap<string, string>;
  /** d-i archive/keyrings (defaults: see resolveDiSource). */
  di?: DiSourceOptions;
  /** Feed signature checking. */
  verifier?: SignatureVerifier;
  policy: SignaturePolicy;
  converter: Converter;
  converterName: string;
  /** Release/arch pairs built at once. */
  jobs: number;
  dryRun: boolean;
  verbosity?: number;
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
  /** The effective build settings (flags > MEPH_* env > config), as meph2-build resolves them. */
  settings: BuildSettings;
  /** Dry run: the converter request each job would send (final output paths). */
  requests: Array<{ job: BuildJob; request: ConvertRequest }>;
  built: BuildJob[];
  failures: SyncFailure[];
  productsPath?: string;
  /** False when a failed run left the stream as it was. */
  streamWritten: boolean;
}

/** The original's default arches per host (`uname -m`); undefined = no default. */
export function defaultSyncArches(machine: string = os.machine()): string[] | undefined {
  if (machine === 'x86_64') return ['i386', 'amd64', 'armhf', 'arm64'];
  if (machine === 'aarch64') return ['arm64', 'armhf'];
  if (machine === 'ppc64le') return ['ppc64el'];
  if (machine === 's390x') return ['s390x'];
  if (/^i[3-6]86$/.test(machine)) return ['i386'];
  if (machine === 'armhf' || machine.startsWith('armv7')) return ['armhf'];
  return undefined;
}

/** The filters a sync applies to source items: only the arches it builds, then the user's (`key=value`, …). */
export function syncSourceFilters(arches: readonly string[], filters: readonly string[]): Filter[] {
  return parseFilters([`arch~(${arches.map((a) => a.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})`, ...filters]);
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
 * directory cannot interleave. Failed builds are in `failures`; then the stream is written
 * only when something built and no version the stream has would be lost (`streamWritten`).
 */
export async function runSync(options: SyncOptions): Promise<SyncResult> {
  if (options.dryRun) return syncUnlocked(options);
  const outputDir = path.resolve(options.outputDir);
  await mkdir(outputDir, { recursive: true });
  return withStreamLock(outputDir, (lock) => syncUnlocked(options, lock));
}

/** (product, version) pairs of a products file already in the output, if any. */
async function existingVersions(file: string): Promise<Set<string> | undefined> {
  if (!existsSync(file)) return undefined;
  return versionKeys(parseJson(await readFile(file, 'utf8'), file) as ProductsDocument);
}

function versionKeys(doc: ProductsDocument): Set<string> {
  return new Set(Object.entries(doc.products ?? {}).flatMap(([pid, p]) => Object.keys(p.versions ?? {}).map((v) => `${pid}@${v}`)));
}

async function syncUnlocked(options: SyncOptions, lock?: StreamLockHold): Promise<SyncResult> {
  const emit = (e: SyncEvent): void => options.onEvent?.(e);
  const settings = resolveBuildSettings(options.config, options.flags, options.env);
  const buildable = buildableMatrix(options.config, options.arches, emit, options.today);
  const [{ docs, url }, target] = await Promise.all([readSources(options), readTarget(options, emit)]);
  const plan = planSync({ sources: docs, target, buildable, filters: options.filters, max: options.max, rebuild: options.rebuild });
  for (const s of plan.skipped) emit({ type: 'version-skipped', ...s });
  for (const j of plan.jobs) emit({ type: 'version-planned', release: j.release, arch: j.arch, sourceVersion: j.sourceVersion, version: j.version, source: url(j.item.path) });
  const result: SyncResult = { plan, settings, requests: [], built: [], failures: [], streamWritten: false };
  const outputDir = path.resolve(options.outputDir);
  const common = {
    config: options.config,
    outputDir,
    converter: options.converter,
    converterName: options.converterName,
    settings,
    ...(options.verbosity ? { verbosity: options.verbosity } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.now ? { now: options.now } : {}),
  };
  if (options.dryRun) {
    for (const job of plan.jobs) {
      const r = await buildVersion({ ...common, arch: job.arch, release: job.release, version: job.version, source: url(job.item.path), dryRun: true });
      if (r.request) result.requests.push({ job, request: r.request });
    }
    return result;
  }

  const client = createHttpClient({ ...options.http, ...(options.signal ? { signal: options.signal } : {}), onEvent: (e) => emit({ ...e }) });
  const work = await mkdtemp(path.join(os.tmpdir(), 'meph-cloudimg-sync-'));
  try {
    // d-i once for every planned release/arch, before any build: an unreachable archive fails the run early.
    let info: DiKernelInfo | undefined;
    if (settings.enableDi && plan.jobs.length) {
      const releases = [...new Set(plan.jobs.map((j) => j.release))];
      const source = await resolveDiSource(options.config, releases[0]!, { ...options.di, ...(settings.mirror ? { mirror: settings.mirror } : {}) });
      info = await crawlDiKernels({ source, releases, arches: [...new Set(plan.jobs.map((j) => j.arch))], proposed: settings.proposed, client, onEvent: emit });
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
              emit({ type: 'build-start', release: job.release, arch: job.arch, version: job.version, sourceVersion: job.sourceVersion });
              const source = await fetchSource(job, url(job.item.path), work, client);
              const built = await buildVersion({
                ...common,
                arch: job.arch,
                release: job.release,
                version: job.version,
                source,
                writeMetadata: false,
                cacheDir: path.join(work, 'cache'),
                ...(info ? { di: { info, client } } : {}),
                onEvent: (e) => emit({ ...e, release: job.release, arch: job.arch, version: job.version }),
              });
              newProducts.push(built.expanded!);
              result.built.push(job);
              emit({ type: 'build-done', release: job.release, arch: job.arch, version: job.version, products: Object.keys(built.expanded!.products).length });
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

    const productsPath = path.join(outputDir, `streams/v1/${options.config.contentId}.json`);
    if (result.failures.length) {
      // Never replace the stream with an emptier one because builds failed.
      const before = await existingVersions(productsPath);
      const after = versionKeys(mergeProducts(options.config.contentId, newProducts, target));
      const loses = before ? [...before].some((k) => !after.has(k)) : false;
      if (!result.built.length || loses) {
        emit({ type: 'stream-untouched', path: productsPath, reason: result.built.length ? 'the new stream would lose versions it has' : 'no version built' });
        return result;
      }
    }
    const committed = await commitProducts(outputDir, { contentId: options.config.contentId, added: newProducts, ...(target ? { base: target } : {}), ...(options.now ? { now: options.now } : {}), ...(lock ? { lock } : {}) });
    result.productsPath = committed.productsPath;
    result.streamWritten = true;
    emit({ type: 'products-written', path: committed.productsPath, products: Object.keys(committed.doc.products).length, newVersions: result.built.length });
    return result;
  } finally {
    client.close();
    await rm(work, { recursive: true, force: true });
  }
}
