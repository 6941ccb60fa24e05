import { errorGuard, mephErrorBase } from '@meph/errors';

/** Base of every @meph/publish error; `isPublishError` is true for these and no other library's. */
export abstract class PublishError extends mephErrorBase('@meph/publish') {}
export const isPublishError = errorGuard(PublishError);

/** A target that is not swift://, s3:// or file://, or one missing its container/bucket. */
export class TargetError extends PublishError {
  override readonly name = 'TargetError';
  constructor(readonly target: string, detail: string, hint?: string) {
    super(`${target}: ${detail}`, { exitCode: 2, hint: hint ?? 'give swift://CONTAINER[/PREFIX], s3://BUCKET[/PREFIX] or file://DIR' });
  }
}

/** No usable credentials for the store in the environment. */
export class CredentialsError extends PublishError {
  override readonly name = 'CredentialsError';
  constructor(detail: string, hint: string) {
    super(detail, { hint });
  }
}

/** The store answered something unexpected (HTTP status, network error). */
export class StoreError extends PublishError {
  override readonly name = 'StoreError';
  constructor(readonly where: string, detail: string, options?: { cause?: unknown; hint?: string }) {
    super(`${where}: ${detail}`, options);
  }
}

/** The local stream does not verify: nothing is published. */
export class StreamInvalidError extends PublishError {
  override readonly name = 'StreamInvalidError';
  constructor(readonly stream: string, readonly problems: readonly string[]) {
    super(`${stream} does not verify, nothing published: ${problems.slice(0, 3).join('; ')}${problems.length > 3 ? ` (and ${problems.length - 3} more)` : ''}`, {
      hint: `run meph2-util verify --data ${stream} for every finding`,
    });
  }
}

/** A data object already in the store holds other bytes: published files never change. */
export class ObjectConflictError extends PublishError {
  override readonly name = 'ObjectConflictError';
  constructor(readonly store: string, readonly key: string, detail: string) {
    super(`${store}: ${key} already exists with other content (${detail}); published data is never overwritten`, {
      hint: 'a published version must not change: give the rebuilt files a new version name, or remove the object by hand if it is garbage',
    });
  }
}

/** The store has versions the local stream lacks: publishing would drop them. */
export class StoreAheadError extends PublishError {
  override readonly name = 'StoreAheadError';
  constructor(readonly store: string, readonly missing: readonly string[], readonly readUrl: string | undefined) {
    super(
      `${store} has ${missing.length} version(s) your stream lacks (another publisher's?): ${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', …' : ''}; nothing of the metadata was changed`,
      {
        hint: `bring them in first (meph2-util insert ${readUrl ?? 'STORE_URL'} STREAM_DIR) and publish again, or give --replace to drop them from the store's metadata`,
      },
    );
  }
}

/** Another publisher holds the index lease for longer than we may wait. */
export class LeaseHeldError extends PublishError {
  override readonly name = 'LeaseHeldError';
  constructor(readonly store: string, readonly holder: string) {
    super(`${store} is being published by another writer (${holder}); gave up waiting for its lease`, {
      hint: 'wait for it to finish (or for its lease to expire) and run again, or raise --lease-wait',
    });
  }
}

/** Our lease was taken over (expired, or a race the store could not prevent) before the index was written. */
export class LeaseLostError extends PublishError {
  override readonly name = 'LeaseLostError';
  constructor(readonly store: string, detail: string) {
    super(`${store}: lost the publishing lease (${detail}); the index was not written`, { hint: 'run the publish again: data already uploaded is skipped' });
  }
}

/** After writing, the store does not hold what was written (a concurrent writer, or a lagging store). */
export class ReadBackError extends PublishError {
  override readonly name = 'ReadBackError';
  constructor(readonly store: string, detail: string) {
    super(`${store}: read-back after publishing failed: ${detail}`, { hint: 'run the publish again; if it keeps failing, check for another writer that ignores the lease' });
  }
}

/** Signed metadata must be re-signed but no key was given, or a signed store would get unsigned metadata. */
export class SigningNeededError extends PublishError {
  override readonly name = 'SigningNeededError';
  constructor(detail: string) {
    super(detail, { hint: 'sign the stream first (meph2-util sign) so every document has its .sjson' });
  }
}

/** A publish request that cannot be carried out as given (bad job count, not a stream, no keyring for a signed stream): exit status 2. */
export class PublishRequestError extends PublishError {
  override readonly name = 'PublishRequestError';
  constructor(detail: string, hint?: string) {
    super(detail, { exitCode: 2, ...(hint ? { hint } : {}) });
  }
}
