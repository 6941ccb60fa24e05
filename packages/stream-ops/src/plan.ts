import type { Item, ProductsDocument } from '@meph/simplestreams';

/** An event an operation reports (rendered by the CLI as NDJSON with --json). */
export interface OpsEvent {
  readonly type: string;
  readonly [field: string]: unknown;
}

export type OpsEventSink = (event: OpsEvent) => void;

/** One data file to bring into the target: `from` is relative to the source root, `to` to the target root. */
export interface FileCopy {
  from: string;
  to: string;
  /** Size and checksums the copy must match. */
  item: Item;
  /** `product/version/item` that needs it (first one, for messages). */
  pedigree: string;
  /** Copy inside the target itself (copy-version): symlinks are recreated, not followed. */
  withinTarget?: boolean;
}

/** The new content of one products file; `doc: null` removes the file. */
export interface ProductsChange {
  path: string;
  contentId: string;
  doc: ProductsDocument | null;
}

/**
 * What an operation will do, computed from documents only: data files to copy, products files
 * to rewrite, and the events describing the change. Executed by `executePlan`.
 */
export interface StreamPlan {
  operation: string;
  copies: FileCopy[];
  changes: ProductsChange[];
  events: OpsEvent[];
}

export function emptyPlan(operation: string): StreamPlan {
  return { operation, copies: [], changes: [], events: [] };
}
