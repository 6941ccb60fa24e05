import type http from 'node:http';
import { PassThrough, type Readable } from 'node:stream';
import type tls from 'node:tls';
import { guardBody } from './body.js';
import { Digester, type ChecksumAlgorithm, type FileDigest } from './digest.js';
import { downloadFile, type DownloadOptions, type DownloadResult } from './download.js';
import { DEFAULT_TIMEOUTS, httpSettingsFromEnv, type HttpTimeouts } from './env.js';
import { BodyFormatError, ConnectionError, HttpStatusError, HttpTimeoutError, RedirectError, TooLargeError, TruncatedBodyError } from './errors.js';
import { KeyedLimiter, Semaphore } from './limiter.js';
import { proxyForUrl } from './proxy.js';
import { bodyForAttempt, DEFAULT_WHOLE_BODY_BYTES, type RequestBody } from './request-body.js';
import { nodeHttp, sendOnce } from './request.js';

export type HttpEvent = { type: 'http-retry'; url: string; attempt: number; reason: string; delayMs: number };

export interface HttpClientOptions {
  /** Requests in flight per origin (scheme+host+port); a slot is held until the body is consumed or destroyed. Default 6. */
  concurrencyPerHost?: number;
  /** Requests in flight in total. Default unlimited. */
  concurrency?: number;
  /** Extra attempts after the first for 5xx/429, timeouts, truncated bodies and dropped connections. Default 4 (env MEPH_HTTP_RETRIES). */
  retries?: number;
  /** First backoff delay; doubles per attempt, ±50 % jitter, capped at maxDelayMs. Default 500 ms. */
  backoffMs?: number;
  maxDelayMs?: number;
  /** Default 30 s connect, 60 s headers, 60 s body progress (env MEPH_HTTP_TIMEOUT and friends, see env.ts). */
  timeouts?: Partial<HttpTimeouts>;
  /** A body slower than this over a whole idle window counts as stalled. Default 1024. */
  minBytesPerSecond?: number;
  /** Cap for getText/getJson/getBytes bodies. Default 128 MiB. */
  maxDocumentBytes?: number;
  /** Default 5. */
  maxRedirects?: number;
  /** File bodies up to this size are read whole and sent in one write with the request headers. Default 1 MiB. */
  wholeBodyBytes?: number;
  userAgent?: string;
  /** Where proxy variables and MEPH_HTTP_* are read from. Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Extra TLS options (e.g. a test CA). */
  tls?: Pick<tls.ConnectionOptions, 'ca' | 'rejectUnauthorized'>;
  /** Injectable for tests. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
  onEvent?: (event: HttpEvent) => void;
  /** Aborts everything this client does. */
  signal?: AbortSignal;
}

export interface RequestOptions {
  signal?: AbortSignal;
  headers?: Record<string, string>;
}

export interface GetOptions extends RequestOptions {
  /** Refuse bodies larger than this (Content-Length larger fails before reading). Default: the client's maxDocumentBytes. */
  maxBytes?: number;
}

export interface OpenOptions extends RequestOptions {
  /** Ask for bytes `start`..`end` (inclusive); check `response.status` (206, or 200 when the server ignores ranges). */
  range?: { start: number; end?: number };
  /** Only honour the range if the object still has this ETag / Last-Modified. */
  ifRange?: string;
  /** Optional cap on the body. */
  maxBytes?: number;
  /**
   * When the body breaks off (truncated, stalled), continue it transparently with a Range
   * request from the last byte received, as long as the object still has the same ETag /
   * Last-Modified (If-Range) and retries remain. Without a validator the error is passed on.
   */
  resume?: boolean;
}

