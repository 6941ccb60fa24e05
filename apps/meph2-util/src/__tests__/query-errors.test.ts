import { cp, mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runAppProcess, runCliCaptured, SHARED_DIR } from '@meph/test-support';
import { spec } from '../main.js';

const STREAMS = path.join(SHARED_DIR, 'reference/streams');
const MINIMAL = path.join(STREAMS, 'simplestreams-examples/minimal');
const JUJU = path.join(STREAMS, 'cloud-images-2016-index-juju-testkey');
const JUJU_KEYRING = path.join(STREAMS, 'keys/juju-test-key-607AEAF0.gpg');

/** A bad-input run: non-zero exit, exactly one branded line on stderr, no stack trace. */
async function failsCleanly(args: string[], cwd: string, expected: RegExp, code = 1): Promise<string> {
  const r = await runCliCaptured(spec, ['query', ...args], { cwd });
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(/^meph2-util: error: [^\n]+\n$/);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.stderr).toMatch(expected);
  expect(r.code).toBe(code);
  return r.stderr;
}

describe('meph2-util query on bad input', () => {
  let dir: string;
  let server: http.Server;
  let base: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'meph-query-'));
    const copy = async (name: string): Promise<string> => {
      const root = path.join(dir, name);
      await cp(MINIMAL, root, { recursive: true });
      return root;
    };
    const download = path.join(MINIMAL, 'streams/v1/download.json');
    const text = await readFile(download, 'utf8');
    await writeFile(path.join(await copy('truncated'), 'streams/v1/download.json'), text.slice(0, text.length - 40));
    await writeFile(path.join(await copy('wrong-format'), 'streams/v1/download.json'), text.replace('"products:1.0"', '"products:2.0"'));
    await rm(path.join(await copy('missing'), 'streams/v1/download.json'));
    await writeFile(path.join(await copy('traversal'), 'streams/v1/download.json'), text.replace('"product1/20150915/root.img"', '"../../../../etc/passwd"'));
    const signed = path.join(dir, 'tampered/streams/v1');
    await mkdir(signed, { recursive: true });
    const sjson = await readFile(path.join(JUJU, 'streams/v1/index.sjson'), 'utf8');
    await writeFile(path.join(signed, 'index.sjson'), sjson.replace('"cloudname": "aws-cn"', '"cloudname": "aws-XX"'));
    await mkdir(path.join(dir, 'unsigned/streams/v1'), { recursive: true });
    await writeFile(path.join(dir, 'unsigned/streams/v1/index.sjson'), await readFile(path.join(MINIMAL, 'streams/v1/index.json')));

    // A real HTTP server: /status/NNN/... answers NNN, everything else is served from STREAMS.
    server = http.createServer((req, res) => {
      const p = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      const forced = /^\/status\/(\d{3})\//.exec(p);
      if (forced) return void res.writeHead(Number(forced[1])).end();
      const file = path.join(STREAMS, p);
      const stream = createReadStream(file);
      stream.on('error', () => res.writeHead(404).end());
      stream.on('open', () => stream.pipe(res));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it('truncated JSON: names the file with line and column', async () => {
    await failsCleanly(['./streams/v1/index.json'], path.join(dir, 'truncated'), /^meph2-util: error: \.\/streams\/v1\/download\.json:\d+:\d+: invalid JSON: unexpected end of input/);
  });

  it('wrong format', async () => {
    await failsCleanly(['./streams/v1/index.json'], path.join(dir, 'wrong-format'), /\.\/streams\/v1\/download\.json: format is "products:2\.0", expected "index:1\.0" or "products:1\.0"/);
  });

  it('a products file missing from the index names both', async () => {
    await failsCleanly(['./streams/v1/index.json'], path.join(dir, 'missing'), /: \.\/streams\/v1\/download\.json: no such file \(referenced by \.\/streams\/v1\/index\.json\)\n$/);
  });

  it('a traversal item path is refused', async () => {
    await failsCleanly(['./streams/v1/index.json'], path.join(dir, 'traversal'), /\.\/streams\/v1\/download\.json: refusing unsafe path "\.\.\/\.\.\/\.\.\/\.\.\/etc\/passwd"/);
  });

  it('HTTP 404 and 500 name the URL and status', async () => {
    await failsCleanly([`${base}no/such/streams/v1/index.json`], dir, new RegExp(`${base}no/such/streams/v1/index\\.json: HTTP 404`));
    await failsCleanly([`${base}status/500/streams/v1/index.json`], dir, new RegExp(`${base}status/500/streams/v1/index\\.json: HTTP 500`));
  });

  it('a bad signature fails when signatures are required', async () => {
    await failsCleanly(['--keyring', JUJU_KEYRING, '--allow-weak-signatures', './streams/v1/index.sjson'], path.join(dir, 'tampered'), /index\.sjson: content does not match the signature/);
  });

  it('an unsigned document fails when signatures are required', async () => {
    await failsCleanly(['--keyring', JUJU_KEYRING, './streams/v1/index.sjson'], path.join(dir, 'unsigned'), /index\.sjson: .*not signed/);
    // Starting from a .sjson requires signatures even without --keyring, like sstream-query.
    await failsCleanly(['./streams/v1/index.sjson'], path.join(dir, 'unsigned'), /index\.sjson: is not signed, and signatures are required \(the stream was opened at a \.sjson/);
  });

  it('bad filters, --max and output formats', async () => {
    await failsCleanly(['./streams/v1/index.json', 'arch'], MINIMAL, /invalid filter "arch"/);
    await failsCleanly(['./streams/v1/index.json', 'arch~('], MINIMAL, /invalid filter "arch~\(": bad regular expression/);
    await failsCleanly(['--max', '-1', './streams/v1/index.json'], MINIMAL, /--max must be a whole number/, 2);
    await failsCleanly(['-o', '%(size)d', './streams/v1/index.json'], MINIMAL, /invalid output format/);
    await failsCleanly(['--json', '-o', '%(size)s', './streams/v1/index.json'], MINIMAL, /cannot be used together/, 2);
  });

  it('as a real process: exit code 1 and one line', async () => {
    const r = await runAppProcess('meph2-util', ['query', './streams/v1/index.json'], { cwd: path.join(dir, 'missing') });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('meph2-util: error: ./streams/v1/download.json: no such file (referenced by ./streams/v1/index.json)\n');
  });
});

describe('meph2-util query on good input', () => {
  it('the main job: one products file, newest version, Python-style records', async () => {
    const r = await runCliCaptured(spec, ['query', '--max', '1', '../shared/reference/streams/maas-sitemanager-fixture/ss_product_noble.json'], { cwd: REPO_ROOT });
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    for (const line of lines) {
      expect(line).toMatch(/^\{'content_id': 'com\.ubuntu\.maas:stable:v3:download', .*'version_name': '20250805', .*'item_name': '[a-z-]+', 'item_url': '\.\.\/shared\/reference\/streams\/maas-sitemanager-fixture\/noble\/amd64\/20250805\/.*'\}$/);
    }
  });

  it('-o with a field some items lack skips them with a warning, like the reference', async () => {
    const r = await runCliCaptured(spec, ['query', './streams/v1/index.json', '-o', '%(item_name)s %(root_store)s'], { cwd: path.join(STREAMS, 'simplestreams-examples/foocloud') });
    expect(r.code).toBe(0);
    expect(r.stdout.trimEnd().split('\n').every((l) => /^usee1p[ei] (ebs|instance-store)$/.test(l))).toBe(true);
    expect(r.stderr.trimEnd().split('\n').every((l) => /^warning: output format failed: item \S+ \S+ \S+ has no field "root_store"; skipped$/.test(l))).toBe(true);
  });

  it('a URL answers like the directory, with item_url under the URL', async () => {
    const server = http.createServer((req, res) => {
      const file = path.join(STREAMS, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
      const s = createReadStream(file);
      s.on('error', () => res.writeHead(404).end());
      s.on('open', () => s.pipe(res));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/simplestreams-examples/foocloud/`;
      const remote = await runCliCaptured(spec, ['query', '--json', url, 'arch=amd64', '--max=1']);
      const local = await runCliCaptured(spec, ['query', '--json', './streams/v1/index.json', 'arch=amd64', '--max=1'], { cwd: path.join(STREAMS, 'simplestreams-examples/foocloud') });
      expect(remote.code).toBe(0);
      expect(remote.stdout).toBe(local.stdout.replaceAll('"./files/', `"${url}files/`));
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
