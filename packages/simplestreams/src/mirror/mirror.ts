import { promises as fsp, statSync } from 'node:fs';
import path from 'node:path';
import { createHttpClient, SYNC_READ_BYTES, SyncBatch, type DownloadProgress, type HttpClient, type HttpEvent } from '@meph/http';
import type { Filter } from '../flatten/filters.js';
import type { ProductsDocument, SignaturePolicy, SignatureVerifier } from '../model.js';
import { MirrorOptionError } from '../errors.js';
import { resolveInside } from '../paths.js';
import { parseProducts } from '../read/documents.js';
import { parseJson } from '../read/json.js';
import { isHttpUrl } from '../read/location.js';
import { loadStream } from '../read/load.js';
import { writeFileAtomic } from '../write/atomic.js';
import { copyFileVerified, verifyFile } from '../write/checksum.js';
import { withStreamLock } from '../write/lock.js';
import { TargetConfinement } from '../write/confine.js';
import { formatReferences, formatTargetTree, parseReferences, planContent, planLines, updateReferences, type ContentPlan, type MirrorItemChange, type References } from './plan.js';

export const MIRROR_DATA_DIR = '.data';
export const REFERENCES_FILE = `${MIRROR_DATA_DIR}/references.json`;

export type MirrorEvent =
  | { type: 'mirror-plan'; line: string }
  | { type: 'mirror-file'; path: string; size: number; state: 'downloaded' | 'present' | 'resumed'; resumedFrom?: number }
  | { type: 'mirror-removed'; path: string }
  | { type: 'mirror-metadata'; path: string }
  | { type: 'progress'; step: string; done: number; total: number; unit: 'bytes'; files: number; filesTotal: number; bytesPerSecond: number; etaSeconds?: number }
  | HttpEvent;

export interface MirrorOptions {
  filters?: readonly Filter[];
  max?: number;
  keep?: boolean;
  dryRun?: boolean;
  /** `--no-item-download`: record versions, download no item. */
  itemDownload?: boolean;
  verifier?: SignatureVerifier;
  policy?: SignaturePolicy;
  /** Downloads in flight in total (default 10) and per host (default: the same as jobs). */
  jobs?: number;
  perHost?: number;
  /** Defaults to a client built from jobs/perHost (proxy and MEPH_HTTP_* from env). */
  http?: HttpClient;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  signal?: AbortSignal;
  onEvent?: (e: MirrorEvent) => void;
  /** Called after each file the mirror commits (data, products, index, bookkeeping), in order. */
  onCommit?: (kind: 'data' | 'products' | 'index' | 'bookkeeping', rel: string, count: number) => void;
  waitForLock?: boolean;
}

export interface MirrorResult {
  plans: ContentPlan[];
  lines: string[];
  downloaded: number;
  present: number;
  bytes: number;
  removed: string[];
  dryRun: boolean;
}

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await fsp.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

