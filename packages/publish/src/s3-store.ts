import { createHash } from 'node:crypto';
import {
  S3Client,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { isHttpTransportError, type HttpClient } from '@meph/http';
import { StoreError, TargetError } from './errors.js';
import { FileBody, MephS3Handler } from './s3-transport.js';
import { storeHttpClient } from './store-http.js';
import { joinKey, type ObjectStore, type PutBody, type StoredObject } from './store.js';

interface AwsError {
  name?: string;
  Code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

const statusOf = (err: unknown): number | undefined => (err as AwsError)?.$metadata?.httpStatusCode;

/** The S3 endpoint from the standard variables; set means an on-premises store (path-style addressing). */
export function s3EndpointFromEnv(env: NodeJS.ProcessEnv): string | undefined {
  return env['AWS_ENDPOINT_URL_S3'] || env['AWS_ENDPOINT_URL'] || undefined;
}

/**
 * S3 through AWS SDK v3. Credentials come from the SDK's standard chain (AWS_ACCESS_KEY_ID…,
 * profiles, instance roles). With an explicit endpoint (AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL)
 * addressing is path-style, as on-premises stores (Ceph RGW, Swift s3api, MinIO) want it.
 * Checksums are only computed where S3 requires them, and DeleteObjects carries a Content-MD5
 * (the Swift s3api middleware rejects the SDK's CRC32 in its place). Requests go through
 * @meph/http (see s3-transport.ts): proxy variables, per-host limits, timeouts and its retries.
 */
export class S3Store implements ObjectStore {
  readonly label: string;
  readonly client: S3Client;
  readonly endpoint: string | undefined;
  /** Conditional PUT (If-None-Match: *): AWS honours it, Swift's s3api answers 501; then checked, not atomic. */
  private conditional = true;

  private readonly http: HttpClient;

  constructor(
    readonly bucket: string,
    readonly prefix: string,
    env: NodeJS.ProcessEnv,
    options: { concurrency?: number; http?: HttpClient } = {},
  ) {
    if (!bucket || bucket.includes('/')) throw new TargetError(`s3://${bucket}`, 'needs a bucket name');
    this.label = `s3://${bucket}${prefix ? `/${prefix}` : ''}`;
    this.endpoint = s3EndpointFromEnv(env);
    const pathStyle = env['AWS_S3_FORCE_PATH_STYLE'] !== undefined ? env['AWS_S3_FORCE_PATH_STYLE'] !== 'false' : this.endpoint !== undefined;
    this.http = options.http ?? storeHttpClient(env, options.concurrency);
    const config: S3ClientConfig = {
      requestHandler: new MephS3Handler(this.http),
      // The transport retries (with MEPH_HTTP_* settings, re-opening file bodies per attempt); a
      // second layer of SDK retries would multiply attempts and cannot replay a stream body.
      maxAttempts: 1,
      region: env['AWS_REGION'] || env['AWS_DEFAULT_REGION'] || 'us-east-1',
      forcePathStyle: pathStyle,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      // Failures reach the user as one StoreError line; the SDK's own console logging would only repeat them.
      logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {} },
      responseChecksumValidation: 'WHEN_REQUIRED',
      ...(this.endpoint ? { endpoint: this.endpoint } : {}),
      // Keys in the environment given (the process's when run from the CLI); otherwise the SDK's own chain.
      ...(env['AWS_ACCESS_KEY_ID'] && env['AWS_SECRET_ACCESS_KEY']
        ? { credentials: { accessKeyId: env['AWS_ACCESS_KEY_ID'], secretAccessKey: env['AWS_SECRET_ACCESS_KEY'], ...(env['AWS_SESSION_TOKEN'] ? { sessionToken: env['AWS_SESSION_TOKEN'] } : {}) } }
        : {}),
    };
    // The pinned SDK supports Node 20; its warning is about later SDK releases and would only confuse users.
    process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
    this.client = new S3Client(config);
    type Args = { request: unknown };
    const contentMd5 = (next: (a: Args) => Promise<unknown>, context: { commandName?: string }) => async (args: Args) => {
      const req = args.request as { headers?: Record<string, string>; body?: unknown };
      if (context.commandName === 'DeleteObjectsCommand' && req.headers && (typeof req.body === 'string' || req.body instanceof Uint8Array)) {
        for (const h of Object.keys(req.headers)) if (h.toLowerCase().startsWith('x-amz-checksum-') || h.toLowerCase() === 'x-amz-sdk-checksum-algorithm') delete req.headers[h];
        req.headers['content-md5'] = createHash('md5').update(req.body).digest('base64');
      }
      return next(args);
    };
    this.client.middlewareStack.addRelativeTo(contentMd5 as never, { relation: 'before', toMiddleware: 'httpSigningMiddleware', name: 'mephContentMd5' });
  }

  get atomicCreate(): boolean {
    return this.conditional;
  }

  get readUrl(): string | undefined {
    if (!this.endpoint) return undefined;
    const p = this.prefix.replace(/^\/+|\/+$/g, '');
    return `${this.endpoint.replace(/\/+$/, '')}/${this.bucket}/${p ? `${p}/` : ''}`;
  }

  private key(key: string): string {
    return joinKey(this.prefix, key);
  }

  private fail(what: string, key: string | undefined, err: unknown): never {
    if (isHttpTransportError(err)) throw new StoreError(key === undefined ? this.label : `${this.label}: ${key}`, `${what}: ${err.message}`, { cause: err, ...(err.hint ? { hint: err.hint } : {}) });
    const e = err as AwsError;
    const status = statusOf(err);
    const code = e?.Code ?? e?.name ?? 'error';
    const hint = status === 403 ? 'check the AWS credentials (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or profile) and the bucket policy' : undefined;
    throw new StoreError(key === undefined ? this.label : `${this.label}: ${key}`, `${what}: ${code}${status ? ` (HTTP ${status})` : ''}${e?.message && e.message !== code ? `: ${e.message}` : ''}`, {
      cause: err,
      ...(hint ? { hint } : {}),
    });
  }

  async open(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (err) {
      if (statusOf(err) === 404) throw new TargetError(this.label, 'no such bucket', 'create the bucket first (publish creates Swift containers, not S3 buckets)');
      this.fail('HeadBucket', undefined, err);
    }
  }

  async list(prefix = ''): Promise<StoredObject[]> {
    const out: StoredObject[] = [];
    const trimmed = this.prefix.replace(/^\/+|\/+$/g, '');
    const strip = trimmed ? trimmed.length + 1 : 0;
    let token: string | undefined;
    do {
      let page;
      try {
        page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: trimmed ? `${trimmed}/${prefix}` : prefix, ...(token ? { ContinuationToken: token } : {}) }));
      } catch (err) {
        this.fail('ListObjectsV2', undefined, err);
      }
      for (const o of page.Contents ?? []) {
        const etag = (o.ETag ?? '').replace(/"/g, '');
        out.push({ key: o.Key!.slice(strip), size: Number(o.Size ?? 0), ...(/^[0-9a-f]{32}$/.test(etag) ? { md5: etag } : {}), lastModified: o.LastModified ?? new Date(0) });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  async head(key: string): Promise<StoredObject | undefined> {
    try {
      const h = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.key(key) }));
      const etag = (h.ETag ?? '').replace(/"/g, '');
      return { key, size: Number(h.ContentLength ?? 0), ...(/^[0-9a-f]{32}$/.test(etag) ? { md5: etag } : {}), lastModified: h.LastModified ?? new Date(0) };
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      this.fail('HeadObject', key, err);
    }
  }

  async get(key: string): Promise<Buffer | undefined> {
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key(key) }));
      return Buffer.from(await r.Body!.transformToByteArray());
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      this.fail('GetObject', key, err);
    }
  }

  private putInput(key: string, body: PutBody, ifNoneMatch: boolean): PutObjectCommand {
    return new PutObjectCommand({
      Bucket: this.bucket,
      Key: this.key(key),
      Body: body.bytes ?? new FileBody(body.file!, body.size),
      ContentLength: body.size,
      ContentMD5: Buffer.from(body.md5, 'hex').toString('base64'),
      ContentType: body.contentType ?? 'application/octet-stream',
      ...(ifNoneMatch ? { IfNoneMatch: '*' } : {}),
    });
  }

  /** Whether the store takes conditional PUTs is learnt once, by the first putNew; the others wait for it. */
  private probing: Promise<unknown> | undefined;
  private probed = false;

  async putNew(key: string, body: PutBody, options: { listedAbsent?: boolean } = {}): Promise<'created' | 'exists'> {
    if (!this.probed) {
      if (this.probing) await this.probing.catch(() => {});
      else {
        const first = this.putNewOnce(key, body, options);
        this.probing = first;
        try {
          return await first;
        } finally {
          this.probed = true;
        }
      }
    }
    return this.putNewOnce(key, body, options);
  }

  private async putNewOnce(key: string, body: PutBody, options: { listedAbsent?: boolean }): Promise<'created' | 'exists'> {
    if (this.conditional) {
      try {
        await this.client.send(this.putInput(key, body, true));
        return 'created';
      } catch (err) {
        const status = statusOf(err);
        if (status === 412 || status === 409) return 'exists';
        if (status !== 501) this.fail('PutObject', key, err);
        this.conditional = false; // s3api: "NotImplemented" for conditional PUTs
      }
    }
    // Without conditional PUTs create-only is a check, not a guarantee: a listing taken moments ago
    // (the publisher's) or a HEAD now; the publisher compares every ETag again after publishing.
    if (!options.listedAbsent && (await this.head(key))) return 'exists';
    await this.put(key, body);
    return 'created';
  }

  async put(key: string, body: PutBody): Promise<void> {
    try {
      await this.client.send(this.putInput(key, body, false));
    } catch (err) {
      this.fail('PutObject', key, err);
    }
  }

  async delete(key: string): Promise<boolean> {
    return (await this.deleteMany([key])) > 0;
  }

  /** DeleteObjects in batches of 1000; returns how many keys the store reported deleted. */
  async deleteMany(keys: readonly string[]): Promise<number> {
    let n = 0;
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000);
      try {
        const r = await this.client.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch.map((k) => ({ Key: this.key(k) })), Quiet: false } }));
        if (r.Errors?.length) throw new StoreError(this.label, `DeleteObjects: ${r.Errors.map((e) => `${e.Key}: ${e.Code}`).join(', ')}`);
        n += r.Deleted?.length ?? 0;
      } catch (err) {
        if (err instanceof StoreError) throw err;
        this.fail('DeleteObjects', undefined, err);
      }
    }
    return n;
  }

  async close(): Promise<void> {
    this.client.destroy();
    this.http.close();
  }
}
