/**
 * A static HTTP server for tests and benchmarks: serves a local directory on 127.0.0.1 with
 * Apache-style directory listings, Content-Length / Last-Modified, HEAD, and fault injection
 * (latency, 5xx for the first N requests of a path, dropped connections, corrupted bytes).
 */
import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Transform } from 'node:stream';

export interface FaultRule {
  /** Request path (exact string, or a RegExp tested against the decoded path). */
  match: string | RegExp;
  /** Answer with this status instead of the file. */
  status?: number;
  /** Destroy the connection: before any response (`'head'`) or after half the body (`'body'`). */
  drop?: 'head' | 'body';
  /** Flip one byte in the middle of the body (Content-Length unchanged). */
  corrupt?: boolean;
  /** Extra delay for this path. */
  latencyMs?: number;
  /** Never answer: hold the connection open without sending headers. */
  hang?: boolean;
  /** Send the body one byte every this many ms. */
  trickleMs?: number;
  /** Declare this Content-Length instead of the file's (e.g. 1e13), then send the file. */
  contentLength?: number;
  /** Apply only to the first N matching requests (default: every request). */
  times?: number;
  /** Apply only to these methods (default: all). */
  methods?: string[];
}

export interface FixtureServerOptions {
  root: string;
  port?: number;
  host?: string;
  /** Delay before answering every request. */
  latencyMs?: number;
  faults?: FaultRule[];
  /** Serve autoindex pages for directories (default true). */
  listings?: boolean;
}

export interface RequestRecord {
  method: string;
  path: string;
  status: number;
  fault?: string;
}

export interface FixtureServer {
  url: string;
  port: number;
  requests: RequestRecord[];
  /** Requests being answered now, and the most seen at once. */
  stats: { inFlight: number; maxInFlight: number };
  /** `METHOD path` of each request being answered now (for diagnosing a test that waits for idle). */
  active(): string[];
  /** Replace the fault rules (their counters restart). */
  setFaults(rules: FaultRule[]): void;
  setLatency(ms: number): void;
  close(): Promise<void>;
}

