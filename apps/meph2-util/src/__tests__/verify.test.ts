import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runCliCaptured, SHARED_DIR } from '@meph/test-support';
import { spec } from '../main.js';
import { makeStream, NOBLE, productsPath, tempDir, throwAwayKey } from './stream-fixture.js';

const STREAMS = path.join(SHARED_DIR, 'reference', 'streams');
const KEYS = path.join(STREAMS, 'keys');

let dir: string;
let key: { home: string; secretKey: string; keyring: string };
const env = { ...process.env, MEPH_SIGNING_KEY: '', MEPH_GPG_KEY: '', MEPH_KEYRING: '' };
const run = (args: string[]) => runCliCaptured(spec, args, { cwd: dir, env });
const PRODUCTS = productsPath('candidate');
const PRODUCTS_SJSON = PRODUCTS.replace(/\.json$/, '.sjson');

beforeAll(async () => {
  dir = await tempDir('meph-verify-cli-');
  key = await throwAwayKey(dir);
  await makeStream(path.join(dir, 'good'), { serials: ['20260720'], releases: [NOBLE], fileBytes: 64 });
  const signed = await run(['sign', '--key', key.secretKey, 'good']);
  if (signed.code !== 0) throw new Error(signed.stderr);
}, 30_000);
afterAll(async () => {
  spawnSync('gpgconf', ['--kill', 'all'], { env: { ...process.env, GNUPGHOME: key?.home } });
  await fs.rm(dir, { recursive: true, force: true });
});

async function copy(name: string): Promise<string> {
  await fs.cp(path.join(dir, 'good'), path.join(dir, name), { recursive: true });
  return path.join(dir, name);
}

async function edit(file: string, from: string | RegExp, to: string): Promise<void> {
  const text = await fs.readFile(file, 'utf8');
  const changed = text.replace(from, to);
  if (changed === text) throw new Error(`test setup: ${String(from)} not found in ${file}`);
  await fs.writeFile(file, changed);
}

/** Finding lines of the human output (everything but the summary). */
function findingLines(stdout: string): string[] {
  return stdout.trim().split('\n').filter((l) => l && !/^(OK|FAILED): /.test(l));
}

