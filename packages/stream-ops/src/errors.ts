import { errorGuard, mephErrorBase } from '@meph/errors';

/** Base of every @meph/stream-ops error; `isStreamOpsError` is true for these and no other library's. */
export abstract class StreamOpsError extends mephErrorBase('@meph/stream-ops') {}
export const isStreamOpsError = errorGuard(StreamOpsError);

/** A stream-editing operation (insert, promote, patch, …) cannot proceed with its input. */
export class StreamOpError extends StreamOpsError {
  override readonly name = 'StreamOpError';
  constructor(readonly operation: string, detail: string, options?: { cause?: unknown; hint?: string }) {
    super(`${operation}: ${detail}`, options);
  }
}

/** A patch/diff YAML document is malformed or names something that does not exist. */
export class PatchFormatError extends StreamOpsError {
  override readonly name = 'PatchFormatError';
  constructor(readonly source: string, detail: string, hint?: string) {
    super(`${source}: ${detail}`, hint ? { hint } : undefined);
  }
}

/** The same (product, version) has different items on two sides (diff, merge, copy-version). */
export class VersionConflictError extends StreamOpsError {
  override readonly name = 'VersionConflictError';
  constructor(readonly productId: string, readonly version: string, detail: string, hint?: string) {
    super(`${productId} version ${version}: ${detail}`, hint ? { hint } : undefined);
  }
}
