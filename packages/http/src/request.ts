import type http from 'node:http';
import type https from 'node:https';
import { createRequire } from 'node:module';
import type net from 'node:net';
import type { Readable } from 'node:stream';
import type tls from 'node:tls';
import { ConnectionError, HttpTimeoutError, ProxyError } from './errors.js';
import type { HttpTimeouts } from './env.js';

// node:http, node:https and node:tls are loaded on first use, not when the package is imported:
// most commands import it (through @meph/simplestreams) and never make a request (start-up, issue 14).
const requireBuiltin = createRequire(import.meta.url);
let builtins: { http: typeof http; https: typeof https; tls: typeof tls } | undefined;
export function nodeHttp(): { http: typeof http; https: typeof https; tls: typeof tls } {
  return (builtins ??= { http: requireBuiltin('node:http') as typeof http, https: requireBuiltin('node:https') as typeof https, tls: requireBuiltin('node:tls') as typeof tls });
}

export interface SendParams {
  url: URL;
  method: string;
  headers: Record<string, string>;
  /** A request body: bytes, or a fresh stream per attempt (its length in the headers; the client turns file bodies into one of these). node:http corks the socket for the first write, so headers and the first chunk leave together. */
  body?: Buffer | (() => Readable);
  proxy: URL | undefined;
  timeouts: HttpTimeouts;
  agents: { http: http.Agent; https: https.Agent };
  tls: Pick<tls.ConnectionOptions, 'ca' | 'rejectUnauthorized'> | undefined;
  signal: AbortSignal | undefined;
  attempt: number;
}

function basicAuth(proxy: URL): string {
  return `Basic ${Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString('base64')}`;
}

/** A failure worth another attempt because of the network, not because of what the server said. */
const TRANSIENT_CODES = new Set([
  'ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'ENETDOWN',
  'ERR_STREAM_PREMATURE_CLOSE', 'HPE_INVALID_CONSTANT', 'ECONNABORTED', 'UND_ERR_SOCKET',
]);

export function connectionFailure(url: string, err: unknown, attempt: number, proxy?: URL): Error {
  if (err instanceof HttpTimeoutError || err instanceof ProxyError || err instanceof ConnectionError) return err;
  const e = err as NodeJS.ErrnoException;
  const transient = (e.code !== undefined && TRANSIENT_CODES.has(e.code)) || e.message === 'socket hang up';
  const detail = `${e.code && TRANSIENT_CODES.has(e.code) ? e.code : e.message}${proxy ? ` (through proxy ${proxy.origin})` : ''}`;
  return new ConnectionError(url, detail, attempt, err, transient);
}

/**
 * One request, up to its response headers: direct, through an http proxy (absolute URI) or
 * through a CONNECT tunnel for https. Enforces the connect and headers timeouts; the body
 * (and its timeout) is the caller's.
 */
export function sendOnce(p: SendParams): Promise<http.IncomingMessage> {
  const { url: u, timeouts } = p;
  const { http, https, tls } = nodeHttp();
  return new Promise((resolve, reject) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    let current: { destroy(err?: Error): void } | undefined;
    const fail = (err: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      p.signal?.removeEventListener('abort', onAbort);
      reject(err);
    };
    const arm = (phase: 'connect' | 'headers', ms: number): void => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        const err = new HttpTimeoutError(u.href, phase, ms, undefined, p.attempt);
        current?.destroy(err);
        fail(err);
      }, ms);
    };
    const onAbort = (): void => {
      const reason = p.signal!.reason as Error;
      current?.destroy(reason);
      fail(reason);
    };
    if (p.signal?.aborted) return fail(p.signal.reason as Error);
    p.signal?.addEventListener('abort', onAbort, { once: true });
    arm('connect', timeouts.connectMs);

    const start = (req: http.ClientRequest, alreadyConnected: boolean): void => {
      current = req;
      // With a body the headers wait starts once it is sent; while it is being sent, a socket
      // idle for idleMs (the server not taking bytes) fails it.
      const connected = (): void => {
        if (p.body === undefined) return arm('headers', timeouts.headersMs);
        clearTimeout(timer);
        req.setTimeout(timeouts.idleMs, () => {
          const err = new HttpTimeoutError(u.href, 'body', timeouts.idleMs, `the upload stalled for ${timeouts.idleMs} ms`, p.attempt);
          req.destroy(err);
          fail(err);
        });
      };
      if (p.body !== undefined)
        req.on('finish', () => {
          req.setTimeout(0);
          if (!settled) arm('headers', timeouts.headersMs);
        });
      if (alreadyConnected) connected();
      else
        req.on('socket', (socket: net.Socket) => {
          if (req.reusedSocket) return connected();
          socket.once(u.protocol === 'https:' && !p.proxy ? 'secureConnect' : 'connect', connected);
        });
      req.on('error', (err) => fail(connectionFailure(u.href, err, p.attempt, u.protocol === 'http:' ? p.proxy : undefined)));
      req.on('response', (res) => {
        if (settled) return void res.destroy();
        settled = true;
        clearTimeout(timer);
        p.signal?.removeEventListener('abort', onAbort);
        resolve(res);
      });
      const body = p.body;
      if (body === undefined) req.end();
      else if (Buffer.isBuffer(body)) req.end(body);
      else {
        const rs = body();
        rs.on('error', (err) => {
          req.destroy(err);
          fail(err);
        });
        rs.pipe(req);
      }
    };

    const headers = { ...p.headers };
    const proxy = p.proxy;
    if (u.protocol === 'http:') {
      if (proxy) {
        if (proxy.username) headers['proxy-authorization'] = basicAuth(proxy);
        headers['host'] = u.host;
        start(http.request({ host: proxy.hostname, port: proxy.port || 80, method: p.method, path: u.href, headers, agent: p.agents.http }), false);
      } else {
        start(http.request(u, { method: p.method, headers, agent: p.agents.http }), false);
      }
      return;
    }
    if (u.protocol !== 'https:') return fail(new ConnectionError(u.href, `unsupported URL scheme ${u.protocol}`, p.attempt));
    if (!proxy) {
      start(https.request(u, { method: p.method, headers, agent: p.agents.https, ...p.tls }), false);
      return;
    }
    const target = `${u.hostname}:${u.port || 443}`;
    const connectHeaders: Record<string, string> = { host: target };
    if (proxy.username) connectHeaders['proxy-authorization'] = basicAuth(proxy);
    const connect = http.request({ host: proxy.hostname, port: proxy.port || 80, method: 'CONNECT', path: target, headers: connectHeaders, agent: false });
    current = connect;
    connect.on('error', (err) => fail(connectionFailure(u.href, err, p.attempt, proxy)));
    connect.on('connect', (res, socket) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        return fail(new ProxyError(proxy.origin, `CONNECT ${u.host} refused: HTTP ${res.statusCode}`));
      }
      if (settled) return void socket.destroy();
      const secure = tls.connect({ socket, servername: u.hostname, ...p.tls });
      current = secure;
      secure.on('error', (err) => fail(connectionFailure(u.href, err, p.attempt)));
      secure.once('secureConnect', () => {
        // agent undefined (not false): only then does node:http use createConnection
        start(https.request(u, { method: p.method, headers, createConnection: () => secure }), true);
      });
    });
    connect.end();
  });
}
