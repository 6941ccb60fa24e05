import { access } from 'node:fs/promises';
import path from 'node:path';
import type { SignaturePolicy, SignatureVerifier } from '@meph/simplestreams';
import { PublishRequestError } from './errors.js';
import { publishStream, type PublishOptions, type PublishResult } from './publish.js';
import { openTarget } from './target.js';

/** What one publish asks for, as a command line gives it: a stream directory and a target URL. */
export interface PublishRequest extends Omit<PublishOptions, 'store' | 'streamDir' | 'verifier'> {
  /** The local stream root as the user named it (errors quote it); resolved against `cwd`. */
  streamDir: string;
  /** swift://CONTAINER[/PREFIX], s3://BUCKET[/PREFIX], file://DIR or a directory. */
  target: string;
  /** Extra prefix joined after the one in the target URL. */
  prefix?: string;
  jobs: number;
  verifier?: SignatureVerifier;
  /** 'off' when signature checks were switched off on purpose; otherwise a signed stream needs `verifier`. */
  policy: SignaturePolicy;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export interface PublishRequestResult extends PublishResult {
  /** The store as people name it (e.g. `swift://images/stable`). */
  storeLabel: string;
}

/**
 * Checks what can be checked before anything is opened, in the order a user fixes them: the
 * job count, the stream directory, that a signed stream can be verified, that the target can
 * take `publicRead`. Each refusal is a {@link PublishRequestError} (exit status 2).
 */
export async function checkPublishRequest(request: PublishRequest): Promise<{ streamDir: string; signed: boolean }> {
  if (!Number.isInteger(request.jobs) || request.jobs < 1) throw new PublishRequestError(`--jobs must be a positive integer, not ${String(request.jobs)}`);
  const streamDir = path.resolve(request.cwd ?? process.cwd(), request.streamDir);
  try {
    await access(path.join(streamDir, 'streams/v1'));
  } catch {
    throw new PublishRequestError(`${request.streamDir}: not a stream directory (no streams/v1 in it)`, 'give the root of a local stream, the directory holding streams/v1/index.json');
  }
  const signed = await access(path.join(streamDir, 'streams/v1/index.sjson')).then(
    () => true,
    () => false,
  );
  if (signed && request.policy !== 'off' && !request.verifier)
    throw new PublishRequestError(
      `${request.streamDir} is signed and there is no keyring to check it with`,
      'give --keyring FILE (or set MEPH_KEYRING), or --no-verify to publish without checking signatures',
    );
  if (request.publicRead && !request.target.startsWith('swift://'))
    throw new PublishRequestError('--public-read only applies to swift:// targets', "for S3 set the bucket policy; for a directory, the web server's configuration");
  return { streamDir, signed };
}

/**
 * Publishes a local stream to the store a target URL names: checks the request
 * ({@link checkPublishRequest}), opens the store, runs {@link publishStream}, closes the store.
 */
export async function publishToTarget(request: PublishRequest): Promise<PublishRequestResult> {
  const { streamDir } = await checkPublishRequest(request);
  const { target, prefix, policy, env, cwd, ...options } = request;
  void policy; // checked above; publishStream verifies whenever it has a verifier
  const store = openTarget(target, { ...(prefix ? { prefix } : {}), ...(env ? { env } : {}), ...(cwd ? { cwd } : {}), concurrency: request.jobs });
  try {
    const result = await publishStream({ ...options, store, streamDir });
    return { ...result, storeLabel: store.label };
  } finally {
    await store.close();
  }
}

/**
 * The Swift container an ss-swift style call names (`ss-swift PATH CONTAINER`) as a target URL;
 * a container with a `/` or scheme is refused (the prefix goes in `--prefix`).
 */
export function swiftContainerTarget(container: string): string {
  if (container.includes('/') || container.includes(':'))
    throw new PublishRequestError(`${container}: a container name has no / or scheme`, 'give the prefix with --prefix, or use meph2-util publish with a URL');
  return `swift://${container}`;
}
