import fs from 'node:fs/promises';
import path from 'node:path';
import pLimit from 'p-limit';
import type { IndexDocument, ProductsDocument } from '@meph/simplestreams';
import { parseJson } from '@meph/simplestreams';
import type { StreamSource } from '@meph/simplestreams';
import { isHttpUrl } from '@meph/simplestreams';
import { resolveInside } from '@meph/simplestreams';
import { buildIndex, commitStreamUpdate, copyFileVerified, recoverInterruptedWrites, listProductsFiles, serializeJson, withStreamLock, INDEX_PATH, STREAMS_DIR, type DataFileUpdate, type DocumentSigner, type StreamLockHold } from '@meph/simplestreams';
import { fsyncDir, mkdirPublic, tempPathFor } from '@meph/simplestreams';
import { TargetConfinement } from '@meph/simplestreams';
import type { FileCopy, OpsEventSink, StreamPlan } from './plan.js';
import { jsonPathOf, type ProductsFile } from './streams.js';

export interface ExecuteOptions {
  /** Where data files come from (not needed when the plan copies nothing from outside). */
  source?: StreamSource;
  dryRun?: boolean;
  onEvent?: OpsEventSink;
  signal?: AbortSignal;
  /** Called after each file is committed (data file, products file, index), in order. */
  onCommit?: (kind: 'data' | 'products' | 'index', relPath: string, count: number) => void;
  /** Parallel data copies (default 8). */
  concurrency?: number;
  /** The target's products files as read for planning (saves re-reading them for the index). */
  known?: readonly ProductsFile[];
  /** Sign the products files and index written, committing each with its signatures. */
  signer?: DocumentSigner;
  /** The target's lock, held by the caller (see `underTargetLock`). */
  lock?: StreamLockHold;
}

export interface ExecuteResult {
  /** Data files actually copied (files already in place are verified and kept). */
  copied: number;
  /** Products files written or removed. */
  productsWritten: number;
  /** Whether index.json was rewritten. */
  indexWritten: boolean;
}

