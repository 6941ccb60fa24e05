import { lstatSync, promises as fsp, readdirSync } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import pLimit from 'p-limit';
import { FormatError, MissingFileError } from '../errors.js';
import { INDEX_FORMAT, PRODUCTS_FORMAT, type IndexDocument, type Item, type ProductsDocument } from '../model.js';
import { resolveInside } from '../paths.js';
import { fsyncDir, JOURNAL_SUFFIX, mkdirPublic, pidAlive, prepareFiles, rollForwardJournals, tempWriterPid, type FileReplacement, type PreparedFiles } from './atomic.js';
import { copyFileVerified, verifyFile, type PlacedBy } from './checksum.js';
import { TargetConfinement } from './confine.js';
import { buildIndex, INDEX_PATH, listProductsFiles, STREAMS_DIR } from './index-doc.js';
import { serializeJsonChunks } from './serialize.js';
import { parseJson } from '../read/index.js';
import { withStreamLock, type StreamLockOptions } from './lock.js';

/** A data file to place in the stream before any metadata refers to it. */
export interface DataFileUpdate {
  /** Source: a local file path or a stream (e.g. an HTTP body). */
  from: string | Readable;
  /** Destination relative to the stream root (the item's `path`). */
  to: string;
  /** The item it belongs to: its `size` and checksums are verified before the rename. */
  expected: Item;
}

/**
 * Makes the signed twins of one metadata document, so they are committed together with it.
 * `rel` is the document's path (`streams/v1/x.json`), `text` its exact content.
 */
export interface DocumentSigner {
  signDocument(rel: string, text: string): Promise<{ clearsigned: string; detached: string | Uint8Array }>;
}

export interface StreamUpdate {
  data?: readonly DataFileUpdate[];
  /** Products files to (re)write; `path` relative to the root, e.g. `streams/v1/x.json`. */
  products: ReadonlyArray<{ path: string; doc: ProductsDocument }>;
  /** Products files to delete (relative paths); their `.sjson`/`.json.gpg` twins go too. */
  removeProducts?: readonly string[];
  /**
   * `'regenerate'`: rebuild `streams/v1/index.json` from the products files on disk (minus
   * `removeProducts`); an IndexDocument: write that; `false`: leave the index alone.
   */
  index: 'regenerate' | IndexDocument | false;
  /** Report the plan and change nothing. */
  dryRun?: boolean;
  /** Progress and per-file events (`data-copied`, `data-present`, `products-written`, …). */
  onEvent?: (event: CommitEvent) => void;
  /** Parallel data copies (default 4). */
  concurrency?: number;
  /** Passed to withStreamLock (e.g. `{ wait: true }`). */
  lock?: StreamLockOptions;
  /**
   * Sign every products file and the index written: each document's `.sjson` and `.json.gpg`
   * are made before anything is renamed and land together with it.
   */
  signer?: DocumentSigner;
}

export type CommitEvent =
  | { type: 'data-copied'; path: string; size: number | undefined; dryRun: boolean; placedBy?: PlacedBy }
  | { type: 'data-present'; path: string }
  | { type: 'products-written'; path: string; dryRun: boolean }
  | { type: 'index-written'; path: string; dryRun: boolean }
  | { type: 'products-removed'; path: string; dryRun: boolean };

export interface CommitResult {
  /** Data files copied (relative paths); files already present and verified are in `present`. */
  copied: string[];
  present: string[];
  productsWritten: string[];
  productsRemoved: string[];
  /** The index written (or that would be written), if any. */
  index?: IndexDocument;
  dryRun: boolean;
}

/**
 * Synchronous: called once per data file, where a thread-pool round trip costs more than the
 * lstat. A missing file is the common case (new data): answered without throwing an error.
 */
function exists(file: string): boolean {
  return lstatSync(file, { throwIfNoEntry: false }) !== undefined;
}

/** Callers from plain JavaScript or parsed input may pass anything: check the shape at run time. */
function checkProductsDoc(doc: { format?: unknown; content_id?: unknown } | undefined, rel: string): void {
  if (doc?.format !== PRODUCTS_FORMAT) throw new FormatError(rel, `refusing to write a products file whose format is ${JSON.stringify(doc?.format)} (expected ${PRODUCTS_FORMAT})`);
  if (typeof doc.content_id !== 'string' || doc.content_id === '') throw new FormatError(rel, 'refusing to write a products file without a content_id');
}

