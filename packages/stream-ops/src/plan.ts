import type { Item, ProductsDocument } from '@meph/simplestreams';

/** A change a plan makes, reported before (dry run) or after (real run) it is committed. */
export type PlanEvent =
  | { type: 'item-inserted'; content_id: string; product: string; version: string; item: string; path: string | undefined }
  | { type: 'import-skipped'; product: string; version?: string; reason: string }
  | { type: 'version-added'; content_id: string; product: string; version: string; from: string }
  | { type: 'version-removed'; content_id: string; product: string; version: string }
  | { type: 'version-copied'; content_id: string; product: string; from: string; to: string }
  | { type: 'product-added'; content_id: string; product: string; from: string; versions: number }
  | { type: 'product-removed'; content_id: string; product: string; reason: string }
  | { type: 'products-replaced'; content_id: string; path: string }
  | { type: 'metadata-changed'; content_id: string; product: string; key: string; value: unknown }
  | { type: 'stream-skipped'; stream: string; reason: string };

/** Every event an operation reports (rendered by the CLI; NDJSON with --json). */
export type OpsEvent =
  | PlanEvent
  | (PlanEvent & { dryRun: true })
  | { type: 'file-copied'; path: string; from: string; size: number | undefined; pedigree: string; placedBy?: string; dryRun?: boolean }
  | { type: 'progress'; step: string; done: number; total: number; unit: 'files' };

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
  events: PlanEvent[];
}

export function emptyPlan(operation: string): StreamPlan {
  return { operation, copies: [], changes: [], events: [] };
}