interface LiveRule extends FaultRule {
  hits: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function apacheDate(d: Date): string {
  return d.toISOString().slice(0, 16).replace('T', ' ');
}

async function listing(dir: string, urlPath: string): Promise<string> {
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
  const rows = await Promise.all(
    entries.map(async (e) => {
      const st = await stat(path.join(dir, e.name));
      const name = e.isDirectory() ? `${e.name}/` : e.name;
      return `<tr><td><a href="${encodeURIComponent(e.name)}${e.isDirectory() ? '/' : ''}">${escapeHtml(name)}</a></td><td align="right">${apacheDate(st.mtime)}  </td><td align="right">${e.isDirectory() ? '-' : st.size}</td></tr>`;
    }),
  );
  return `<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN">\n<html><head><title>Index of ${escapeHtml(urlPath)}</title></head><body>\n<h1>Index of ${escapeHtml(urlPath)}</h1>\n<table>\n<tr><th><a href="?C=N;O=D">Name</a></th><th><a href="?C=M;O=A">Last modified</a></th><th><a href="?C=S;O=A">Size</a></th></tr>\n<tr><td><a href="../">Parent Directory</a></td><td>&nbsp;</td><td align="right">  - </td></tr>\n${rows.join('\n')}\n</table></body></html>\n`;
}

export async function startFixtureServer(options: FixtureServerOptions): Promise<FixtureServer> {
  const root = path.resolve(options.root);
  let latency = options.latencyMs ?? 0;
  let rules: LiveRule[] = (options.faults ?? []).map((r) => ({ ...r, hits: 0 }));
  const requests: RequestRecord[] = [];
  const stats = { inFlight: 0, maxInFlight: 0 };
  const active: string[] = [];

  const pickRule = (method: string, p: string): LiveRule | undefined => {
    for (const r of rules) {
      if (r.methods && !r.methods.includes(method)) continue;
      if (typeof r.match === 'string' ? r.match !== p : !r.match.test(p)) continue;
      if (r.times !== undefined && r.hits >= r.times) continue;
      r.hits++;
      return r;
    }
    return undefined;
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    stats.inFlight++;
    stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
    let done = false;
    const label = `${req.method ?? 'GET'} ${req.url ?? ''}`;
    active.push(label);
    const finish = (): void => {
      if (!done) {
        stats.inFlight--;
        active.splice(active.indexOf(label), 1);
      }
      done = true;
    };
    // A request stops counting as soon as its last byte is handed to the socket, before the
    // client can see the end of the response. Waiting for 'finish' instead (the file stream's
    // EOF read, then the write callback) counted requests the client had already completed.
    const end = res.end.bind(res) as (...args: unknown[]) => http.ServerResponse;
    res.end = ((...args: unknown[]) => {
      finish();
      return end(...args);
    }) as typeof res.end;
    res.once('close', finish);
    const method = req.method ?? 'GET';
    let urlPath: string;
    try {
      urlPath = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      res.writeHead(400).end();
      return;
    }
    const record: RequestRecord = { method, path: urlPath, status: 0 };
    requests.push(record);
    const rule = pickRule(method, urlPath);
    const delay = latency + (rule?.latencyMs ?? 0);
    if (delay > 0) await sleep(delay);
    if (rule?.hang) {
      record.fault = 'hang';
      return;
    }
    if (rule?.drop === 'head') {
      record.fault = 'drop-head';
      req.socket.destroy();
      return;
    }
    if (rule?.status) {
      record.status = rule.status;
      record.fault = `status-${rule.status}`;
      res.writeHead(rule.status, { 'content-type': 'text/plain', 'content-length': 14 }).end('injected fault');
      return;
    }
    if (method !== 'GET' && method !== 'HEAD') {
      record.status = 405;
      res.writeHead(405).end();
      return;
    }
    const abs = path.resolve(root, `.${urlPath}`);
    if (abs !== root && !abs.startsWith(root + path.sep)) {
      record.status = 403;
      res.writeHead(403).end();
      return;
    }
    let st;
    try {
      st = await stat(abs);
    } catch {
      record.status = 404;
      res.writeHead(404, { 'content-type': 'text/plain', 'content-length': 9 }).end('not found');
      return;
    }
    if (st.isDirectory()) {
      if (!urlPath.endsWith('/')) {
        record.status = 301;
        res.writeHead(301, { location: `${urlPath}/`, 'content-length': 0 }).end();
        return;
      }
      if (options.listings === false) {
        record.status = 403;
        res.writeHead(403, { 'content-length': 0 }).end();
        return;
      }
      const body = Buffer.from(await listing(abs, urlPath));
      record.status = 200;
      res.writeHead(200, { 'content-type': 'text/html;charset=UTF-8', 'content-length': body.length });
      res.end(method === 'HEAD' ? undefined : body);
      return;
    }
    const etag = `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
    const range = /^bytes=(\d+)-(\d*)$/.exec(String(req.headers.range ?? ''));
    const ifRange = req.headers['if-range'];
    const useRange = range && !rule && (ifRange === undefined || ifRange === etag || ifRange === st.mtime.toUTCString());
    if (useRange) {
      const start = Number(range[1]);
      const end = range[2] ? Math.min(Number(range[2]), st.size - 1) : st.size - 1;
      if (start >= st.size || end < start) {
        record.status = 416;
        res.writeHead(416, { 'content-range': `bytes */${st.size}`, 'content-length': 0 }).end();
        return;
      }
      record.status = 206;
      res.writeHead(206, {
        'content-type': 'application/octet-stream', 'content-length': end - start + 1, 'content-range': `bytes ${start}-${end}/${st.size}`,
        'last-modified': st.mtime.toUTCString(), etag, 'accept-ranges': 'bytes',
      });
      if (method === 'HEAD') return void res.end();
      createReadStream(abs, { start, end }).pipe(res);
      return;
    }
    record.status = 200;
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-length': rule?.contentLength ?? st.size,
      'last-modified': st.mtime.toUTCString(),
      etag,
      'accept-ranges': 'bytes',
    });
    if (method === 'HEAD') {
      res.end();
      return;
    }
    if (rule?.trickleMs !== undefined) {
      record.fault = 'trickle';
      const data = await readFile(abs);
      for (let i = 0; i < data.length && !res.destroyed; i++) {
        res.write(data.subarray(i, i + 1));
        await sleep(rule.trickleMs);
      }
      res.end();
      return;
    }
    const half = Math.floor(st.size / 2);
    let offset = 0;
    let sent = 0;
    // With Content-Length the client is done when the last byte arrives, not when the file
    // stream's EOF ends the response: stop counting before that byte is written.
    const lastByte = new Transform({
      transform(chunk: Buffer, _e, cb) {
        sent += chunk.length;
        if (sent >= st.size) finish();
        cb(null, chunk);
      },
    });
    const stream = createReadStream(abs).pipe(lastByte);
    if (rule?.drop === 'body') {
      record.fault = 'drop-body';
      const cut = new Transform({
        transform(chunk: Buffer, _e, cb) {
          if (offset + chunk.length >= half) {
            this.push(chunk.subarray(0, Math.max(0, half - offset)));
            offset += chunk.length;
            setImmediate(() => res.socket?.destroy());
            return cb();
          }
          offset += chunk.length;
          cb(null, chunk);
        },
      });
      stream.pipe(cut).pipe(res);
      return;
    }
    if (rule?.corrupt) {
      record.fault = 'corrupt';
      const flip = new Transform({
        transform(chunk: Buffer, _e, cb) {
          if (half >= offset && half < offset + chunk.length) {
            chunk = Buffer.from(chunk);
            chunk[half - offset] = (chunk[half - offset] ?? 0) ^ 0xff;
          }
          offset += chunk.length;
          cb(null, chunk);
        },
      });
      stream.pipe(flip).pipe(res);
      return;
    }
    stream.pipe(res);
  };
  const server = http.createServer((req, res) => void handle(req, res));
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    port,
    requests,
    stats,
    active: () => [...active],
    setFaults(next) {
      rules = next.map((r) => ({ ...r, hits: 0 }));
    },
    setLatency(ms) {
      latency = ms;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
