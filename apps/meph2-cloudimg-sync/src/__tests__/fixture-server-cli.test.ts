import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { REPO_ROOT } from '@meph/test-support';

const tsx = createRequire(import.meta.url).resolve('tsx');

it('tools/fixture-server/cli.ts generates a feed, serves it on 127.0.0.1 with injected faults, stops on SIGTERM', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'meph-fixture-cli-'));
  const child = spawn(process.execPath, ['--import', tsx, path.join(REPO_ROOT, 'tools/fixture-server/cli.ts'), dir, '--port', '0', '--make-feed', 'noble:24.04:amd64:20260101', '--fail', 'index\\.json$:503:1'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        const m = /serving .* at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.on('exit', (code) => reject(new Error(`exited ${code}`)));
    });
    expect((await fetch(`${url}/streams/v1/index.json`)).status).toBe(503);
    const index = (await (await fetch(`${url}/streams/v1/index.json`)).json()) as { index: Record<string, { path: string }> };
    const products = await (await fetch(`${url}/${index.index['com.ubuntu.cloud:daily:download']!.path}`)).json();
    expect(Object.keys((products as { products: object }).products)).toEqual(['com.ubuntu.cloud.daily:server:24.04:amd64']);
    const tar = await fetch(`${url}/server/noble/20260101/noble-server-cloudimg-amd64-root.tar.xz`);
    expect(Buffer.from(await tar.arrayBuffer()).subarray(0, 6)).toEqual(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])); // xz magic
    const code = await new Promise<number | null>((resolve) => {
      child.once('exit', (c) => resolve(c));
      child.kill('SIGTERM');
    });
    expect(code).toBe(0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
});
