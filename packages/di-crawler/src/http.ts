import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import tls from 'node:tls';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pLimit, { type LimitFunction } from 'p-limit';
import { ChecksumMismatchError, SizeMismatchError } from '@meph/simplestreams';
import { FetchFailedError, HttpStatusError, ProxyError } from './errors.js';
import { proxyForUrl } from './proxy.js';

export interface HttpEvent {
  type: 'http-retry';
  url: string;
  attempt: number;
  reason: string;
  delayMs: number;
}

export interface HttpClientOptions {
  /** Requests in flight per host (scheme+host+port). Default 10. */
  concurrencyPerHost?: number;
  /** Extra attempts after the first for 5xx, timeouts and dropped connections. Default 4. */
  retries?: number;
  /** Socket idle timeout per attempt. Default 30 s. */
  timeoutMs?: number;
  /** First backoff delay; doubles per attempt, ±50 % jitter, capped at maxDelayMs. Default 500 ms. */
  backoffMs?: number;
  maxDelayMs?: number;
  /** Injectable for tests. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  /** Where http_proxy/https_proxy/no_proxy are read from. Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Extra TLS options (e.g. a test CA). */
  tls?: Pick<tls.ConnectionOptions, 'ca' | 'rejectUnauthorized'>;
  onEvent?: (event: HttpEvent) => void;
  signal?: AbortSignal;
}

export interface HeadResult {
  size?: number;
  lastModified?: Date;
}

/** Something that can fail transiently: worth another attempt. */
class RetryableError extends Error {
  constructor(message: string, readonly status?: number, options?: { cause?: unknown }) {
    super(message, options);
  }
}

const RETRY_STATUS = new Set([429, 500, 502, 503, 504]);

const realSleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * A small HTTP(S) client on node:http/node:https (Node's global fetch ignores proxy
 * variables): bounded concurrency per host, retries with backoff, proxies from the
 * environment (absolute-URI requests for http, CONNECT tunnels for https).
 */
