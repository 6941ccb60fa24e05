import type http from 'node:http';
import { createHttpClient, type HttpClient, type HttpReply } from '@meph/http';
import { StoreError, TargetError } from './errors.js';
import { swiftAuthFromEnv, type SwiftAuth } from './swift-auth.js';
import { joinKey, type ObjectStore, type PutBody, type StoredObject } from './store.js';

type Reply = HttpReply;

/** Object names are URL-encoded per path segment, `/` kept. */
const encodeKey = (key: string): string => key.split('/').map(encodeURIComponent).join('/');

/**
 * OpenStack Swift through its native API: create-only PUTs with `If-None-Match: *`, uploads
 * checked by the `ETag` (MD5) we send, listings in JSON. Re-authenticates once on 401.
 */
export class SwiftStore implements ObjectStore {
  readonly label: string;
  /** Swift checks If-None-Match: * but two racing PUTs can both succeed (measured on 2.30). */
  readonly atomicCreate = false;
  private auth: SwiftAuth | undefined;
  /** The one transport: proxies, timeouts, retries of idempotent requests on network errors and 5xx. */
  private readonly http: HttpClient;

  constructor(
    readonly container: string,
    readonly prefix: string,
    private readonly env: NodeJS.ProcessEnv,
    options: { concurrency?: number; http?: HttpClient } = {},
  ) {
    if (!container || container.includes('/')) throw new TargetError(`swift://${container}`, 'needs a container name');
    this.label = `swift://${container}${prefix ? `/${prefix}` : ''}`;
    this.http = options.http ?? createHttpClient({ concurrencyPerHost: Math.max(4, (options.concurrency ?? 8) + 2), env, retries: 3, backoffMs: 250 });
  }

  get readUrl(): string | undefined {
    if (!this.auth) return undefined;
    const base = `${this.auth.storageUrl.replace(/\/+$/, '')}/${encodeURIComponent(this.container)}`;
    return this.prefix ? `${base}/${encodeKey(this.prefix.replace(/\/+$/, ''))}/` : `${base}/`;
  }

  private url(key?: string, query?: string): string {
    const base = `${this.auth!.storageUrl.replace(/\/+$/, '')}/${encodeURIComponent(this.container)}`;
    return `${key === undefined ? base : `${base}/${encodeKey(joinKey(this.prefix, key))}`}${query ? `?${query}` : ''}`;
  }

  private async send(method: string, url: string, headers: Record<string, string>, body?: PutBody): Promise<Reply> {
    // a small file goes out whole with its headers (the transport reads it), a large one streamed
    const payload = body === undefined ? undefined : body.bytes ?? { file: body.file!, size: body.size };
    try {
      return await this.http.send(url, { method, headers: { ...headers, 'X-Auth-Token': this.auth!.token }, ...(payload !== undefined ? { body: payload } : {}) });
    } catch (err) {
      throw new StoreError(url, `${method} failed: ${(err as Error).message}`, { cause: err });
    }
  }

  /**
   * One request (the transport retries network errors and 5xx), re-authenticating once when
   * the token expired. Every request here may be repeated: a create-only PUT whose first
   * attempt landed answers 412 the second time, which the publisher resolves by comparing the
   * object.
   */
  private async request(method: string, key: string | undefined, headers: Record<string, string> = {}, body?: PutBody, query?: string): Promise<Reply> {
    if (!this.auth) this.auth = await swiftAuthFromEnv(this.env, this.http);
    const res = await this.send(method, this.url(key, query), headers, body);
    if (res.status !== 401) return res;
    this.auth = await swiftAuthFromEnv(this.env, this.http);
    return this.send(method, this.url(key, query), headers, body);
  }

