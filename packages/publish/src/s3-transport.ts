import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import type { HttpClient, RequestBody } from '@meph/http';

/**
 * The AWS SDK's request handler contract (`@smithy/types` RequestHandler plus the two config
 * hooks of `HttpHandler`), written out so that this package depends on the SDK's client only.
 */
export interface SdkHttpRequest {
  method: string;
  protocol: string;
  hostname: string;
  port?: number;
  path: string;
  query?: Record<string, string | null | Array<string | null>>;
  headers: Record<string, string>;
  username?: string;
  password?: string;
  fragment?: string;
  body?: unknown;
}

export interface SdkHttpResponse {
  statusCode: number;
  reason?: string;
  headers: Record<string, string>;
  body: Readable;
}

/**
 * A request body the transport can send again: the SDK hands a handler one stream, which a
 * retry could not replay; the handler gives the transport the file instead, which reads it afresh
 * for every attempt (whole, with the headers, when small). Read as a stream only if the SDK does.
 */
export class FileBody extends Readable {
  private inner: Readable | undefined;

  constructor(
    readonly file: string,
    readonly size?: number,
  ) {
    super();
  }

  /** A new stream of the whole file. */
  reopen(): Readable {
    return createReadStream(this.file);
  }

  override _read(): void {
    if (!this.inner) {
      this.inner = this.reopen();
      this.inner.on('data', (c: Buffer) => {
        if (!this.push(c)) this.inner!.pause();
      });
      this.inner.on('end', () => this.push(null));
      this.inner.on('error', (err) => this.destroy(err));
    } else this.inner.resume();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.inner?.destroy();
    cb(err);
  }
}

/** RFC 3986 escaping as the SDK's signer uses it (so the query sent is the query signed). */
const escape = (s: string): string => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

function queryString(query: SdkHttpRequest['query']): string {
  const parts: string[] = [];
  for (const key of Object.keys(query ?? {}).sort()) {
    const value = query![key];
    if (Array.isArray(value)) for (const v of value) parts.push(`${escape(key)}=${escape(v ?? '')}`);
    else parts.push(value === null || value === undefined ? escape(key) : `${escape(key)}=${escape(value)}`);
  }
  return parts.join('&');
}

/** A `.` or `..` path segment (also percent-encoded), which URL parsing would resolve away. */
const DOT_SEGMENT = /(^|\/)(\.|%2e){1,2}(\/|$)/i;

function requestUrl(r: SdkHttpRequest): string {
  // The transport parses the URL, which would send `a/../b` to `b`: refuse rather than write elsewhere.
  if (DOT_SEGMENT.test(r.path)) throw new TypeError(`S3 object path ${r.path} has a . or .. segment`);
  const host = r.hostname.includes(':') && !r.hostname.startsWith('[') ? `[${r.hostname}]` : r.hostname;
  const auth = r.username !== undefined || r.password !== undefined ? `${encodeURIComponent(r.username ?? '')}:${encodeURIComponent(r.password ?? '')}@` : '';
  const qs = queryString(r.query);
  return `${r.protocol.replace(/:?$/, ':')}//${auth}${host}${r.port ? `:${r.port}` : ''}${r.path}${qs ? `?${qs}` : ''}`;
}

/** What @meph/http sends: bytes as they are, a FileBody's file (read per attempt), any other stream (once). */
function bodyOf(body: unknown): RequestBody | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return Buffer.from(body);
  if (Buffer.isBuffer(body)) return body;
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (body instanceof FileBody) return { file: body.file, ...(body.size !== undefined ? { size: body.size } : {}) };
  if (body instanceof Readable) return () => body;
  throw new TypeError(`S3 request body of unsupported type ${Object.prototype.toString.call(body)}`);
}

/**
 * The S3 client's `requestHandler` on @meph/http: every S3 request goes through the project's one
 * transport, so http_proxy/https_proxy/no_proxy (absolute-form for http://, CONNECT for https://),
 * per-host limits, timeouts and retries apply as to every other fetch. The transport retries
 * (idempotent methods and DeleteObjects) on dropped connections, timeouts and 408/429/5xx; the
 * client is built with `maxAttempts: 1` so the SDK does not retry the same request again.
 *
 * Response bodies arrive whole (bounded by the client's document limit) and are handed to the
 * SDK as a stream: S3Store reads only metadata documents through GetObject, and a body cut off
 * mid-way is then retried by the transport instead of failing in the SDK's parser.
 */
export class MephS3Handler {
  readonly metadata = { handlerProtocol: 'http/1.1' };

  constructor(private readonly http: HttpClient) {}

  async handle(request: SdkHttpRequest, options: { abortSignal?: AbortSignal | { aborted: boolean } } = {}): Promise<{ response: SdkHttpResponse }> {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(request.headers)) if (k.toLowerCase() !== 'expect') headers[k] = v;
    const body = bodyOf(request.body);
    const method = request.method.toUpperCase();
    // DeleteObjects (POST ?delete) removes the same keys however often it is sent; a one-time
    // stream cannot be sent twice, so such a request gets one attempt.
    const replayable = !(request.body instanceof Readable) || request.body instanceof FileBody;
    const idempotent = replayable && (method !== 'POST' || (request.query !== undefined && 'delete' in request.query));
    const signal = options.abortSignal instanceof AbortSignal ? options.abortSignal : undefined;
    const reply = await this.http.send(requestUrl(request), {
      method,
      headers,
      idempotent,
      ...(body !== undefined ? { body } : {}),
      ...(signal ? { signal } : {}),
    });
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(reply.headers)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(',') : String(v);
    return { response: { statusCode: reply.status, reason: reply.statusText, headers: out, body: Readable.from(reply.body.length ? [reply.body] : [], { objectMode: false }) } };
  }

  updateHttpClientConfig(): void {}

  httpHandlerConfigs(): Record<string, never> {
    return {};
  }

  /** The HttpClient is the store's; it closes it. */
  destroy(): void {}
}
