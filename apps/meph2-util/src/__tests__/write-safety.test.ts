/**
 * Writers never leave the target, never change metadata before they can sign it, and never
 * sign a stream `verify` would reject (issue 9 §3).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as openpgp from 'openpgp';
import { runCliCaptured } from '@meph/test-support';
import { spec } from '../main.js';
import { assertStreamIntact, listFiles, makeStream, NOBLE, productId, productsPath, tempDir, throwAwayKey } from './stream-fixture.js';

let dir: string;
let key: { home: string; secretKey: string; keyring: string };
const { MEPH_SIGNING_PASSPHRASE: _unused, ...inherited } = process.env;
const baseEnv = { ...inherited, MEPH_SIGNING_KEY: '', MEPH_GPG_KEY: '', MEPH_KEYRING: '', MEPH_SIGNING_PASSPHRASE_FILE: '' };
const run = (args: string[], env: NodeJS.ProcessEnv = {}) => runCliCaptured(spec, args, { cwd: dir, env: { ...baseEnv, ...env } });

beforeAll(async () => {
  dir = await tempDir('meph-write-safety-');
  key = await throwAwayKey(dir);
  await makeStream(path.join(dir, 'base'), { serials: ['20260701', '20260710', '20260720'], releases: [NOBLE], fileBytes: 64 });
  await makeStream(path.join(dir, 'newer'), { serials: ['20260722'], releases: [NOBLE], fileBytes: 64 });
}, 60_000);
afterAll(async () => {
  spawnSync('gpgconf', ['--kill', 'all'], { env: { ...process.env, GNUPGHOME: key?.home } });
  await fs.rm(dir, { recursive: true, force: true });
});

async function copyOf(from: string, name: string): Promise<string> {
  await fs.cp(path.join(dir, from), path.join(dir, name), { recursive: true, verbatimSymlinks: true });
  return path.join(dir, name);
}

/** Every file (symlinks as their target) with its content hash: "nothing changed" is equality. */
async function snapshot(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const rel of await listFiles(root)) {
    const abs = path.join(root, rel);
    const st = await fs.lstat(abs);
    out[rel] = st.isSymbolicLink() ? `-> ${await fs.readlink(abs)}` : `${(st.mode & 0o777).toString(8)} ${createHash('sha256').update(await fs.readFile(abs)).digest('hex')}`;
  }
  return out;
}

function oneLine(stderr: string): string {
  const lines = stderr.trim().split('\n');
  expect(lines, stderr).toHaveLength(1);
  expect(stderr).not.toMatch(/internal error|\n\s+at /);
  return lines[0]!;
}