/**
 * Applies one update to a stream directory in the order that keeps it readable at every
 * instant, under the stream's writer lock:
 *
 * 1. data files: each placed in a temp file (hard link, reflink or copy), verified (size +
 *    every checksum of its item) and renamed into place; every directory that received one is
 *    fsynced once, after its last file and before step 2. A destination that already exists is
 *    verified instead of rewritten (published content never changes; a mismatch is an error,
 *    not an overwrite), so re-running an interrupted update is safe and cheap;
 * 2. every products file and the index (original dump format) — with `signer`, each with its
 *    `.sjson` and `.json.gpg` — written to fsynced temp files first: a failure here (signing,
 *    ENOSPC) leaves every metadata file as it was;
 * 3. then renamed into place, products files first and the index last, each document together
 *    with its signatures under a journal that the next writer rolls forward after a crash;
 * 4. only then removed products files (and their signed twins), which the new index no
 *    longer lists.
 *
 * A crash (even SIGKILL) at any point leaves either the old or the new stream visible to
 * readers: new data is unreferenced until the metadata naming it is renamed into place, and
 * the old index keeps pointing at files that still exist. No file is written through a
 * symlink that leads out of the target (see TargetConfinement). Callers that read, modify and
 * write a stream should hold {@link withStreamLock} around the whole sequence (the lock is
 * re-entrant, so this function's own locking nests inside it).
 *
 * With `dryRun` nothing is touched: the result and events describe what would happen.
 */
export async function commitStreamUpdate(rootDir: string, update: StreamUpdate): Promise<CommitResult> {
  const dryRun = Boolean(update.dryRun);
  const emit = update.onEvent ?? (() => {});
  // validate every path before touching anything
  const data = (update.data ?? []).map((d) => ({ ...d, abs: resolveInside(rootDir, d.to, 'data file') }));
  const products = update.products.map((p) => {
    checkProductsDoc(p.doc, p.path);
    return { ...p, abs: resolveInside(rootDir, p.path, 'products file') };
  });
  const removals = (update.removeProducts ?? []).map((rel) => ({ rel, abs: resolveInside(rootDir, rel, 'products file') }));
  const written = new Set(products.map((p) => p.path));
  for (const r of removals) if (written.has(r.rel)) throw new FormatError(r.rel, 'is both written and removed in one update');
  if (typeof update.index === 'object' && update.index.format !== INDEX_FORMAT) throw new FormatError(INDEX_PATH, `refusing to write an index whose format is ${JSON.stringify(update.index.format)}`);

  const result: CommitResult = { copied: [], present: [], productsWritten: [], productsRemoved: [], dryRun };

  const run = async (): Promise<CommitResult> => {
    const confine = new TargetConfinement(rootDir);
    for (const d of data) await confine.check(d.abs, d.to);
    for (const p of products) await confine.check(p.abs, p.path);
    for (const r of removals) await confine.check(r.abs, r.rel);
    await confine.check(path.join(rootDir, INDEX_PATH), INDEX_PATH);
    if (!dryRun) await recoverInterruptedWrites([path.join(rootDir, STREAMS_DIR), ...new Set(data.map((d) => path.dirname(d.abs)))]);
    // 1. data
    const limit = pLimit(Math.max(1, update.concurrency ?? 4));
    let failure: { error: unknown } | undefined;
    // directories that received a file: each fsynced once, before any metadata names the files
    const dataDirs = new Set<string>();
    await Promise.allSettled(
      data.map((d) =>
        limit(async () => {
          if (failure) return;
          if (exists(d.abs)) {
            await verifyFile(d.abs, d.expected);
            result.present.push(d.to);
            emit({ type: 'data-present', path: d.to });
            return;
          }
          let placedBy: PlacedBy | undefined;
          if (dryRun) {
            if (typeof d.from === 'string' && !exists(d.from)) throw new MissingFileError(d.from, d.to);
          } else {
            placedBy = await copyFileVerified(d.from, d.abs, d.expected, { syncDir: false });
            dataDirs.add(path.dirname(d.abs));
          }
          result.copied.push(d.to);
          emit({ type: 'data-copied', path: d.to, size: typeof d.expected.size === 'number' ? d.expected.size : undefined, dryRun, ...(placedBy ? { placedBy } : {}) });
        }).catch((error: unknown) => {
          // queued copies see `failure` and skip; running ones finish (or fail) before we return
          failure ??= { error };
        }),
      ),
    );
    // The data directories are fsynced while the metadata is prepared (temp files nobody sees):
    // they are durable before the first rename makes a document name their files.
    // (settled at once: a rejection is not left unhandled while the metadata is written)
    const dataDurable = Promise.all([...dataDirs].map((dir) => fsyncDir(dir))).then(
      () => undefined,
      (error: unknown) => ({ error }),
    );
    if (failure) {
      await dataDurable;
      throw failure.error;
    }
    // 2. metadata, prepared (and signed) in full before anything becomes visible
    let prepared: PreparedFiles | undefined;
    const docs: Array<{ rel: string; abs: string; value: unknown; kind: 'products' | 'index' }> = products.map((p) => ({ rel: p.path, abs: p.abs, value: p.doc, kind: 'products' as const }));
    try {
      const index =
        update.index === 'regenerate' ? await regenerateFromDisk(rootDir, products, removals.map((r) => r.rel)) : update.index ? update.index : undefined;
      if (index) {
        docs.push({ rel: INDEX_PATH, abs: path.join(rootDir, INDEX_PATH), value: index, kind: 'index' });
        result.index = index;
      }
      // Each document is serialised when its turn comes and written in pieces: one text at a time in memory.
      if (!dryRun) prepared = await prepareFiles(docs.map((doc) => () => documentFiles(doc.rel, doc.abs, serializeJsonChunks(doc.value), update.signer)));
    } catch (err) {
      await dataDurable;
      throw err;
    }
    const notDurable = await dataDurable;
    if (notDurable) {
      await prepared?.discard();
      throw notDurable.error;
    }
    if (prepared) {
      // 3. products files first, the index last
      await prepared.commit((i) => {
        const doc = docs[i]!;
        if (doc.kind === 'products') {
          result.productsWritten.push(doc.rel);
          emit({ type: 'products-written', path: doc.rel, dryRun });
        }
      });
    } else {
      for (const p of products) {
        result.productsWritten.push(p.path);
        emit({ type: 'products-written', path: p.path, dryRun });
      }
    }
    if (result.index) emit({ type: 'index-written', path: INDEX_PATH, dryRun });
    // 4. removals, now that nothing lists them
    const dirs = new Set<string>();
    for (const r of removals) {
      if (!(exists(r.abs))) continue;
      if (!dryRun) {
        for (const twin of signedTwins(r.abs)) await fsp.rm(twin, { force: true });
        dirs.add(path.dirname(r.abs));
      }
      result.productsRemoved.push(r.rel);
      emit({ type: 'products-removed', path: r.rel, dryRun });
    }
    for (const dir of dirs) await fsyncDir(dir);
    return result;
  };

  if (dryRun) return await run();
  await mkdirPublic(rootDir);
  return await withStreamLock(rootDir, run, update.lock);
}

