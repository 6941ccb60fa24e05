/**
 * One signature policy for every reader (issue 10, "Signing defaults"): a signed file is
 * verified or the command fails unless --no-verify; a .json is read as it is even with
 * --keyring. Plus the CLI side of strict clearsign parsing and expired keys (issue 9 §3).
 * Real GnuPG keys and signatures throughout.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliCaptured } from '@meph/test-support';
import { spec } from '../main.js';
import { makeStream, NOBLE, tempDir, throwAwayKey } from './stream-fixture.js';

let dir: string;
let key: { home: string; secretKey: string; keyring: string };
const env = { ...process.env, MEPH_SIGNING_KEY: '', MEPH_GPG_KEY: '', MEPH_KEYRING: '' };
const run = (args: string[]) => runCliCaptured(spec, args, { cwd: dir, env });
const V1 = 'streams/v1';

beforeAll(async () => {
  dir = await tempDir('meph-sigpolicy-');
  key = await throwAwayKey(path.join(dir, 'key'));
  await makeStream(path.join(dir, 'src'), { serials: ['20260720'], releases: [NOBLE] });
  await fs.cp(path.join(dir, 'src'), path.join(dir, 'signed'), { recursive: true });
  const s = await run(['sign', '--key', key.secretKey, 'signed']);
  if (s.code !== 0) throw new Error(s.stderr);
  // A mirror that publishes only signed metadata (no .json twins).
  await fs.cp(path.join(dir, 'signed'), path.join(dir, 'sjson-only'), { recursive: true });
  for (const f of await fs.readdir(path.join(dir, 'sjson-only', V1))) if (!f.endsWith('.sjson')) await fs.rm(path.join(dir, 'sjson-only', V1, f));
}, 60_000);
afterAll(async () => {
  spawnSync('gpgconf', ['--kill', 'all'], { env: { ...process.env, GNUPGHOME: key.home } });
  await fs.rm(dir, { recursive: true, force: true });
});

function failsInOneLine(r: { code: number; stderr: string }, why: RegExp): void {
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(why);
  expect(r.stderr).not.toContain('    at ');
}

describe('a .json is read as it is, even with --keyring (as the original)', () => {
  it.each([
    ['insert', ['insert', '-u', '--keyring', 'KEYRING', 'src/streams/v1/index.json', 'json-insert']],
    ['promote', ['promote', '-u', '--keyring', 'KEYRING', 'src/streams/v1/index.json', 'json-promote', '20260720']],
    ['query', ['query', '--keyring', 'KEYRING', 'src/streams/v1/index.json']],
  ])('%s', async (_name, args) => {
    const r = await run(args.map((a) => (a === 'KEYRING' ? key.keyring : a)));
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
  });
});

describe('with no keyring configured, a signed file is refused, never read unchecked', () => {
  const noKeyring = /sjson-only\/streams\/v1\/index\.sjson: is signed, and no keyring is configured to check it/;
  it.each([
    ['insert', ['insert', '-u', 'sjson-only', 'nokey-insert']],
    ['promote', ['promote', '-u', 'sjson-only', 'nokey-promote', '20260720']],
    ['query', ['query', 'sjson-only']],
    ['find-orphans', ['find-orphans', 'nokey-orphans.json', 'sjson-only', 'sjson-only']],
  ])('%s', async (name, args) => {
    const r = await run(args);
    failsInOneLine(r, noKeyring);
    expect(r.stderr).toMatch(/--keyring FILE .*--no-verify/);
    if (name !== 'query' && name !== 'find-orphans') await expect(fs.access(path.join(dir, args[2] === 'sjson-only' ? args[3]! : args[2]!))).rejects.toThrow();
  });

  it('verify too', async () => {
    const r = await run(['verify', 'sjson-only']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no keyring to check signatures with/);
  });

  it('a .sjson named explicitly: insert refuses it like query does', async () => {
    const r = await run(['insert', '-u', 'signed/streams/v1/index.sjson', 'nokey-named']);
    failsInOneLine(r, /signed\/streams\/v1\/index\.sjson: is signed, and no keyring is configured/);
  });

  it('--keyring verifies it, --no-verify reads it unchecked', async () => {
    expect((await run(['insert', '-u', '--keyring', key.keyring, 'sjson-only', 'ok-keyring'])).code).toBe(0);
    expect((await run(['insert', '-u', '--no-verify', 'sjson-only', 'ok-noverify'])).code).toBe(0);
    expect((await run(['query', '--keyring', key.keyring, 'sjson-only'])).code).toBe(0);
    expect((await run(['promote', '-u', '--keyring', key.keyring, 'sjson-only', 'ok-promote', '20260720'])).code).toBe(0);
    expect((await run(['find-orphans', '--keyring', key.keyring, 'ok-orphans.json', 'sjson-only', 'sjson-only'])).code).toBe(0);
    expect((await run(['verify', '--keyring', key.keyring, 'sjson-only'])).code).toBe(0);
  });

  it('$MEPH_KEYRING is a configured keyring', async () => {
    const r = await runCliCaptured(spec, ['insert', '-u', 'sjson-only', 'ok-env'], { cwd: dir, env: { ...env, MEPH_KEYRING: key.keyring } });
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
  });

  it('a mirror root is read from its signed index when a keyring is configured, from index.json when none is', async () => {
    await fs.cp(path.join(dir, 'signed'), path.join(dir, 'both'), { recursive: true });
    // Break the unsigned index: whichever reader uses it fails.
    await fs.writeFile(path.join(dir, 'both', V1, 'index.json'), '{"format": "index:1.0", "index": ');
    const withEnv = await runCliCaptured(spec, ['query', 'both'], { cwd: dir, env: { ...env, MEPH_KEYRING: key.keyring } });
    expect(withEnv.stderr).not.toMatch(/error/);
    expect(withEnv.code).toBe(0);
    expect((await run(['query', '--keyring', key.keyring, 'both'])).code).toBe(0);
    failsInOneLine(await run(['query', 'both']), /both\/streams\/v1\/index\.json:1:\d+: invalid JSON/);
  });

  it('--keyring with a mirror root reads its signed index, and says how to read an unsigned stream', async () => {
    const r = await run(['insert', '-u', '--keyring', key.keyring, 'src', 'unsigned-root']);
    failsInOneLine(r, /src\/streams\/v1\/index\.sjson: no such file.*name \.\.\.\/streams\/v1\/index\.json to read an unsigned stream/s);
  });
});

describe('tampered framing (CVE-2023-41037 class) through the commands', () => {
  beforeAll(async () => {
    const products = (await fs.readdir(path.join(dir, 'signed', V1))).find((f) => f.endsWith('.sjson') && f !== 'index.sjson')!;
    const make = async (name: string, edit: (text: string) => string): Promise<void> => {
      await fs.cp(path.join(dir, 'signed'), path.join(dir, name), { recursive: true });
      const file = path.join(dir, name, V1, products);
      await fs.writeFile(file, edit(await fs.readFile(file, 'utf8')));
    };
    await make('json-before', (t) => `{"format": "products:1.0", "content_id": "evil", "products": {}}\n${t}`);
    await make('appended', (t) => `${t}${t.replace('noble', 'evil!')}`);
    await make('no-hash', (t) => t.replace(/^Hash: \w+\n/m, ''));
  });

  it.each([
    ['json-before', /text before the "-----BEGIN PGP SIGNED MESSAGE-----" line/],
    ['appended', /a second "-----BEGIN PGP SIGNED MESSAGE-----" line/],
    ['no-hash', /no "Hash:" armor header/],
  ])('%s: query, insert and verify fail, naming the file and the problem', async (name, why) => {
    const q = await run(['query', '--keyring', key.keyring, `${name}/streams/v1/index.sjson`]);
    failsInOneLine(q, why);
    expect(q.stderr).not.toMatch(/give a keyring/);
    expect(q.stdout).toBe('');
    failsInOneLine(await run(['insert', '-u', '--keyring', key.keyring, name, `${name}-copy`]), why);
    // --no-verify strips signatures unchecked, but the framing must still be exactly one message.
    failsInOneLine(await run(['insert', '-u', '--no-verify', `${name}/streams/v1/index.sjson`, `${name}-copy2`]), why);
    const v = await run(['verify', '--keyring', key.keyring, name]);
    expect(v.code).toBe(1);
    expect(v.stdout + v.stderr).toMatch(why);
  });
});

describe('a key that has expired since it signed', () => {
  let ring: string;
  beforeAll(async () => {
    // GnuPG with a faked clock: a key valid for two days from 2020-01-01 signs on the first day.
    const home = path.join(dir, 'expired-home');
    await fs.mkdir(home, { mode: 0o700 });
    const gpg = (args: string[], input?: string) => {
      const r = spawnSync('gpg', ['--batch', '--no-tty', ...args], { env: { ...process.env, GNUPGHOME: home, LC_ALL: 'C' }, input: input ?? '' });
      if (r.status !== 0) throw new Error(r.stderr.toString());
      return r.stdout;
    };
    gpg(['--faked-system-time', '20200101T000000!', '--pinentry-mode', 'loopback', '--passphrase', '', '--quick-gen-key', 'expired <x@example.invalid>', 'ed25519', 'sign', '2d']);
    ring = path.join(dir, 'expired.gpg');
    await fs.writeFile(ring, gpg(['--export']));
    await fs.cp(path.join(dir, 'src'), path.join(dir, 'old'), { recursive: true });
    for (const f of await fs.readdir(path.join(dir, 'old', V1))) {
      const text = await fs.readFile(path.join(dir, 'old', V1, f), 'utf8');
      await fs.writeFile(path.join(dir, 'old', V1, f.replace(/\.json$/, '.sjson')), gpg(['--faked-system-time', '20200101T120000!', '--clearsign'], text));
    }
    spawnSync('gpgconf', ['--kill', 'all'], { env: { ...process.env, GNUPGHOME: home } });
    // GnuPG accepts it.
    expect(spawnSync('gpgv', ['--keyring', ring, path.join(dir, 'old', V1, 'index.sjson')]).status).toBe(0);
  }, 60_000);

  it('is accepted with a warning on stderr by default', async () => {
    const r = await run(['query', '--keyring', ring, 'old/streams/v1/index.sjson']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('20260720');
    const warnings = r.stderr.split('\n').filter((l) => l.includes('warning:'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/index\.sjson: good signature by key [0-9A-F]{16}, made 2020-01-01T12:00:00\.000Z while the key was valid; the key expired on 2020-01-03.*--reject-expired-keys refuses it/);
    const i = await run(['insert', '-u', '--keyring', ring, 'old', 'old-copy']);
    expect(i.code).toBe(0);
    expect(i.stderr).toMatch(/warning: .*the key expired on 2020-01-03/);
  });

  it('is refused with --reject-expired-keys', async () => {
    failsInOneLine(await run(['query', '--reject-expired-keys', '--keyring', ring, 'old/streams/v1/index.sjson']), /index\.sjson: signed by key [0-9A-F]{16} on 2020-01-01T12:00:00\.000Z, and that key expired on 2020-01-03.*refused \(--reject-expired-keys\)/);
    failsInOneLine(await run(['insert', '-u', '--reject-expired-keys', '--keyring', ring, 'old', 'old-refused']), /refused \(--reject-expired-keys\)/);
    const v = await run(['verify', '--reject-expired-keys', '--keyring', ring, 'old']);
    expect(v.code).toBe(1);
    expect(v.stdout + v.stderr).toMatch(/refused \(--reject-expired-keys\)/);
  });

  it('every command that verifies says so in --help', async () => {
    for (const cmd of ['query', 'insert', 'promote', 'merge', 'patch', 'diff', 'find-orphans', 'reap-orphans', 'verify', 'boot-test', 'publish']) {
      const h = await run([cmd, '--help']);
      expect(h.stdout, cmd).toMatch(/--reject-expired-keys/);
      expect(h.stdout, cmd).toMatch(/accepted with\s+a warning on stderr/);
      expect(h.stdout, cmd).toMatch(/a signed file \(\.sjson\) is verified or the command fails, unless --no-verify/);
    }
  });
});
