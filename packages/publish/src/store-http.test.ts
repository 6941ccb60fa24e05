import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeHttpClient } from './store-http.js';

describe('storeHttpClient', () => {
  let server: http.Server;
  let url: string;
  let puts = 0;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      puts++;
      req.resume();
      req.on('end', () => res.writeHead(503).end());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/c/o`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const attemptsWith = async (env: NodeJS.ProcessEnv): Promise<number> => {
    puts = 0;
    const client = storeHttpClient(env);
    try {
      const reply = await client.send(url, { method: 'PUT', body: Buffer.from('x') });
      expect(reply.status).toBe(503);
    } finally {
      client.close();
    }
    return puts;
  };

  it('retries as MEPH_HTTP_RETRIES says, for Swift and S3 alike', async () => {
    expect(await attemptsWith({ MEPH_HTTP_RETRIES: '0' })).toBe(1);
    expect(await attemptsWith({ MEPH_HTTP_RETRIES: '1' })).toBe(2);
  });
});