async function sizeIfExists(file: string): Promise<number | undefined> {
  try {
    return (await fsp.stat(file)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function checksumsOf(c: MirrorItemChange): Partial<Record<'sha256' | 'sha512' | 'md5', string>> {
  const out: Partial<Record<'sha256' | 'sha512' | 'md5', string>> = {};
  for (const a of ['sha256', 'sha512', 'md5'] as const) if (typeof c.item[a] === 'string' && c.item[a] !== '') out[a] = String(c.item[a]).toLowerCase();
  return out;
}

/** Removes now-empty directories from `dir` up to (not including) `root`. */
async function pruneEmptyDirs(root: string, dir: string): Promise<void> {
  let d = dir;
  while (d.startsWith(root + path.sep) && d !== root) {
    try {
      await fsp.rmdir(d);
    } catch {
      return;
    }
    d = path.dirname(d);
  }
}

/** A products document to mirror: the parsed tree plans the work, `raw` is what is written at `path`. */
export interface MirrorContent {
  doc: ProductsDocument;
  /** Where the products file goes, relative to the target. */
  path: string;
  raw: string;
  /** Names the document in errors (its URL). */
  label?: string;
}

export interface MirrorDocuments {
  contents: readonly MirrorContent[];
  /** The index to write last (none for netboot-mirror). */
  index?: { path: string; raw: string };
  /** Where an item's bytes come from: an http(s) URL, or a local file. */
  locate: (c: MirrorItemChange) => string;
}

/**
 * The writer shared by `mirror` and `netboot-mirror`: plans each document against the
 * target's `.data/<content_id>` tree, then, so that TARGET serves the previous or the new
 * stream at every instant: 1. every new data file, downloaded in parallel to `<file>.part`
 * (resumed with Range), verified (size and every checksum) and renamed into place; 2. products
 * files; 3. the index; 4. files whose last reference went are deleted; 5. the bookkeeping
 * (`.data/<content_id>`, `.data/references.json`). A crash before 5 makes the rerun plan the
 * same work again: present files are not downloaded twice, deleting an absent file is a no-op.
 */
export async function mirrorDocuments(targetDir: string, input: MirrorDocuments, options: MirrorOptions = {}): Promise<MirrorResult> {
  const emit = options.onEvent ?? (() => {});
  const itemDownload = options.itemDownload !== false;
  const jobs = Math.max(1, options.jobs ?? 10);
  const ownHttp = options.http === undefined;
  const http = options.http ?? mirrorHttpClient(options);
  const root = path.resolve(options.cwd ?? process.cwd(), targetDir);
  const run = async (): Promise<MirrorResult> => {
    const refsText = await readIfExists(path.join(root, REFERENCES_FILE));
    const refs: References = refsText === undefined ? new Map<string, string[]>() : parseReferences(refsText, path.join(root, REFERENCES_FILE));
    const plans: ContentPlan[] = [];
    for (const p of input.contents) {
      const contentId = String(p.doc.content_id);
      const treeFile = resolveInside(path.join(root, MIRROR_DATA_DIR), contentId, 'content id');
      const prevText = await readIfExists(treeFile);
      const previous: ProductsDocument | undefined = prevText === undefined ? undefined : parseProducts(parseJson(prevText, treeFile), treeFile);
      plans.push(planContent(p.doc, previous, { filters: options.filters ?? [], ...(options.max !== undefined ? { max: options.max } : {}), keep: Boolean(options.keep), itemDownload }, p.label ?? p.path));
    }
    // every path is checked (no `..`, no symlink out of the target) before anything is written
    const confine = new TargetConfinement(root);
    const checks: Array<[rel: string, what: string]> = [];
    for (const plan of plans) for (const c of [...plan.add, ...plan.remove]) checks.push([c.path, `${plan.contentId} ${c.productName} ${c.versionName} ${c.itemName}`]);
    for (const p of input.contents) checks.push([p.path, 'products file']);
    if (input.index) checks.push([input.index.path, 'index']);
    for (const plan of plans) checks.push([`${MIRROR_DATA_DIR}/${plan.contentId}`, 'content id']);
    const resolved = await confineAll(confine, checks);
    const lines = planLines(plans);
    for (const line of lines) emit({ type: 'mirror-plan', line });
    const result: MirrorResult = { plans, lines, downloaded: 0, present: 0, bytes: 0, removed: [], dryRun: Boolean(options.dryRun) };
    if (options.dryRun) return result;

    let commits = 0;
    const committed = (kind: 'data' | 'products' | 'index' | 'bookkeeping', rel: string): void => options.onCommit?.(kind, rel, ++commits);

    // 1. data
    if (itemDownload) {
      const unique = new Map<string, MirrorItemChange>();
      for (const plan of plans) for (const c of plan.add) if (!unique.has(c.path)) unique.set(c.path, c);
      const durable = new SyncBatch();
      await downloadAll([...unique.values()], { root, confine, locate: input.locate, http, jobs, emit, committed, result, durable, committedBefore: refs, resolved, ...(options.signal ? { signal: options.signal } : {}) });
      // every data file on stable storage before a products file can reference it
      await durable.flush();
    }
    // 2. products, 3. index
    for (const p of input.contents) {
      await writeFileAtomic(await confine.resolve(p.path, 'products file'), p.raw);
      emit({ type: 'mirror-metadata', path: p.path });
      committed('products', p.path);
    }
    if (input.index) {
      await writeFileAtomic(await confine.resolve(input.index.path, 'index'), input.index.raw);
      emit({ type: 'mirror-metadata', path: input.index.path });
      committed('index', input.index.path);
    }
    // 4. files nothing refers to any more
    const freed = new Set<string>();
    for (const plan of plans) for (const f of updateReferences(refs, plan, itemDownload)) freed.add(f);
    for (const f of freed) {
      if (refs.has(f)) continue;
      const abs = await confine.resolve(f, 'data file');
      await fsp.rm(abs, { force: true });
      await fsp.rm(`${abs}.part`, { force: true });
      await pruneEmptyDirs(root, path.dirname(abs));
      result.removed.push(f);
      emit({ type: 'mirror-removed', path: f });
    }
    // 5. bookkeeping
    for (const plan of plans) {
      const rel = `${MIRROR_DATA_DIR}/${plan.contentId}`;
      await writeFileAtomic(await confine.resolve(rel, 'content id'), formatTargetTree(plan.target));
      committed('bookkeeping', rel);
    }
    await writeFileAtomic(path.join(root, REFERENCES_FILE), formatReferences(refs));
    committed('bookkeeping', REFERENCES_FILE);
    return result;
  };
  try {
    if (options.dryRun) return await run();
    await fsp.mkdir(root, { recursive: true });
    return await withStreamLock(root, run, { wait: Boolean(options.waitForLock), ...(options.signal ? { signal: options.signal } : {}) });
  } finally {
    if (ownHttp) http.close();
  }
}

/**
 * Refuses counts that are not whole numbers (`max` >= 0, `jobs` and `perHost` >= 1) and `keep`
 * without `max`, naming the command-line flag: mirrorStream and mirrorNetboot check this first.
 */
export function checkMirrorOptions(options: Pick<MirrorOptions, 'max' | 'jobs' | 'perHost' | 'keep'>): void {
  for (const [flag, v, min] of [['--max', options.max, 0], ['--jobs', options.jobs, 1], ['--per-host', options.perHost, 1]] as const) {
    if (v !== undefined && (!Number.isInteger(v) || v < min)) throw new MirrorOptionError(`${flag} must be a whole number >= ${min}, got ${String(v)}`);
  }
  if (options.keep && options.max === undefined) throw new MirrorOptionError('--keep needs --max', 'add --max N or drop --keep');
}

/** The client a mirror uses: `jobs` in flight in total, `perHost` per origin, proxies and MEPH_HTTP_* from `env`. */
export function mirrorHttpClient(options: Pick<MirrorOptions, 'jobs' | 'perHost' | 'env' | 'signal' | 'onEvent'>): HttpClient {
  return createHttpClient({
    concurrency: Math.max(1, options.jobs ?? 10),
    concurrencyPerHost: Math.max(1, options.perHost ?? options.jobs ?? 10),
    ...(options.env ? { env: options.env } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    onEvent: (e) => options.onEvent?.(e),
  });
}

/**
 * `sstream-mirror`: copies SOURCE's metadata (byte for byte, as fetched and verified; the
 * products files unfiltered, like the original) and the data of the items that pass the
 * filters (newest `max` versions per product) into TARGET, through {@link mirrorDocuments}.
 */
export async function mirrorStream(sourceLocation: string, targetDir: string, options: MirrorOptions = {}): Promise<MirrorResult> {
  checkMirrorOptions(options);
  const http = options.http ?? mirrorHttpClient(options);
  // Metadata is mirrored byte for byte: keep the bytes each document arrived as, the ones that
  // were parsed and (when signed) verified. The reader fetches through getBytes (getText goes
  // through it too); without a copy here each document was fetched a second time to be
  // written, unverified, one sequential request per document.
  const captured = new Map<string, Buffer>();
  const capturing: HttpClient = Object.create(http) as HttpClient;
  capturing.getBytes = async (url, o) => {
    const bytes = await http.getBytes(url, o);
    captured.set(url, bytes);
    return bytes;
  };
  try {
    const stream = await loadStream(sourceLocation, {
      http: capturing,
      ...(options.verifier ? { verifier: options.verifier } : {}),
      ...(options.policy ? { policy: options.policy } : {}),
      ...(options.cwd ? { cwd: options.cwd } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const source = stream.source;
    // (valid UTF-8, the reader checked: decoding and writing it back gives the same bytes)
    const rawOf = async (rel: string): Promise<string> => captured.get(source.url(rel))?.toString('utf8') ?? (await source.readText(rel));
    const local = !isHttpUrl(source.root);
    const localRoot = local ? path.resolve(options.cwd ?? process.cwd(), source.root || '.') : '';
    const contents: MirrorContent[] = [];
    for (const p of stream.products) contents.push({ doc: p.doc, path: p.path, raw: await rawOf(p.path), label: source.url(p.path) });
    return await mirrorDocuments(
      targetDir,
      {
        contents,
        ...(stream.indexPath !== undefined ? { index: { path: stream.indexPath, raw: await rawOf(stream.indexPath) } } : {}),
        locate: (c) => (local ? resolveInside(localRoot, c.path, source.url(c.path)) : source.url(c.path)),
      },
      { ...options, http },
    );
  } finally {
    if (!options.http) http.close();
  }
}

/**
 * Checks every path, in order (the first unsafe one is the error), and returns each one's
 * absolute path for the downloads to reuse.
 */
async function confineAll(confine: TargetConfinement, checks: ReadonlyArray<readonly [rel: string, what: string]>): Promise<Map<string, string>> {
  const resolved = new Map<string, string>();
  for (const [rel, what] of checks) resolved.set(rel, await confine.resolve(rel, what));
  return resolved;
}

interface DownloadContext {
  root: string;
  confine: TargetConfinement;
  locate: (c: MirrorItemChange) => string;
  http: HttpClient;
  jobs: number;
  signal?: AbortSignal;
  emit: (e: MirrorEvent) => void;
  committed: (kind: 'data', rel: string) => void;
  result: MirrorResult;
  /** Downloads are renamed into place unsynced and made durable here, flushed before the products are written. */
  durable: SyncBatch;
  /** Files a committed run recorded (synced before its products were written). */
  committedBefore: References;
  /** Absolute paths of the files already checked by the confinement (relative path → absolute). */
  resolved: ReadonlyMap<string, string>;
}

async function downloadAll(files: MirrorItemChange[], ctx: DownloadContext): Promise<void> {
  if (files.length === 0) return;
  const totalBytes = files.reduce((n, f) => n + f.size, 0);
  const started = Date.now();
  const inFlight = new Map<string, number>();
  let doneBytes = 0;
  let doneFiles = 0;
  let lastTick = 0;
  const tick = (force = false): void => {
    const now = Date.now();
    if (!force && now - lastTick < 250) return;
    lastTick = now;
    let partial = 0;
    for (const v of inFlight.values()) partial += v;
    const done = doneBytes + partial;
    const secs = Math.max(0.001, (now - started) / 1000);
    const rate = done / secs;
    const eta = rate > 0 ? Math.round((totalBytes - done) / rate) : undefined;
    ctx.emit({ type: 'progress', step: 'mirror', done, total: totalBytes, unit: 'bytes', files: doneFiles, filesTotal: files.length, bytesPerSecond: Math.round(rate), ...(eta !== undefined ? { etaSeconds: eta } : {}) });
  };
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (!failure && next < files.length) {
      const f = files[next++]!;
      try {
        await one(f);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  const one = async (f: MirrorItemChange): Promise<void> => {
    const dest = ctx.resolved.get(f.path) ?? (await ctx.confine.resolve(f.path, 'data file'));
    // a small item's stat is synchronous, as its download's file calls are (see @meph/http's download)
    let have = f.size <= SYNC_READ_BYTES ? statSync(dest, { throwIfNoEntry: false })?.size : await sizeIfExists(dest);
    if (have === f.size && !ctx.committedBefore.has(f.path)) {
      // Left by a run that stopped before its commit: renamed in after verification, but maybe
      // never synced (a power loss may have left other bytes). Trust it only after checking again.
      const ok = await verifyFile(dest, f.item).then(() => true, () => false);
      if (ok) ctx.durable.add(dest);
      else have = -1;
    }
    if (have === f.size) {
      // only verified bytes are ever renamed into place, and items are immutable
      ctx.result.present++;
      doneBytes += f.size;
      doneFiles++;
      ctx.emit({ type: 'mirror-file', path: f.path, size: f.size, state: 'present' });
      tick();
      return;
    }
    if (have !== undefined) await fsp.rm(dest, { force: true });
    const checksums = checksumsOf(f);
    const from = ctx.locate(f);
    if (isHttpUrl(from)) {
      // partial progress only for files that arrive in more than a few chunks
      const partial = f.size > SYNC_READ_BYTES;
      if (partial) inFlight.set(f.path, 0);
      const r = await ctx.http.download(from, dest, {
        size: f.size,
        checksums,
        syncBatch: ctx.durable,
        ...(ctx.signal ? { signal: ctx.signal } : {}),
        ...(partial
          ? {
              onProgress: (p: DownloadProgress) => {
                inFlight.set(f.path, p.received);
                tick();
              },
            }
          : {}),
      });
      if (partial) inFlight.delete(f.path);
      ctx.emit({ type: 'mirror-file', path: f.path, size: f.size, state: r.resumedFrom > 0 ? 'resumed' : 'downloaded', ...(r.resumedFrom > 0 ? { resumedFrom: r.resumedFrom } : {}) });
    } else {
      await copyFileVerified(from, dest, f.item);
      ctx.emit({ type: 'mirror-file', path: f.path, size: f.size, state: 'downloaded' });
    }
    ctx.result.downloaded++;
    ctx.result.bytes += f.size;
    doneBytes += f.size;
    doneFiles++;
    ctx.committed('data', f.path);
    tick();
  };
  // Twice as many workers as requests allowed in flight: while one worker renames a finished
  // file (or hashes a leftover one), another already holds the freed request slot (the client
  // enforces `jobs`).
  await Promise.all(Array.from({ length: Math.min(ctx.jobs * 2, files.length) }, () => worker()));
  tick(true);
  if (failure) throw failure.error;
}