/** A document's files: itself and, with a signer, its `.json.gpg` and `.sjson` (renamed before it). */
async function documentFiles(rel: string, abs: string, chunks: Iterable<string>, signer: DocumentSigner | undefined): Promise<FileReplacement[]> {
  if (!signer) return [{ path: abs, data: chunks }];
  const text = [...chunks].join('');
  const { clearsigned, detached } = await signer.signDocument(rel, text);
  const [, sjson, gpg] = signedTwins(abs);
  return [
    { path: gpg!, data: detached },
    { path: sjson!, data: clearsigned },
    { path: abs, data: text },
  ];
}

/**
 * Before a writer changes anything: finishes metadata commits a dead writer left half-renamed
 * (their journals, which may name temps in subdirectories: all of them first), then removes its
 * leftover temp files. Each directory is listed once; a journal, which is rare, is rolled
 * forward from a fresh listing.
 */
export async function recoverInterruptedWrites(dirs: readonly string[]): Promise<void> {
  const listings: Array<[dir: string, names: string[]]> = [];
  for (const dir of dirs) {
    try {
      listings.push([dir, readdirSync(dir)]);
    } catch {
      // a directory that is not there yet holds nothing to recover
    }
  }
  for (const [dir, names] of listings) if (names.some((name) => name.endsWith(JOURNAL_SUFFIX))) await rollForwardJournals(dir);
  for (const [dir, names] of listings) await removeStaleTemps(dir, names);
}

/**
 * Removes temp files left in `dir` by writers that died (SIGKILL, power loss). Only files
 * named by tempPathFor whose writer pid is gone are touched.
 */
async function removeStaleTemps(dir: string, names: readonly string[]): Promise<void> {
  for (const name of names) {
    const pid = tempWriterPid(name);
    if (pid !== undefined && pid !== process.pid && !pidAlive(pid)) await fsp.rm(path.join(dir, name), { force: true });
  }
}

/** `x.json` → [`x.json`, `x.sjson`, `x.json.gpg`]. */
function signedTwins(file: string): string[] {
  return file.endsWith('.json') ? [file, `${file.slice(0, -'.json'.length)}.sjson`, `${file}.gpg`] : [file];
}

/** The index regenerateIndex would build once `products` are written (and `removed` gone). */
async function regenerateFromDisk(rootDir: string, products: ReadonlyArray<{ path: string; doc: ProductsDocument }>, removed: readonly string[]): Promise<IndexDocument> {
  const pending = new Map(products.map((p) => [p.path, p.doc]));
  const sources: Array<{ path: string; doc: ProductsDocument }> = [];
  const onDisk = await listProductsFiles(rootDir);
  for (const rel of new Set([...onDisk, ...pending.keys()])) {
    // regenerateIndex only sees streams/v1/*.json
    if (removed.includes(rel) || path.posix.dirname(rel) !== STREAMS_DIR || !rel.endsWith('.json')) continue;
    const doc = pending.get(rel) ?? (parseJson(await fsp.readFile(path.join(rootDir, rel), 'utf8'), path.join(rootDir, rel)) as ProductsDocument);
    sources.push({ path: rel, doc });
  }
  sources.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return buildIndex(sources);
}
