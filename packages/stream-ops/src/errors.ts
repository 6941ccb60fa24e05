import { SimplestreamsError } from '@meph/simplestreams';

/** A stream-editing operation (insert, promote, patch, …) cannot proceed with its input. */
export class StreamOpError extends SimplestreamsError {
  override readonly name = 'StreamOpError';
  constructor(readonly operation: string, detail: string, options?: { cause?: unknown; hint?: string }) {
    super(`${operation}: ${detail}`, options);
  }
}

/** A patch/diff YAML document is malformed or names something that does not exist. */
export class PatchFormatError extends SimplestreamsError {
  override readonly name = 'PatchFormatError';
  constructor(readonly source: string, detail: string, hint?: string) {
    super(`${source}: ${detail}`, hint ? { hint } : undefined);
  }
}

/** The same (product, version) has different items on two sides (diff, merge, copy-version). */
export class VersionConflictError extends SimplestreamsError {
  override readonly name = 'VersionConflictError';
  constructor(readonly productId: string, readonly version: string, detail: string, hint?: string) {
    super(`${productId} version ${version}: ${detail}`, hint ? { hint } : undefined);
  }
}
