/** Brand shared by every meph error: the CLI prints these as one line. */
export const MEPH_ERROR: unique symbol = Symbol.for('meph.error') as never;

export abstract class CloudimgSyncError extends Error {
  readonly [MEPH_ERROR] = true as const;
  abstract override readonly name: string;
  readonly hint?: string;
  constructor(message: string, options?: { cause?: unknown; hint?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    if (options?.hint) this.hint = options.hint;
  }
}

/** The cloud-image feed or one of its items is unusable. */
export class SyncSourceError extends CloudimgSyncError {
  override readonly name = 'SyncSourceError';
  constructor(readonly source: string, detail: string, hint?: string) {
    super(`${source}: ${detail}`, hint ? { hint } : undefined);
  }
}

/** Some versions failed to build (the others were written). */
export class SyncBuildFailedError extends CloudimgSyncError {
  override readonly name = 'SyncBuildFailedError';
  constructor(readonly failed: number, readonly built: number) {
    super(`${failed} version${failed === 1 ? '' : 's'} failed to build (${built} built and written)`, { hint: 'see the build-failed messages above; rerun to retry only the failed ones' });
  }
}