  private fail(method: string, key: string | undefined, res: Reply): never {
    const where = key === undefined ? this.label : `${this.label}: ${key}`;
    const text = res.body.toString('utf8').replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 200);
    const hint = res.status === 401 || res.status === 403 ? 'check the credentials and that the account may write this container' : undefined;
    throw new StoreError(where, `${method} answered HTTP ${res.status}${text ? ` (${text})` : ''}`, hint ? { hint } : undefined);
  }

  async open(options: { create?: boolean; publicRead?: boolean } = {}): Promise<void> {
    const headers: Record<string, string> = options.publicRead ? { 'X-Container-Read': '.r:*,.rlistings' } : {};
    if (options.create || options.publicRead) {
      const res = await this.request('PUT', undefined, headers);
      if (res.status >= 300) this.fail('PUT container', undefined, res);
      return;
    }
    const res = await this.request('HEAD', undefined);
    if (res.status === 404) throw new TargetError(this.label, 'no such container', 'create it, or run without --dry-run so publish creates it');
    if (res.status >= 300) this.fail('HEAD container', undefined, res);
  }

  async list(prefix = ''): Promise<StoredObject[]> {
    const out: StoredObject[] = [];
    const trimmed = this.prefix.replace(/^\/+|\/+$/g, '');
    const full = trimmed ? `${trimmed}/${prefix}` : prefix;
    const strip = trimmed ? trimmed.length + 1 : 0;
    let marker = '';
    for (;;) {
      const q = new URLSearchParams({ format: 'json', limit: '10000', ...(full ? { prefix: full } : {}), ...(marker ? { marker } : {}) });
      const res = await this.request('GET', undefined, {}, undefined, q.toString());
      if (res.status === 404) return out;
      if (res.status >= 300) this.fail('GET listing', undefined, res);
      if (res.status === 204 || res.body.length === 0) return out;
      const page = JSON.parse(res.body.toString('utf8')) as { name: string; bytes: number; hash: string; last_modified: string }[];
      if (page.length === 0) return out;
      for (const o of page) {
        out.push({ key: o.name.slice(strip), size: o.bytes, md5: o.hash, lastModified: new Date(`${o.last_modified}Z`) });
      }
      marker = page[page.length - 1]!.name;
    }
  }

  private static fromHeaders(key: string, h: http.IncomingHttpHeaders): StoredObject {
    const etag = String(h['etag'] ?? '').replace(/"/g, '');
    return { key, size: Number(h['content-length'] ?? 0), ...(etag ? { md5: etag } : {}), lastModified: new Date(String(h['last-modified'] ?? 0)) };
  }

  async head(key: string): Promise<StoredObject | undefined> {
    const res = await this.request('HEAD', key);
    if (res.status === 404) return undefined;
    if (res.status >= 300) this.fail('HEAD', key, res);
    return SwiftStore.fromHeaders(key, res.headers);
  }

  async get(key: string): Promise<Buffer | undefined> {
    const res = await this.request('GET', key);
    if (res.status === 404) return undefined;
    if (res.status >= 300) this.fail('GET', key, res);
    return res.body;
  }

  private putHeaders(body: PutBody): Record<string, string> {
    return { 'Content-Length': String(body.size), ETag: body.md5, 'Content-Type': body.contentType ?? 'application/octet-stream' };
  }

  async putNew(key: string, body: PutBody): Promise<'created' | 'exists'> {
    const res = await this.request('PUT', key, { ...this.putHeaders(body), 'If-None-Match': '*' }, body);
    if (res.status === 412) return 'exists';
    if (res.status >= 300) this.fail('PUT', key, res);
    return 'created';
  }

  async put(key: string, body: PutBody): Promise<void> {
    const res = await this.request('PUT', key, this.putHeaders(body), body);
    if (res.status >= 300) this.fail('PUT', key, res);
  }

  async delete(key: string): Promise<boolean> {
    const res = await this.request('DELETE', key);
    if (res.status === 404) return false;
    if (res.status >= 300) this.fail('DELETE', key, res);
    return true;
  }

  async close(): Promise<void> {
    this.http.close();
  }
}