export interface SendOptions extends RequestOptions {
  /** Any method; GET, HEAD, PUT, DELETE and OPTIONS are retried (idempotent), others only with `idempotent`. */
  method: string;
  /**
   * Bytes; a local file (`{ file, size? }`: read whole and sent with the headers in one write up
   * to the client's `wholeBodyBytes`, streamed above; Content-Length set unless given); or a
   * function returning a fresh stream for each attempt (set content-length in `headers`).
   */
  body?: RequestBody;
  /** Retry this request even though its method is not idempotent (say a POST that creates nothing). */
  idempotent?: boolean;
  /** Cap for the response body. Default: the client's maxDocumentBytes. */
  maxBytes?: number;
}

/** A whole response, whatever its status: the caller decides what 404, 412 or 401 mean. */
export interface HttpReply {
  url: string;
  status: number;
  statusText: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface HttpResponse {
  /** After redirects. */
  url: string;
  status: number;
  statusText: string;
  headers: http.IncomingHttpHeaders;
  /** Content-Length of this body. */
  contentLength?: number;
  /** For 206: the range the body holds and the whole object's size. */
  range?: { start: number; end: number; total?: number };
  etag?: string;
  lastModified?: string;
  /**
   * The body; errors are typed (HttpTimeoutError, TruncatedBodyError, TooLargeError). The
   * per-host slot is held until it ends or is destroyed: always consume or destroy it.
   */
  body: Readable;
}

export interface HeadResult {
  url: string;
  status: number;
  size?: number;
  lastModified?: Date;
  etag?: string;
  acceptRanges: boolean;
}

export interface HttpClient {
  readonly stats: { requests: number; retries: number };
  getText(url: string, options?: GetOptions): Promise<string>;
  getBytes(url: string, options?: GetOptions): Promise<Buffer>;
  getJson<T = unknown>(url: string, options?: GetOptions): Promise<T>;
  head(url: string, options?: RequestOptions): Promise<HeadResult>;
  /** A streamed GET (retried up to the response headers). */
  open(url: string, options?: OpenOptions): Promise<HttpResponse>;
  /** Streams `url` through the given checksums without storing it. */
  hash(url: string, algorithms: readonly ChecksumAlgorithm[], options?: RequestOptions): Promise<FileDigest>;
  /** Streams `url` to `dest` through `dest.part` (resumed with Range), verifying size and checksums before the rename. */
  download(url: string, dest: string, options?: DownloadOptions): Promise<DownloadResult>;
  /**
   * Any request with an optional body (PUT, DELETE, POST...) through the same proxies, limits
   * and timeouts; resolves with every status (no redirects followed). Idempotent requests are
   * retried on network failures and 408/429/5xx (the last such reply is returned when
   * attempts run out).
   */
  send(url: string, options: SendOptions): Promise<HttpReply>;
  /** Closes idle keep-alive connections. */
  close(): void;
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);

/** Thrown inside a retried send to ask for another attempt while keeping the reply. */
class RetryableReply extends HttpStatusError {
  constructor(readonly reply: HttpReply, attempts: number) {
    super(reply.url, reply.status, reply.statusText, attempts);
  }
}

/** A status the server may not give next time. */
const RETRY_STATUS = new Set([408, 429, 500, 502, 503, 504]);
const REDIRECT_STATUS = new Set([301, 302, 303, 307, 308]);
const ERROR_BODY_LIMIT = 64 * 1024;

/** 404 or 410: the document does not exist (as opposed to a server or network problem). */
export function isNotFound(err: unknown): err is HttpStatusError {
  return err instanceof HttpStatusError && (err.status === 404 || err.status === 410);
}

/** Worth another attempt: the network or an overloaded server, not what the server said. */
export function isTransient(err: unknown): boolean {
  if (err instanceof HttpStatusError) return RETRY_STATUS.has(err.status);
  if (err instanceof ConnectionError) return err.transient;
  return err instanceof HttpTimeoutError || err instanceof TruncatedBodyError;
}

function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** A signal per call: listeners of concurrent requests never pile up on the caller's signal. */
function combine(a?: AbortSignal, b?: AbortSignal): AbortSignal | undefined {
  const all = [a, b].filter((s): s is AbortSignal => s !== undefined);
  return all.length ? AbortSignal.any(all) : undefined;
}

function parseContentRange(v: string | undefined): { start: number; end: number; total?: number } | undefined {
  const m = v ? /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(v.trim()) : null;
  if (!m) return undefined;
  return { start: Number(m[1]), end: Number(m[2]), ...(m[3] !== '*' ? { total: Number(m[3]) } : {}) };
}

interface AttemptOptions {
  method: 'GET' | 'HEAD';
  headers?: Record<string, string>;
  range?: { start: number; end?: number };
  ifRange?: string;
  maxBytes?: number;
  signal?: AbortSignal;
}

/** What download.ts needs from the client. */
export interface ClientInternals {
  attempt(url: string, o: AttemptOptions, attempt: number): Promise<HttpResponse>;
  retrying<T>(url: string, signal: AbortSignal | undefined, fn: (attempt: number) => Promise<T>): Promise<T>;
  signal(extra?: AbortSignal): AbortSignal | undefined;
}

class Client implements HttpClient, ClientInternals {
  readonly stats = { requests: 0, retries: 0 };
  private readonly perHost: KeyedLimiter;
  private readonly global: Semaphore;
  private readonly agents = { http: new (nodeHttp().http.Agent)({ keepAlive: true }), https: new (nodeHttp().https.Agent)({ keepAlive: true }) };
  private readonly timeouts: HttpTimeouts;
  private readonly retries: number;
  private readonly env: NodeJS.ProcessEnv;

