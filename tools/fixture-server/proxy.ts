/**
 * Loopback proxies and a TLS origin for tests of proxy support: an HTTP forward proxy that
 * answers absolute-URI requests (plain http_proxy use) and CONNECT tunnels (https_proxy use),
 * resolving every host name it is asked for to 127.0.0.1 so tests can use names that exist
 * only for the proxy (`*.fixture.invalid`). Records what it was asked for.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

export interface FixtureProxy {
  url: string;
  /** Absolute URIs of forwarded plain requests. */
  requests: string[];
  /** `host:port` of each CONNECT tunnel. */
  tunnels: string[];
  close(): Promise<void>;
}

export interface FixtureProxyOptions {
  /** Refuse CONNECT to hosts not matching (403). */
  allowConnect?: RegExp;
}

function track(server: http.Server | https.Server): () => Promise<void> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
}

export async function startFixtureProxy(options: FixtureProxyOptions = {}): Promise<FixtureProxy> {
  const requests: string[] = [];
  const tunnels: string[] = [];
  const upstreams = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    requests.push(req.url ?? '');
    let target: URL;
    try {
      target = new URL(req.url ?? '');
    } catch {
      res.writeHead(400).end();
      return;
    }
    const up = http.request(
      { host: '127.0.0.1', port: target.port || 80, path: `${target.pathname}${target.search}`, method: req.method, headers: req.headers },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
        r.on('error', () => res.destroy());
        r.on('aborted', () => res.destroy());
      },
    );
    up.on('error', () => (res.headersSent ? res.destroy() : res.writeHead(502).end()));
    req.pipe(up);
  });
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    const hostPort = req.url ?? '';
    tunnels.push(hostPort);
    if (options.allowConnect && !options.allowConnect.test(hostPort)) {
      client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    const port = Number(hostPort.split(':').pop());
    const upstream = net.connect(port, '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstreams.add(upstream);
    upstream.on('error', () => client.destroy());
    upstream.on('close', () => client.destroy());
    client.on('error', () => upstream.destroy());
    client.on('close', () => upstream.destroy());
  });
  const close = track(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    requests,
    tunnels,
    close: async () => {
      for (const u of upstreams) u.destroy();
      await close();
    },
  };
}

export interface FixtureTlsServer {
  port: number;
  /** The self-signed certificate, to pass as a trusted CA. */
  cert: Buffer;
  close(): Promise<void>;
}

/**
 * An https server for `hostname` (self-signed with openssl) that forwards every request to the
 * plain http server on 127.0.0.1:`backendPort`.
 */
export async function startTlsFrontend(backendPort: number, hostname = 'archive.fixture.invalid'): Promise<FixtureTlsServer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'meph-tls-'));
  try {
    await promisify(execFile)('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', `/CN=${hostname}`,
      '-addext', `subjectAltName=DNS:${hostname}`, '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'),
    ]);
    const cert = await readFile(path.join(dir, 'cert.pem'));
    const server = https.createServer({ key: await readFile(path.join(dir, 'key.pem')), cert }, (req, res) => {
      const up = http.request({ host: '127.0.0.1', port: backendPort, path: req.url, method: req.method, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
        r.on('aborted', () => res.destroy());
      });
      up.on('error', () => (res.headersSent ? res.destroy() : res.writeHead(502).end()));
      req.pipe(up);
    });
    const close = track(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    return { port: (server.address() as net.AddressInfo).port, cert, close };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