describe('no writes outside the target through symlinks', () => {
  it('insert refuses a version directory linked outside (the issue\'s example) and writes nothing there', async () => {
    const target = await copyOf('base', 'sA');
    const outside = path.join(dir, 'outside', 'evilA');
    await fs.mkdir(outside, { recursive: true });
    await fs.mkdir(path.join(target, 'noble/amd64'), { recursive: true });
    await fs.symlink(outside, path.join(target, 'noble/amd64/20260722'));
    const before = await snapshot(target);
    const r = await run(['insert', '-u', 'newer', 'sA']);
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toMatch(/refusing unsafe path "noble\/amd64\/20260722\/.*": would be written outside the target through the symlink .*sA\/noble\/amd64\/20260722 -> .*outside\/evilA/);
    expect(await fs.readdir(outside)).toEqual([]);
    expect(await snapshot(target)).toEqual(before);
  });

  it('copy-version refuses a TO directory linked outside', async () => {
    const target = await copyOf('base', 'sB');
    const outside = path.join(dir, 'outside', 'evilB');
    await fs.mkdir(outside, { recursive: true });
    await fs.symlink(outside, path.join(target, 'noble/amd64/20260799'));
    const r = await run(['copy-version', '-u', 'sB', '20260720', '20260799']);
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toContain('would be written outside the target through the symlink');
    expect(await fs.readdir(outside)).toEqual([]);
  });

  it('a symlinked streams/ leading outside is refused: index and products stay where they are', async () => {
    const target = await copyOf('base', 'sC');
    const elsewhere = path.join(dir, 'outside', 'streamsC');
    await fs.rename(path.join(target, 'streams'), elsewhere);
    await fs.symlink(elsewhere, path.join(target, 'streams'));
    const before = await snapshot(elsewhere);
    for (const args of [['insert', '-u', 'newer', 'sC'], ['clean-md', '-u', '1', 'sC'], ['sign', '--key', key.secretKey, 'sC']]) {
      const r = await run(args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(oneLine(r.stderr)).toMatch(/through the symlink .*sC\/streams ->/);
    }
    expect(await snapshot(elsewhere)).toEqual(before);
  });

  it('the README\'s shared pool (a top-level link such as daily/data -> ../data) keeps working, and symlinks inside the target are fine', async () => {
    const target = await copyOf('base', 'pooled');
    const pool = path.join(dir, 'pool-noble');
    await fs.rename(path.join(target, 'noble'), pool);
    await fs.symlink('../pool-noble', path.join(target, 'noble'));
    const r = await run(['insert', '-u', 'newer', 'pooled']);
    expect(r.code, r.stderr).toBe(0);
    expect((await fs.lstat(path.join(pool, 'amd64/20260722/squashfs'))).isFile()).toBe(true);
    await assertStreamIntact(target);
    // ... but a link inside the pool that leaves it is refused like any other
    await fs.symlink(path.join(dir, 'outside'), path.join(pool, 'amd64/20260799'));
    const cv = await run(['copy-version', '-u', 'pooled', '20260722', '20260799']);
    expect(cv.code).toBe(1);
    expect(oneLine(cv.stderr)).toContain('would be written outside the target');
  });
});

describe('the key is proved before anything changes', () => {
  let ppKey: string;
  let ppRight: string;
  let ppWrong: string;
  let expiredKey: string;
  beforeAll(async () => {
    const pp = await openpgp.generateKey({ userIDs: [{ email: 'pp@example.invalid' }], passphrase: 'correct horse', format: 'armored' });
    ppKey = path.join(dir, 'pw.sec.asc');
    await fs.writeFile(ppKey, pp.privateKey, { mode: 0o600 });
    ppRight = path.join(dir, 'pp.right');
    ppWrong = path.join(dir, 'pp.wrong');
    await fs.writeFile(ppRight, 'correct horse\n');
    await fs.writeFile(ppWrong, 'battery staple\n');
    // a key that expired a second after it was made
    const created = new Date(Date.now() - 60_000);
    const old = await openpgp.generateKey({ userIDs: [{ email: 'old@example.invalid' }], keyExpirationTime: 1, date: created, format: 'armored' });
    expiredKey = path.join(dir, 'expired.sec.asc');
    await fs.writeFile(expiredKey, old.privateKey, { mode: 0o600 });
  });

  it('clean-md with a wrong passphrase: one line, exit non-zero, the stream byte for byte as it was', async () => {
    const target = await copyOf('base', 'sk2');
    expect((await run(['sign', '--key', ppKey, '--passphrase-file', ppRight, 'sk2'])).code).toBe(0);
    const before = await snapshot(target);
    const r = await run(['clean-md', '--key', ppKey, '--passphrase-file', ppWrong, '1', 'sk2']);
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toMatch(/^meph2-util: error: secret key [0-9A-F]{16}: cannot unlock it/);
    expect(await snapshot(target)).toEqual(before);
    // the right passphrase: index, products and their signatures change together
    const ok = await run(['clean-md', '--key', ppKey, '--passphrase-file', ppRight, '1', 'sk2']);
    expect(ok.code, ok.stderr).toBe(0);
  });

  it('an expired key: one line naming the key, nothing changed (no stack trace, no rc 70)', async () => {
    const target = await copyOf('base', 'sk3');
    const before = await snapshot(target);
    for (const args of [['clean-md', '--key', expiredKey, '1', 'sk3'], ['insert', '--key', expiredKey, 'newer', 'sk3'], ['sign', '--key', expiredKey, 'sk3']]) {
      const r = await run(args);
      expect(r.code, args[0]).toBe(1);
      expect(oneLine(r.stderr)).toMatch(/^meph2-util: error: cannot sign with key .*expired\.sec\.asc: .*expired.*nothing was changed/i);
    }
    expect(await snapshot(target)).toEqual(before);
  });

  it('--passphrase-file /nonexistent: one line naming the file', async () => {
    const target = await copyOf('base', 'sk4');
    const before = await snapshot(target);
    const r = await run(['clean-md', '--key', ppKey, '--passphrase-file', '/nonexistent', '1', 'sk4']);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toBe('meph2-util: error: passphrase file /nonexistent (--passphrase-file): no such file (give a readable file whose first line is the passphrase)');
    expect(await snapshot(target)).toEqual(before);
  });

  it('a signed insert commits each document with its signatures: twins agree and verify passes', async () => {
    const target = await copyOf('base', 'sk5');
    expect((await run(['sign', '--key', key.secretKey, 'sk5'])).code).toBe(0);
    const r = await run(['insert', '--json', '--key', key.secretKey, 'newer', 'sk5']);
    expect(r.code, r.stderr).toBe(0);
    // nothing left for the signing pass after the commit: every document was signed as it was written
    const signed = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; written?: number }).find((e) => e.type === 'stream-signed');
    expect(signed?.written).toBe(0);
    const v = await run(['verify', '--keyring', key.keyring, 'sk5']);
    expect(v.stdout, v.stderr).toMatch(/^OK: /m);
    expect(v.code).toBe(0);
    expect(await fs.readdir(path.join(target, 'streams/v1'))).toEqual(
      ['com.ubuntu.maas:candidate:v3:download.json', 'com.ubuntu.maas:candidate:v3:download.json.gpg', 'com.ubuntu.maas:candidate:v3:download.sjson', 'index.json', 'index.json.gpg', 'index.sjson'].sort(),
    );
  });
});