  constructor(private readonly o: HttpClientOptions) {
    this.env = o.env ?? process.env;
    const fromEnv = httpSettingsFromEnv(this.env);
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...fromEnv.timeouts, ...o.timeouts };
    this.retries = o.retries ?? fromEnv.retries ?? 4;
    this.perHost = new KeyedLimiter(o.concurrencyPerHost ?? 6);
    this.global = new Semaphore(o.concurrency ?? Infinity);
  }

  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  signal(extra?: AbortSignal): AbortSignal | undefined {
    return combine(this.o.signal, extra);
  }

  async retrying<T>(url: string, signal: AbortSignal | undefined, fn: (attempt: number) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      signal?.throwIfAborted();
      try {
        return await fn(attempt);
      } catch (err) {
        if (signal?.aborted) throw signal.reason;
        if (!isTransient(err) || attempt > this.retries) throw err;
        const base = this.o.backoffMs ?? 500;
        const delayMs = Math.min(this.o.maxDelayMs ?? 30_000, base * 2 ** (attempt - 1) * (0.5 + (this.o.random ?? Math.random)()));
        this.stats.retries++;
        this.o.onEvent?.({ type: 'http-retry', url, attempt, reason: shortReason(err as Error), delayMs: Math.round(delayMs) });
        await (this.o.sleep ?? abortableSleep)(delayMs, signal);
      }
    }
  }

  private async slot(u: URL, signal?: AbortSignal): Promise<() => void> {
    const host = await this.perHost.for(u.origin).acquire(signal);
    try {
      const all = await this.global.acquire(signal);
      return () => {
        all();
        host();
      };
    } catch (err) {
      host();
      throw err;
    }
  }

  /** One attempt (following redirects): resolves with a 2xx response whose body holds the slot. */
  async attempt(url: string, ao: AttemptOptions, attempt: number): Promise<HttpResponse> {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw new ConnectionError(url, 'not a valid URL', attempt, undefined, false);
    }
    for (let hops = 0; ; hops++) {
      const release = await this.slot(u, ao.signal);
      let res: http.IncomingMessage;
      try {
        const headers: Record<string, string> = { 'user-agent': this.o.userAgent ?? 'meph', accept: '*/*', ...ao.headers };
        if (ao.range) {
          headers['range'] = `bytes=${ao.range.start}-${ao.range.end ?? ''}`;
          if (ao.ifRange) headers['if-range'] = ao.ifRange;
        }
        this.stats.requests++;
        res = await sendOnce({
          url: u, method: ao.method, headers, proxy: proxyForUrl(u, this.env), timeouts: this.timeouts,
          agents: this.agents, tls: this.o.tls, signal: ao.signal, attempt,
        });
      } catch (err) {
        release();
        throw err;
      }
      const status = res.statusCode ?? 0;
      if (REDIRECT_STATUS.has(status) && res.headers.location) {
        this.discard(res, u.href, attempt, ao.signal, release);
        if (hops >= (this.o.maxRedirects ?? 5)) throw new RedirectError(url, `more than ${this.o.maxRedirects ?? 5} redirects`);
        const next = new URL(res.headers.location, u);
        if (u.protocol === 'https:' && next.protocol !== 'https:') throw new RedirectError(u.href, `refusing a redirect from https to ${next.href}`);
        u = next;
        continue;
      }
      if (status < 200 || status >= 300) {
        this.discard(res, u.href, attempt, ao.signal, release);
        throw new HttpStatusError(u.href, status, res.statusMessage ?? '', attempt);
      }
      const rawLength = res.headers['content-length'];
      const declared = ao.method === 'HEAD' || status === 204 || rawLength === undefined || !/^\d+$/.test(rawLength) ? undefined : Number(rawLength);
      if (ao.maxBytes !== undefined && declared !== undefined && declared > ao.maxBytes) {
        res.destroy();
        release();
        throw new TooLargeError(u.href, ao.maxBytes, declared);
      }
      const range = status === 206 ? parseContentRange(res.headers['content-range']) : undefined;
      const etag = res.headers.etag;
      const lastModified = res.headers['last-modified'];
      return {
        url: u.href, status, statusText: res.statusMessage ?? '', headers: res.headers,
        ...(declared !== undefined ? { contentLength: declared } : {}),
        ...(range ? { range } : {}),
        ...(etag ? { etag } : {}),
        ...(lastModified ? { lastModified } : {}),
        body: this.guard(res, u.href, attempt, ao.signal, release, ao.maxBytes, declared),
      };
    }
  }

  /** The body of `res` behind guardBody, releasing the slot when finished with. */
  private guard(res: http.IncomingMessage, url: string, attempt: number, signal: AbortSignal | undefined, release: () => void, maxBytes: number | undefined, declared: number | undefined): Readable {
    return guardBody(res, { url, declared, maxBytes, idleMs: this.timeouts.idleMs, minBytesPerSecond: this.o.minBytesPerSecond ?? 1024, attempt, signal, onClose: release });
  }

  /** Reads and drops a body we do not want (an error page, a redirect), so the connection can be reused. */
  private discard(res: http.IncomingMessage, url: string, attempt: number, signal: AbortSignal | undefined, release: () => void): void {
    const b = this.guard(res, url, attempt, signal, release, ERROR_BODY_LIMIT, undefined);
    b.on('error', ignoreError);
    b.resume();
  }

  async open(url: string, o: OpenOptions = {}): Promise<HttpResponse> {
    const first = await this.openOnce(url, o);
    const validator = first.etag ?? first.lastModified;
    if (!o.resume || o.range || first.status !== 200 || !validator) return first;
    return { ...first, body: this.resumingBody(url, first, validator, this.signal(o.signal), o.maxBytes) };
  }

  /** The body of `first`, continued with Range requests after transient breaks. */
  private resumingBody(url: string, first: HttpResponse, validator: string, signal: AbortSignal | undefined, maxBytes: number | undefined): Readable {
    let current = first.body;
    let received = 0;
    let attempt = 1;
    const out = new PassThrough();
    out.on('error', () => {}); // as in guardBody: kept in out.errored for the consumer
    out.on('close', () => current.destroy());
    const pump = (body: Readable): void => {
      current = body;
      body.on('data', (c: Buffer) => {
        received += c.length;
        if (!out.write(c)) {
          body.pause();
          out.once('drain', () => body.resume());
        }
      });
      body.on('end', () => out.end());
      body.on('error', (err: Error) => void resumeAfter(err));
    };
    const resumeAfter = async (err: Error): Promise<void> => {
      if (out.destroyed) return;
      if (!isTransient(err) || attempt > this.retries || signal?.aborted) return void out.destroy(signal?.aborted ? (signal.reason as Error) : err);
      const delayMs = Math.min(this.o.maxDelayMs ?? 30_000, (this.o.backoffMs ?? 500) * 2 ** (attempt - 1) * (0.5 + (this.o.random ?? Math.random)()));
      this.stats.retries++;
      this.o.onEvent?.({ type: 'http-retry', url, attempt, reason: shortReason(err), delayMs: Math.round(delayMs) });
      attempt++;
      try {
        await (this.o.sleep ?? abortableSleep)(delayMs, signal);
        const r = await this.attempt(url, { method: 'GET', range: { start: received }, ifRange: validator, ...(maxBytes !== undefined ? { maxBytes: maxBytes - received } : {}), ...(signal ? { signal } : {}) }, attempt);
        if (r.status !== 206 || r.range?.start !== received) {
          r.body.destroy();
          return void out.destroy(err); // the object changed or the server ignores ranges
        }
        if (out.destroyed) return void r.body.destroy();
        pump(r.body);
      } catch (e) {
        if (isTransient(e)) return resumeAfter(e as Error);
        out.destroy(e as Error);
      }
    };
    pump(first.body);
    return out;
  }

  private openOnce(url: string, o: OpenOptions): Promise<HttpResponse> {
    const signal = this.signal(o.signal);
    return this.retrying(url, signal, (attempt) =>
      this.attempt(url, { method: 'GET', ...pick(o), ...(o.range ? { range: o.range } : {}), ...(o.ifRange ? { ifRange: o.ifRange } : {}), ...(o.maxBytes !== undefined ? { maxBytes: o.maxBytes } : {}), signal }, attempt),
    );
  }

  getBytes(url: string, o: GetOptions = {}): Promise<Buffer> {
    const signal = this.signal(o.signal);
    const maxBytes = o.maxBytes ?? this.o.maxDocumentBytes ?? 128 * 1024 * 1024;
    return this.retrying(url, signal, async (attempt) => {
      const r = await this.attempt(url, { method: 'GET', ...pick(o), maxBytes, signal }, attempt);
      const chunks: Buffer[] = [];
      for await (const c of r.body) chunks.push(c as Buffer);
      return Buffer.concat(chunks);
    });
  }

  async getText(url: string, o: GetOptions = {}): Promise<string> {
    return (await this.getBytes(url, o)).toString('utf8');
  }

  async getJson<T = unknown>(url: string, o: GetOptions = {}): Promise<T> {
    const text = await this.getText(url, o);
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw new BodyFormatError(url, `invalid JSON: ${(err as Error).message}`);
    }
  }

  head(url: string, o: RequestOptions = {}): Promise<HeadResult> {
    const signal = this.signal(o.signal);
    return this.retrying(url, signal, async (attempt) => {
      const r = await this.attempt(url, { method: 'HEAD', ...pick(o), signal }, attempt);
      r.body.on('error', () => {});
      r.body.resume();
      const len = r.headers['content-length'];
      const lm = r.lastModified && !Number.isNaN(Date.parse(r.lastModified)) ? new Date(r.lastModified) : undefined;
      return {
        url: r.url, status: r.status,
        ...(len !== undefined && /^\d+$/.test(len) ? { size: Number(len) } : {}),
        ...(lm ? { lastModified: lm } : {}),
        ...(r.etag ? { etag: r.etag } : {}),
        acceptRanges: r.headers['accept-ranges'] === 'bytes',
      };
    });
  }

  hash(url: string, algorithms: readonly ChecksumAlgorithm[], o: RequestOptions = {}): Promise<FileDigest> {
    const signal = this.signal(o.signal);
    return this.retrying(url, signal, async (attempt) => {
      const r = await this.attempt(url, { method: 'GET', ...pick(o), signal }, attempt);
      const d = new Digester(algorithms);
      for await (const c of r.body) d.update(c as Buffer);
      return d.digest();
    });
  }

  async send(url: string, o: SendOptions): Promise<HttpReply> {
    const signal = this.signal(o.signal);
    const method = o.method.toUpperCase();
    const retry = o.idempotent ?? IDEMPOTENT.has(method);
    const maxBytes = o.maxBytes ?? this.o.maxDocumentBytes ?? 128 * 1024 * 1024;
    const once = async (attempt: number): Promise<HttpReply> => {
      let u: URL;
      try {
        u = new URL(url);
      } catch {
        throw new ConnectionError(url, 'not a valid URL', attempt, undefined, false);
      }
      const release = await this.slot(u, signal);
      let res: http.IncomingMessage;
      try {
        const headers: Record<string, string> = { 'user-agent': this.o.userAgent ?? 'meph', accept: '*/*', ...o.headers };
        // read per attempt and inside the slot: queued requests hold no file contents
        const body = o.body === undefined ? undefined : await bodyForAttempt(o.body, this.o.wholeBodyBytes ?? DEFAULT_WHOLE_BODY_BYTES);
        if (body?.length !== undefined && !Object.keys(headers).some((k) => k.toLowerCase() === 'content-length')) headers['content-length'] = String(body.length);
        this.stats.requests++;
        res = await sendOnce({
          url: u, method, headers,
          ...(body !== undefined ? { body: body.payload } : {}),
          proxy: proxyForUrl(u, this.env), timeouts: this.timeouts, agents: this.agents, tls: this.o.tls, signal, attempt,
        });
      } catch (err) {
        release();
        throw err;
      }
      const rawLength = res.headers['content-length'];
      const declared = method === 'HEAD' || res.statusCode === 204 || res.statusCode === 304 || rawLength === undefined || !/^\d+$/.test(rawLength) ? undefined : Number(rawLength);
      const body = guardBody(res, {
        url: u.href, declared, maxBytes, idleMs: this.timeouts.idleMs, minBytesPerSecond: this.o.minBytesPerSecond ?? 1024,
        attempt, signal, onClose: release,
      });
      const chunks: Buffer[] = [];
      for await (const c of body) chunks.push(c as Buffer);
      const reply: HttpReply = { url: u.href, status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', headers: res.headers, body: Buffer.concat(chunks) };
      if (retry && RETRY_STATUS.has(reply.status)) throw new RetryableReply(reply, attempt);
      return reply;
    };
    if (!retry) return once(1);
    try {
      return await this.retrying(url, signal, once);
    } catch (err) {
      if (err instanceof RetryableReply) return err.reply;
      throw err;
    }
  }

  download(url: string, dest: string, o: DownloadOptions = {}): Promise<DownloadResult> {
    return downloadFile(this, url, dest, o);
  }
}

function ignoreError(): void {}

function pick(o: RequestOptions): { headers?: Record<string, string> } {
  return o.headers ? { headers: o.headers } : {};
}

function shortReason(err: Error): string {
  if (err instanceof HttpStatusError) return `HTTP ${err.status}`;
  return err.message.replace(/^\S+: /, '');
}

/** A client with its own connection pool and limits; settings from options, then MEPH_HTTP_* in `env`, then defaults. */
export function createHttpClient(options: HttpClientOptions = {}): HttpClient {
  return new Client(options);
}

let shared: HttpClient | undefined;

/** The process-wide client (settings from process.env), for callers that were given none. */
export function defaultHttpClient(): HttpClient {
  return (shared ??= createHttpClient());
}
