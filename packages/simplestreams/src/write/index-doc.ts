import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { INDEX_FORMAT, type IndexDocument, type IndexEntry, type ProductsDocument } from '../model.js';
import { assertSafeRelativePath } from '../paths.js';
import { parseJson } from '../read/index.js';
import { writeJsonAtomic } from './atomic.js';
import { formatUpdated } from './updated.js';

/** Where products files and the index live inside a mirror root. */
export const STREAMS_DIR = 'streams/v1';
export const INDEX_PATH = `${STREAMS_DIR}/index.json`;

export interface IndexSource {
  /** Path of the products file relative to the mirror root, e.g. `streams/v1/x.json`. */
  path: string;
  doc: ProductsDocument;
}

function isIndexable(doc: unknown): doc is ProductsDocument {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return false;
  const d = doc as Record<string, unknown>;
  return Boolean(d['format']) && d['format'] !== INDEX_FORMAT && Boolean(d['content_id']);
}

/**
 * Builds an `index:1.0` document as the original's `create_index` does (upstream §3.2): one
 * entry per content id with `datatype`, `updated` and `format` copied only when truthy, the
 * sorted product names and the `path`. Documents that are indexes or lack `format` or
 * `content_id` are skipped; when two share a content id the last one wins.
 */
export function buildIndex(entries: readonly IndexSource[], options: { updated?: string } = {}): IndexDocument {
  const index: Record<string, IndexEntry> = {};
  for (const { path: p, doc } of entries) {
    if (!isIndexable(doc)) continue;
    assertSafeRelativePath(p, `index entry for ${doc.content_id}`);
    const entry: IndexEntry = { path: p, products: Object.keys(doc.products ?? {}).sort() };
    if (doc.datatype) entry.datatype = doc.datatype;
    if (doc.updated) entry.updated = doc.updated;
    if (doc.format) entry.format = doc.format;
    index[doc.content_id] = entry;
  }
  return { format: INDEX_FORMAT, updated: options.updated ?? formatUpdated(), index };
}

/** Lists `streams/v1/*.json` of a mirror root (sorted by name), excluding the index itself. */
export async function listProductsFiles(rootDir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await fsp.readdir(path.join(rootDir, STREAMS_DIR));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return names
    .filter((n) => n.endsWith('.json') && !n.startsWith('.'))
    .sort()
    .map((n) => `${STREAMS_DIR}/${n}`);
}

export interface RegenerateIndexOptions {
  /** Compute and return the index without writing it. */
  dryRun?: boolean;
  /** Products files (relative paths) to leave out, e.g. ones about to be deleted. */
  exclude?: readonly string[];
  updated?: string;
}

/**
 * Rebuilds `streams/v1/index.json` from every `streams/v1/*.json` of `rootDir` (files that
 * are indexes or lack `format`/`content_id` are skipped) and writes it atomically.
 * An unparsable JSON file is an error: an index must never silently drop a stream.
 */
export async function regenerateIndex(rootDir: string, options: RegenerateIndexOptions = {}): Promise<IndexDocument> {
  const exclude = new Set(options.exclude ?? []);
  const sources: IndexSource[] = [];
  for (const rel of await listProductsFiles(rootDir)) {
    if (exclude.has(rel)) continue;
    const file = path.join(rootDir, rel);
    const doc = parseJson(await fsp.readFile(file, 'utf8'), file);
    if (isIndexable(doc)) sources.push({ path: rel, doc });
  }
  const index = buildIndex(sources, options.updated ? { updated: options.updated } : {});
  if (!options.dryRun) await writeJsonAtomic(path.join(rootDir, INDEX_PATH), index);
  return index;
}