describe('sign refuses what verify rejects', () => {
  const products = productsPath('candidate');
  async function broken(name: string, edit: (doc: Record<string, any>) => void): Promise<string> {
    const root = await copyOf('base', name);
    const file = path.join(root, products);
    const doc = JSON.parse(await fs.readFile(file, 'utf8'));
    edit(doc);
    await fs.writeFile(file, JSON.stringify(doc, null, 1));
    return root;
  }
  const squashfs = (doc: Record<string, any>) => doc['products'][productId('candidate', NOBLE, 'amd64', 'ga-24.04')].versions['20260720'].items.squashfs;

  it.each([
    ['item path /etc/passwd', 'b1', (d: Record<string, any>) => void (squashfs(d).path = '/etc/passwd'), /refusing unsafe path "\/etc\/passwd": is absolute/],
    ['item path ../..', 'b2', (d: Record<string, any>) => void (squashfs(d).path = '../..'), /refusing unsafe path "\.\.\/\.\.": contains a "\.\." segment/],
    ['empty item path', 'b3', (d: Record<string, any>) => void (squashfs(d).path = ''), /has an empty "path"/],
    ['products:7.0 document', 'b4', (d: Record<string, any>) => void (d['format'] = 'products:7.0'), /products:7\.0|format/],
  ])('%s → refused, one line, nothing signed', async (_what, name, edit, message) => {
    const root = await broken(name, edit);
    const before = await snapshot(root);
    const r = await run(['sign', '--key', key.secretKey, name]);
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toMatch(message);
    expect(await snapshot(root)).toEqual(before);
  });

  it('a products file the index lists but that is missing → refused instead of signing an empty index', async () => {
    const root = await copyOf('base', 'b5');
    await fs.rm(path.join(root, products));
    const before = await snapshot(root);
    const r = await run(['sign', '--key', key.secretKey, 'b5']);
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toContain(`${products}: no such file (referenced by streams/v1/index.json`);
    expect(await snapshot(root)).toEqual(before);
  });

  it('verify --data fails on an empty item path', async () => {
    await broken('b6', (d) => void (squashfs(d).path = ''));
    const r = await run(['verify', '--no-verify', '--data', 'b6']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/error data: .*empty "path"/);
  });
});

describe('permissions do not depend on the umask', () => {
  it('under umask 077 insert writes metadata and data 0644 and directories 0755', async () => {
    const target = await copyOf('base', 'um');
    const old = process.umask(0o077);
    let r;
    let fresh;
    try {
      r = await run(['insert', '-u', 'newer', 'um']);
      fresh = await run(['insert', '-u', 'newer', 'um-new/mirror']); // a new target and its parents
    } finally {
      process.umask(old);
    }
    expect(r.code, r.stderr).toBe(0);
    expect(fresh.code, fresh.stderr).toBe(0);
    for (const rel of ['um-new', 'um-new/mirror', 'um-new/mirror/streams', 'um-new/mirror/streams/v1']) {
      expect(((await fs.stat(path.join(dir, rel))).mode & 0o777).toString(8), rel).toBe('755');
    }
    for (const rel of ['streams/v1/index.json', products(), 'noble/amd64/20260722/squashfs', 'noble/amd64/20260722/ga-24.04/generic/boot-kernel']) {
      expect(((await fs.stat(path.join(target, rel))).mode & 0o777).toString(8), rel).toBe('644');
    }
    for (const rel of ['noble/amd64/20260722', 'noble/amd64/20260722/ga-24.04', 'noble/amd64/20260722/ga-24.04/generic']) {
      expect(((await fs.stat(path.join(target, rel))).mode & 0o777).toString(8), rel).toBe('755');
    }
  });
  function products(): string {
    return productsPath('candidate');
  }
});
