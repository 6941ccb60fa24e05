import type { FlatItem, ProductsDocument } from '../model.js';
import { assertSafeRelativePath } from '../paths.js';
import type { LoadedStream } from '../read/load.js';
import type { Filter } from './filters.js';
import { iterateSelectedItems } from './select.js';

/** One answer of a query: the flat item (string values) plus `item_url` when it has a path. */
export type QueryRecord = FlatItem & { item_url?: string };

export interface QueryOptions {
  /** At most this many newest versions per product, counted after filtering. */
  max?: number;
}

/**
 * What `sstream-query` prints for one products document, record by record: selected items as flat records
 * with string values; `item_url` = `urlFor(path)` for items with a `path` (checked with
 * assertSafeRelativePath first).
 */
export function* queryProducts(doc: ProductsDocument, filters: readonly Filter[], options: QueryOptions & { urlFor?: (relPath: string) => string; source?: string } = {}): Generator<QueryRecord> {
  for (const s of iterateSelectedItems(doc, filters, { ...(options.max !== undefined ? { max: options.max } : {}), stringify: true })) {
    const rec = s.flat! as QueryRecord;
    const p = rec['path'];
    if (p !== undefined && p !== '' && options.urlFor) rec.item_url = options.urlFor(assertSafeRelativePath(p, options.source));
    yield rec;
  }
}

/**
 * queryProducts over every products file of a loaded stream, in index order, one record at
 * a time: output can be written while later records are still being built.
 */
export function* queryStream(stream: LoadedStream, filters: readonly Filter[], options: QueryOptions = {}): Generator<QueryRecord> {
  for (const file of stream.products) {
    yield* queryProducts(file.doc, filters, { ...options, urlFor: (rel) => stream.source.url(rel), source: stream.source.url(file.path) });
  }
}
