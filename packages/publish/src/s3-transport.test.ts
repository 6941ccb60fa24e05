import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { createHttpClient } from '@meph/http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileBody, MephS3Handler, type SdkHttpRequest } from './s3-transport.js';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A plain HTTP server on 127.0.0.1 that records requests and answers from a script (503s first, then 200). */
let server: http.Server;
let port: number;
const seen: Seen[] = [];
let failFirst = 0;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'meph-s3-transport-'));
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() });
      if (failFirst > 0) {
        failFirst--;
        res.writeHead(503, { 'content-type': 'application/xml' }).end('<Error><Code>SlowDown</Code></Error>');
        return;
      }
      res.writeHead(200, { etag: '"abc"', 'x-amz-request-id': 'r1', 'set-cookie': ['a=1', 'b=2'] }).end(`echo:${Buffer.concat(chunks).toString()}`);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  port = (server.address() as net.AddressInfo).port;
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  await rm(dir, { recursive: true, force: true });
});

const client = () => createHttpClient({ env: {}, retries: 2, backoffMs: 1, sleep: async () => {} });
const req = (over: Partial<SdkHttpRequest>): SdkHttpRequest => ({ method: 'GET', protocol: 'http:', hostname: '127.0.0.1', port, path: '/', headers: {}, ...over });
const text = async (r: Readable): Promise<string> => {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
};

describe('MephS3Handler (the S3 client over @meph/http)', () => {
  it('sends method, escaped path and sorted query as signed, drops Expect, and answers status, joined headers and the body as a stream', async () => {
    seen.length = 0;
    const h = new MephS3Handler(client());
    const { response } = await h.handle(
      req({ method: 'PUT', path: '/bucket/a%20b/c', query: { 'list-type': '2', prefix: "x y(1)*", delete: null }, headers: { 'x-amz-date': '20261130T000000Z', expect: '100-continue', 'content-length': '5' }, body: Buffer.from('hello') }),
    );
    expect(seen[0]).toMatchObject({ method: 'PUT', url: '/bucket/a%20b/c?delete&list-type=2&prefix=x%20y%281%29%2A', body: 'hello' });
    expect(seen[0]!.headers['expect']).toBeUndefined();
    expect(seen[0]!.headers['x-amz-date']).toBe('20261130T000000Z');
    expect(response.statusCode).toBe(200);
    expect(response.headers).toMatchObject({ etag: '"abc"', 'x-amz-request-id': 'r1', 'set-cookie': 'a=1,b=2' });
    expect(response.body).toBeInstanceOf(Readable);
    expect(await text(response.body)).toBe('echo:hello');
  });

  it('retries in the transport (one layer) and sends a file body afresh on every attempt', async () => {
    seen.length = 0;
    failFirst = 2;
    const file = path.join(dir, 'big');
    await writeFile(file, 'file-bytes');
    const http = client();
    const { response } = await new MephS3Handler(http).handle(req({ method: 'PUT', path: '/b/k', headers: { 'content-length': '10' }, body: new FileBody(file) }));
    expect(response.statusCode).toBe(200);
    expect(seen.map((s) => s.body)).toEqual(['file-bytes', 'file-bytes', 'file-bytes']);
    expect(http.stats.retries).toBe(2);
  });

  it('a one-time stream body gets one attempt: the 5xx reaches the SDK as it is', async () => {
    seen.length = 0;
    failFirst = 1;
    const { response } = await new MephS3Handler(client()).handle(req({ method: 'PUT', path: '/b/k', headers: { 'content-length': '3' }, body: Readable.from([Buffer.from('one')]) }));
    expect(response.statusCode).toBe(503);
    expect(await text(response.body)).toContain('SlowDown');
    expect(seen).toHaveLength(1);
    failFirst = 0;
  });

  it('DeleteObjects (POST ?delete) is retried; other POSTs are not', async () => {
    seen.length = 0;
    failFirst = 1;
    const del = await new MephS3Handler(client()).handle(req({ method: 'POST', path: '/b', query: { delete: '' }, headers: {}, body: '<Delete/>' }));
    expect(del.response.statusCode).toBe(200);
    expect(seen).toHaveLength(2);
    seen.length = 0;
    failFirst = 1;
    const post = await new MephS3Handler(client()).handle(req({ method: 'POST', path: '/b/k', query: { uploads: null }, headers: {} }));
    expect(post.response.statusCode).toBe(503);
    expect(seen).toHaveLength(1);
    failFirst = 0;
  });

  it('refuses a key with a . or .. segment (URL parsing would send it to another key)', async () => {
    seen.length = 0;
    for (const p of ['/b/a/../c', '/b/%2E%2e/c', '/b/./c', '/b/..'])
      await expect(new MephS3Handler(client()).handle(req({ method: 'PUT', path: p, headers: {}, body: 'x' }))).rejects.toThrow('has a . or .. segment');
    expect(seen).toEqual([]);
  });

  it('an aborted signal stops the request', async () => {
    const ac = new AbortController();
    ac.abort(new Error('stop'));
    await expect(new MephS3Handler(client()).handle(req({}), { abortSignal: ac.signal })).rejects.toThrow('stop');
  });
});