export class HttpClient {
  readonly stats = { requests: 0, retries: 0 };
  private readonly limits = new Map<string, LimitFunction>();
  private readonly agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };
  private readonly o: Required<Omit<HttpClientOptions, 'onEvent' | 'signal' | 'tls'>> & Pick<HttpClientOptions, 'onEvent' | 'signal' | 'tls'>;

  constructor(options: HttpClientOptions = {}) {
    this.o = {
      concurrencyPerHost: 10,
      retries: 4,
      timeoutMs: 30_000,
      backoffMs: 500,
      maxDelayMs: 30_000,
      sleep: realSleep,
      random: Math.random,
      env: process.env,
      ...options,
    };
  }

  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  private limitFor(u: URL): LimitFunction {
    const key = u.origin;
    let l = this.limits.get(key);
    if (!l) this.limits.set(key, (l = pLimit(this.o.concurrencyPerHost)));
    return l;
  }

  /** Runs `consume` on a successful response, retrying transient failures; 404 → undefined. */
  private async withRetries<T>(url: string, method: 'GET' | 'HEAD', consume: (res: http.IncomingMessage) => Promise<T>): Promise<T | undefined> {
    const u = new URL(url);
    const limit = this.limitFor(u);
    const attempts = this.o.retries + 1;
    for (let attempt = 1; ; attempt++) {
      this.o.signal?.throwIfAborted();
      try {
        return await limit(async () => {
          const res = await this.open(u, method);
          try {
            if (res.statusCode === 404 || res.statusCode === 410) return undefined;
            if (RETRY_STATUS.has(res.statusCode ?? 0)) throw new RetryableError(`HTTP ${res.statusCode}`, res.statusCode);
            if ((res.statusCode ?? 0) < 200 || (res.statusCode ?? 0) >= 300) throw new HttpStatusError(url, res.statusCode ?? 0, attempt);
            return await consume(res);
          } finally {
            res.resume();
          }
        });
      } catch (err) {
        const retryable = err instanceof RetryableError || isNetworkError(err);
        if (!retryable) throw err;
        if (attempt >= attempts) {
          if (err instanceof RetryableError && err.status) throw new HttpStatusError(url, err.status, attempt);
          throw new FetchFailedError(url, (err as Error).message, attempt, err);
        }
        const delayMs = Math.min(this.o.maxDelayMs, this.o.backoffMs * 2 ** (attempt - 1) * (0.5 + this.o.random()));
        this.stats.retries++;
        this.o.onEvent?.({ type: 'http-retry', url, attempt, reason: (err as Error).message, delayMs: Math.round(delayMs) });
        await this.o.sleep(delayMs);
      }
    }
  }

  /** One attempt: resolves with the response head; the body is left to the caller. */
  private open(u: URL, method: string): Promise<http.IncomingMessage> {
    this.stats.requests++;
    const proxy = proxyForUrl(u, this.o.env);
    return new Promise((resolve, reject) => {
      const fail = (e: Error): void => reject(e);
      const start = (req: http.ClientRequest): void => {
        req.setTimeout(this.o.timeoutMs, () => req.destroy(new RetryableError(`no data for ${this.o.timeoutMs} ms`)));
        req.on('error', fail);
        req.on('response', (res) => {
          res.setTimeout(this.o.timeoutMs, () => res.destroy(new RetryableError(`no data for ${this.o.timeoutMs} ms`)));
          resolve(res);
        });
        req.end();
      };
      const headers: Record<string, string> = { 'user-agent': 'meph-di-crawler', accept: '*/*' };
      if (u.protocol === 'http:') {
        if (proxy) {
          if (proxy.username) headers['proxy-authorization'] = basicAuth(proxy);
          headers['host'] = u.host;
          start(http.request({ host: proxy.hostname, port: proxy.port || 80, method, path: u.href, headers, agent: this.agents.http, signal: this.o.signal }));
        } else {
          start(http.request(u, { method, headers, agent: this.agents.http, signal: this.o.signal }));
        }
        return;
      }
      if (u.protocol !== 'https:') return reject(new FetchFailedError(u.href, `unsupported URL scheme ${u.protocol}`, 1));
      if (!proxy) {
        start(https.request(u, { method, headers, agent: this.agents.https, signal: this.o.signal, ...this.o.tls }));
        return;
      }
      const connectHeaders: Record<string, string> = { host: `${u.hostname}:${u.port || 443}` };
      if (proxy.username) connectHeaders['proxy-authorization'] = basicAuth(proxy);
      const connect = http.request({ host: proxy.hostname, port: proxy.port || 80, method: 'CONNECT', path: `${u.hostname}:${u.port || 443}`, headers: connectHeaders, agent: false });
      connect.setTimeout(this.o.timeoutMs, () => connect.destroy(new RetryableError(`proxy CONNECT timed out after ${this.o.timeoutMs} ms`)));
      connect.on('error', fail);
      connect.on('connect', (res, socket) => {
        if (res.statusCode !== 200) {
          socket.destroy();
          return reject(new ProxyError(proxy.origin, `CONNECT ${u.host} refused: HTTP ${res.statusCode}`));
        }
        const secure = tls.connect({ socket, servername: u.hostname, ...this.o.tls });
        // agent undefined (not false): only then does node:http use createConnection
        start(https.request(u, { method, headers, createConnection: () => secure, signal: this.o.signal }));
      });
      connect.end();
    });
  }

  /** GET a text document; undefined on 404. */
  async getText(url: string): Promise<string | undefined> {
    return this.withRetries(url, 'GET', async (res) => {
      const chunks: Buffer[] = [];
      for await (const c of res) chunks.push(c as Buffer);
      const body = Buffer.concat(chunks);
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && res.headers['content-length'] !== undefined && declared !== body.length) {
        throw new RetryableError(`connection closed after ${body.length} of ${declared} bytes`);
      }
      return body.toString('utf8');
    });
  }

  /** Streams `url` through sha256 without storing it (for files no checksum list covers). */
  async sha256(url: string): Promise<{ sha256: string; size: number } | undefined> {
    return this.withRetries(url, 'GET', async (res) => {
      const h = createHash('sha256');
      let size = 0;
      try {
        for await (const c of res) {
          h.update(c as Buffer);
          size += (c as Buffer).length;
        }
      } catch (err) {
        throw new RetryableError(`download interrupted after ${size} bytes: ${(err as Error).message}`, undefined, { cause: err });
      }
      return { sha256: h.digest('hex'), size };
    });
  }

  /** HEAD: size and modification time; undefined on 404. */
  async head(url: string): Promise<HeadResult | undefined> {
    return this.withRetries(url, 'HEAD', async (res) => {
      const out: HeadResult = {};
      const len = res.headers['content-length'];
      if (len !== undefined && /^\d+$/.test(len)) out.size = Number(len);
      const lm = res.headers['last-modified'];
      if (lm && !Number.isNaN(Date.parse(lm))) out.lastModified = new Date(lm);
      return out;
    });
  }

  /**
   * Streams `url` to `dest` (temp file + rename), verifying size and sha256 on the way.
   * Dropped connections are retried; a checksum or size mismatch is not (it is thrown).
   * Returns false on 404.
   */
  async download(url: string, dest: string, expected: { sha256: string; size?: number; md5?: string }): Promise<boolean> {
    await mkdir(path.dirname(dest), { recursive: true });
    const tmp = `${dest}.part-${process.pid}-${Math.floor(this.o.random() * 1e9)}`;
    try {
      const ok = await this.withRetries(url, 'GET', async (res) => {
        const sha = createHash('sha256');
        const md5 = expected.md5 ? createHash('md5') : undefined;
        let size = 0;
        const declared = res.headers['content-length'] === undefined ? undefined : Number(res.headers['content-length']);
        const tap = new Transform({
          transform(chunk: Buffer, _enc, cb) {
            sha.update(chunk);
            md5?.update(chunk);
            size += chunk.length;
            cb(null, chunk);
          },
        });
        try {
          await pipeline(res, tap, createWriteStream(tmp));
        } catch (err) {
          throw new RetryableError(`download interrupted after ${size} bytes: ${(err as Error).message}`, undefined, { cause: err });
        }
        if (declared !== undefined && declared !== size) throw new RetryableError(`connection closed after ${size} of ${declared} bytes`);
        if (expected.size !== undefined && size !== expected.size) throw new SizeMismatchError(url, expected.size, size);
        const got = sha.digest('hex');
        if (got !== expected.sha256.toLowerCase()) throw new ChecksumMismatchError(url, 'sha256', expected.sha256, got);
        const gotMd5 = md5?.digest('hex');
        if (expected.md5 && gotMd5 !== expected.md5.toLowerCase()) throw new ChecksumMismatchError(url, 'md5', expected.md5, gotMd5 ?? '');
        return true;
      });
      if (!ok) return false;
      await rename(tmp, dest);
      return true;
    } finally {
      await rm(tmp, { force: true });
    }
  }
}

function basicAuth(proxy: URL): string {
  return `Basic ${Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString('base64')}`;
}

function isNetworkError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as NodeJS.ErrnoException).code;
  return (
    code === 'ECONNRESET' || code === 'ECONNREFUSED' || code === 'EPIPE' || code === 'ETIMEDOUT' || code === 'EAI_AGAIN' ||
    code === 'ENETUNREACH' || code === 'EHOSTUNREACH' || code === 'ERR_STREAM_PREMATURE_CLOSE' || err.message === 'socket hang up' ||
    code === 'HPE_INVALID_CONSTANT' || code === 'ECONNABORTED'
  );
}