describe('meph2-util verify', () => {
  it('a stream signed by `sign` passes every check, with --data', async () => {
    const r = await run(['verify', '--keyring', key.keyring, '--data', 'good']);
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe('OK: good: 2 document(s), 4/4 signature(s) good, 6 file(s) checked; 0 error(s), 0 warning(s)');
  });

  it('a changed byte in a signed file, a detached signature or an item file each fail, one line each', async () => {
    const root = await copy('tampered');
    await edit(path.join(root, PRODUCTS_SJSON), '"arch": "amd64"', '"arch": "amd65"');
    await edit(path.join(root, 'streams/v1/index.json'), '"datatype": "image-downloads"', '"datatype": "image-downloadz"');
    const squash = path.join(root, 'noble/amd64/20260720/squashfs');
    const bytes = await fs.readFile(squash);
    bytes[10] = bytes[10]! ^ 1;
    await fs.writeFile(squash, bytes);

    const r = await run(['verify', '--keyring', key.keyring, '--data', 'tampered']);
    expect(r.code).toBe(1);
    const lines = findingLines(r.stdout);
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^error signature: .*${PRODUCTS_SJSON.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: content does not match the signature by key [0-9A-F]{16}`)));
    expect(lines).toContainEqual(expect.stringMatching(/^error signature: streams\/v1\/index\.json\.gpg: content does not match the signature/));
    expect(lines).toContainEqual(expect.stringMatching(/^error index: streams\/v1\/index\.sjson: says something else than streams\/v1\/index\.json/));
    expect(lines).toContainEqual(expect.stringMatching(/^error data: .*squashfs: sha256 mismatch.*\[com\.ubuntu\.maas\.candidate:v3:boot:24\.04:amd64:ga-24\.04 20260720 squashfs\]/));
    expect(r.stdout).toMatch(/^FAILED: tampered: .* (\d+) error\(s\)/m);
  });

  it('index and products disagreeing: product lists, content id, unlisted products file', async () => {
    const root = await copy('disagree');
    const index = JSON.parse(await fs.readFile(path.join(root, 'streams/v1/index.json'), 'utf8'));
    const entry = index.index['com.ubuntu.maas:candidate:v3:download'];
    entry.products = [...entry.products.slice(1), 'com.ubuntu.maas.candidate:v3:boot:24.04:amd64:ghost'];
    await fs.writeFile(path.join(root, 'streams/v1/index.json'), JSON.stringify(index, null, 1));
    await edit(path.join(root, PRODUCTS), '"content_id": "com.ubuntu.maas:candidate:v3:download"', '"content_id": "com.example:renamed"');
    // An unsigned stream: only the .json files are left.
    for (const f of await fs.readdir(path.join(root, 'streams/v1'))) if (!f.endsWith('.json')) await fs.rm(path.join(root, 'streams/v1', f));
    await fs.writeFile(path.join(root, 'streams/v1/stray.json'), JSON.stringify({ format: 'products:1.0', content_id: 'com.example:stray', products: {} }));
    const r = await run(['verify', '--no-verify', 'disagree']);
    expect(r.code).toBe(1);
    const lines = findingLines(r.stdout);
    expect(lines).toContainEqual(expect.stringMatching(/^error index: .*lists product\(s\) the file does not have: com\.ubuntu\.maas\.candidate:v3:boot:24\.04:amd64:ghost/));
    expect(lines).toContainEqual(expect.stringMatching(/^error index: .*product\(s\) missing from the product list in .*: com\.ubuntu\.maas\.candidate:v3:boot:24\.04:amd64:ga-24\.04/));
    expect(lines).toContainEqual(expect.stringMatching(/^error index: .*content_id is "com\.example:renamed" but streams\/v1\/index\.json lists it as "com\.ubuntu\.maas:candidate:v3:download"/));
    expect(lines).toContainEqual(expect.stringMatching(/^error index: streams\/v1\/stray\.json: products file is not listed in streams\/v1\/index\.json/));
    expect(r.stdout).toMatch(/signatures not checked \(--no-verify\)/);
  });

  it('--json prints one object per finding and a summary', async () => {
    const root = await copy('json');
    await fs.rm(path.join(root, PRODUCTS_SJSON));
    const r = await run(['--json', 'verify', '--keyring', key.keyring, 'json']);
    expect(r.code).toBe(1);
    const objects = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const findings = objects.filter((o) => o['type'] === 'finding');
    expect(findings).toContainEqual(expect.objectContaining({ check: 'signature', severity: 'error', file: PRODUCTS_SJSON }));
    expect(objects.at(-1)).toMatchObject({ type: 'summary', ok: false, errors: findings.filter((f) => f['severity'] !== 'warning').length });
  });

  it('wrong key: unknown key, naming the key id; unsigned stream with a keyring: says it is not signed', async () => {
    const r = await run(['verify', '--keyring', path.join(KEYS, 'ubuntu-cloud-image-builder-476CF100.gpg'), 'good']);
    expect(r.code).toBe(1);
    expect(findingLines(r.stdout).every((l) => /^error signature: .*signed by unknown key [0-9A-F]{16}/.test(l))).toBe(true);
    const unsigned = await copy('unsigned');
    for (const f of await fs.readdir(path.join(unsigned, 'streams/v1'))) if (!f.endsWith('.json')) await fs.rm(path.join(unsigned, 'streams/v1', f));
    const u = await run(['verify', '--keyring', key.keyring, 'unsigned']);
    expect(u.code).toBe(1);
    expect(u.stdout).toMatch(/^error signature: streams\/v1\/index\.sjson: missing: the stream is not signed/m);
  });

  it('works over HTTP (real server on 127.0.0.1), with --data', async () => {
    const root = path.join(dir, 'good');
    const server = http.createServer((req, res) => {
      const rel = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).replace(/^\/mirror\//, '');
      fs.readFile(path.join(root, rel)).then(
        (data) => {
          res.writeHead(200, { 'content-length': data.length });
          res.end(req.method === 'HEAD' ? undefined : data);
        },
        () => {
          res.writeHead(404);
          res.end();
        },
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mirror/`;
      const r = await run(['verify', '--keyring', key.keyring, '--data', url]);
      expect(r.stderr).not.toMatch(/error/);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^OK: .*4\/4 signature\(s\) good, 6 file\(s\) checked/m);
    } finally {
      server.close();
    }
  });

  it('reference: the Juju-key index verifies only with --allow-weak-signatures', async () => {
    const stream = path.join(STREAMS, 'cloud-images-2016-index-juju-testkey');
    const ring = path.join(KEYS, 'juju-test-key-607AEAF0.gpg');
    const strict = await run(['verify', '--keyring', ring, stream]);
    expect(strict.code).toBe(1);
    expect(findingLines(strict.stdout)).toEqual([
      'error signature: streams/v1/index.sjson: signature by key B8ADEEA9607AEAF0 uses a weak algorithm (RSA-1024 key) (if you trust this old key, pass --allow-weak-signatures)',
    ]);
    const weak = await run(['verify', '--allow-weak-signatures', '--keyring', ring, stream]);
    // The signature is good; the products files it lists are not in the reference data.
    expect(weak.stdout).toMatch(/1\/1 signature\(s\) good/);
    expect(findingLines(weak.stdout).every((l) => /^error index: streams\/v1\/.*\.sjson: no such file/.test(l))).toBe(true);
  });

  it('usage: no keyring is a one-line error; --maas runs the MAAS rules', async () => {
    const r = await run(['verify', 'good']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('meph2-util: error: no keyring to check signatures with (give --keyring FILE (or set MEPH_KEYRING), or --no-verify to skip signature checks)');
    const maas = await run(['verify', '--no-verify', '--maas', path.join(STREAMS, 'maas-sitemanager-fixture', 'ss_product_noble.json')]);
    expect(maas.code).toBe(1);
    expect(findingLines(maas.stdout)).toContainEqual(expect.stringMatching(/^fatal maas R-PROD-06 \(MAAS 3\.8\): .*"updated" is missing.* → MAAS 3\.8 rejects the whole boot source/));
    const h = await run(['verify', '--help']);
    expect(h.stdout).toMatch(/--allow-weak-signatures/);
    expect(h.stdout).toMatch(/Examples:/);
  });

  it('--maas: a real-shaped stable stream (hwe/edge without own subarch, noble) is accepted; --maas-lts checks another release', async () => {
    const stable = path.join(REPO_ROOT, 'packages/maas-rules/src/__fixtures__/accepted/stable-full');
    const ok = await run(['verify', '--no-verify', '--maas', stable]);
    expect(ok.stdout, ok.stdout).toMatch(/^OK: .*0 MAAS finding\(s\); 0 error\(s\), 0 warning\(s\)$/m);
    expect(ok.code).toBe(0);
    const other = await run(['verify', '--no-verify', '--maas', '--maas-lts', 'resolute', stable]);
    expect(other.code).toBe(0); // a warning
    expect(findingLines(other.stdout)).toEqual([expect.stringMatching(/^warning maas R-FILTER-29 \(MAAS 3\.7\+3\.8\): no Ubuntu "resolute" amd64 image/)]);
    const noMaas = await run(['verify', '--no-verify', '--maas-lts', 'resolute', stable]);
    expect(noMaas.code).toBe(2);
    expect(noMaas.stderr.trim()).toBe('meph2-util: error: --maas-lts only applies to the MAAS checks (add --maas)');
    const bad = await run(['verify', '--no-verify', '--maas', '--maas-lts', '26.04', stable]);
    expect(bad.code).toBe(2);
    expect((await run(['verify', '--help'])).stdout).toMatch(/--maas-lts[\s\S]*noble for 3\.7 and 3\.8/);
  });
});