async function lstatOrUndefined(p: string): Promise<import('node:fs').Stats | undefined> {
  try {
    return await fs.lstat(p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** The index as text minus its timestamps, to tell whether regenerating it changes anything. */
function indexWithoutUpdated(index: IndexDocument | undefined): string {
  if (!index) return '';
  const entries = Object.fromEntries(Object.entries(index.index ?? {}).map(([k, { updated: _u, ...rest }]) => [k, rest]));
  const { updated: _updated, ...head } = index;
  return serializeJson({ ...head, index: entries });
}

async function indexIsStale(root: string, next: IndexDocument): Promise<boolean> {
  let current: IndexDocument | undefined;
  try {
    current = JSON.parse(await fs.readFile(path.join(root, INDEX_PATH), 'utf8')) as IndexDocument;
  } catch {
    current = undefined;
  }
  if (!current && !Object.keys(next.index).length) return false;
  return indexWithoutUpdated(current) !== indexWithoutUpdated(next);
}

/**
 * The index `regenerateIndex` would write once the plan is applied (every streams/v1/*.json),
 * built from the documents already in memory: only products files the operation did not load
 * are read, so a big stream is not parsed a second time.
 */
async function computeIndex(root: string, known: readonly ProductsFile[], changes: StreamPlan['changes']): Promise<IndexDocument> {
  const docs = new Map<string, ProductsDocument>(known.map((f) => [jsonPathOf(f.path), f.doc]));
  const removed = new Set<string>();
  for (const c of changes) {
    if (c.doc) docs.set(c.path, c.doc);
    else removed.add(c.path);
  }
  const rels = new Set(await listProductsFiles(root));
  for (const c of changes) if (c.doc) rels.add(c.path);
  const entries: Array<{ path: string; doc: ProductsDocument }> = [];
  for (const rel of [...rels].sort()) {
    if (removed.has(rel) || path.posix.dirname(rel) !== STREAMS_DIR || !rel.endsWith('.json')) continue;
    const abs = path.join(root, rel);
    entries.push({ path: rel, doc: docs.get(rel) ?? (parseJson(await fs.readFile(abs, 'utf8'), abs) as ProductsDocument) });
  }
  return buildIndex(entries);
}

/** Shared files (one squashfs for many products) are copied once. */
function dedupeCopies(copies: readonly FileCopy[]): FileCopy[] {
  const seen = new Map<string, FileCopy>();
  for (const c of copies) if (!seen.has(c.to)) seen.set(c.to, c);
  return [...seen.values()];
}

/**
 * Recreates a symlink (copy-version copies "without following symlinks"), atomically; the temp
 * name is a tempPathFor one, so crash clean-up removes it if we die before the rename.
 */
async function copySymlink(from: string, dest: string): Promise<void> {
  const tmp = tempPathFor(dest);
  await mkdirPublic(path.dirname(dest));
  await fs.symlink(await fs.readlink(from), tmp);
  try {
    await fs.rename(tmp, dest);
  } catch (err) {
    await fs.rm(tmp, { force: true }).catch(() => {});
    throw err;
  }
  await fsyncDir(path.dirname(dest));
}

/**
 * Carries out a plan through `commitStreamUpdate`, which keeps the stream readable at every
 * instant: data files first (each verified, then renamed into place; ones already there are
 * verified, not rewritten), then products files, then the index, each atomically. Downloads
 * from an HTTP source and symlinks (copy-version) are placed beforehand the same way. A plan
 * that changes no metadata still rewrites a stale index, so rerunning an interrupted operation
 * completes it. The caller holds the stream lock (see `underTargetLock`).
 */
export async function executePlan(plan: StreamPlan, targetRoot: string, options: ExecuteOptions = {}): Promise<ExecuteResult> {
  const emit = options.onEvent ?? (() => {});
  const dryRun = Boolean(options.dryRun);
  // A dry run reports the plan up front; a real run reports it once it is committed.
  if (dryRun) for (const event of plan.events) emit({ ...event, dryRun: true });
  const result: ExecuteResult = { copied: 0, productsWritten: 0, indexWritten: false };
  const copies = dedupeCopies(plan.copies);
  const byPath = new Map(copies.map((c) => [c.to, c]));

  let commits = 0;
  const commit = (kind: 'data' | 'products' | 'index', rel: string): void => {
    commits += 1;
    options.onCommit?.(kind, rel, commits);
  };
  const fileCopied = (c: FileCopy, placedBy?: string): void => {
    result.copied += 1;
    emit({ type: 'file-copied', path: c.to, from: c.from, size: c.item.size, pedigree: c.pedigree, ...(placedBy ? { placedBy } : {}), ...(dryRun ? { dryRun } : {}) });
  };

  // Copies commitStreamUpdate cannot take as a local path: HTTP downloads and symlinks.
  const data: DataFileUpdate[] = [];
  const early: Array<() => Promise<void>> = [];
  const confine = new TargetConfinement(targetRoot);
  for (const c of copies) {
    const dest = await confine.resolve(c.to, 'target stream');
    if (c.withinTarget) {
      const from = resolveInside(targetRoot, c.from, 'target stream');
      const st = await lstatOrUndefined(from);
      if (st?.isSymbolicLink()) {
        if (!(await lstatOrUndefined(dest))) early.push(async () => (dryRun ? fileCopied(c) : (await copySymlink(from, dest), fileCopied(c, 'symlink'), commit('data', c.to))));
        continue;
      }
      data.push({ from, to: c.to, expected: c.item });
    } else if (!options.source) {
      throw new Error(`plan copies ${c.from} but no source stream was given`);
    } else if (isHttpUrl(options.source.root)) {
      const source = options.source;
      if (await lstatOrUndefined(dest)) data.push({ from: dest, to: c.to, expected: c.item });
      else
        early.push(async () => {
          if (dryRun) return fileCopied(c);
          fileCopied(c, await copyFileVerified(await source.openData(c.from), dest, c.item));
          commit('data', c.to);
        });
    } else {
      data.push({ from: resolveInside(options.source.root, c.from, 'source stream'), to: c.to, expected: c.item });
    }
  }
  // leftovers of a writer that died placing downloads or symlinks (commitStreamUpdate cleans the rest)
  if (!dryRun && early.length) await recoverInterruptedWrites([...new Set(copies.map((c) => path.dirname(resolveInside(targetRoot, c.to, 'target stream'))))]);
  const limit = pLimit(options.concurrency ?? 8);
  await Promise.all(early.map((job) => limit(async () => (options.signal?.throwIfAborted(), job()))));

  const products = plan.changes.filter((c) => c.doc !== null).map((c) => ({ path: c.path, doc: c.doc! }));
  const removeProducts = plan.changes.filter((c) => c.doc === null).map((c) => c.path);
  const index = await computeIndex(targetRoot, options.known ?? [], plan.changes);
  const writeIndex = products.length > 0 || removeProducts.length > 0 || (!dryRun && (await indexIsStale(targetRoot, index)));
  let dataDone = 0;
  const committed = await commitStreamUpdate(targetRoot, {
    data,
    products,
    removeProducts,
    index: writeIndex ? index : false,
    dryRun,
    ...(options.signer && !dryRun ? { signer: options.signer } : {}),
    concurrency: options.concurrency ?? 8,
    ...(options.lock ? { lock: { held: options.lock } } : {}),
    onEvent: (e) => {
      options.signal?.throwIfAborted();
      if (e.type === 'data-copied' || e.type === 'data-present') {
        dataDone += 1;
        emit({ type: 'progress', step: `${plan.operation}: data files`, done: dataDone, total: data.length, unit: 'files' });
      }
      if (e.type === 'data-copied') {
        fileCopied(byPath.get(e.path) as FileCopy, e.placedBy);
        if (!dryRun) commit('data', e.path);
      } else if (!dryRun && e.type === 'products-written') commit('products', e.path);
      else if (!dryRun && e.type === 'products-removed') commit('products', e.path);
      else if (!dryRun && e.type === 'index-written') commit('index', e.path);
    },
  });
  if (!dryRun) for (const event of plan.events) emit(event);
  result.productsWritten = committed.productsWritten.length + committed.productsRemoved.length;
  result.indexWritten = !dryRun && committed.index !== undefined;
  return result;
}

/**
 * Runs `work` under the target's write lock, except in a dry run (which must not even create a
 * lock file or the target directory). `create` makes a missing target directory (insert,
 * promote, merge and import start new streams); otherwise a missing target is an error.
 */
export async function underTargetLock<T>(targetRoot: string, options: { dryRun: boolean; wait?: boolean; create?: boolean }, work: (lock: StreamLockHold | undefined) => Promise<T>): Promise<T> {
  if (options.dryRun) return work(undefined);
  if (options.create) await mkdirPublic(targetRoot);
  return withStreamLock(targetRoot, work, { wait: Boolean(options.wait) });
}
