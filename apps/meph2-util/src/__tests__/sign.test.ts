import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as openpgp from 'openpgp';
import { runCliCaptured } from '@meph/test-support';
import { spec } from '../main.js';
import { makeStream, NOBLE, productsPath, tempDir, throwAwayKey } from './stream-fixture.js';

let dir: string;
let key: { home: string; secretKey: string; keyring: string };
const { MEPH_SIGNING_PASSPHRASE: _unused, ...inherited } = process.env;
const baseEnv = { ...inherited, MEPH_SIGNING_KEY: '', MEPH_GPG_KEY: '', MEPH_KEYRING: '', MEPH_SIGNING_PASSPHRASE_FILE: '', SS_GPG_DEFAULT_KEY: '', GNUPGHOME: '/nonexistent/meph-empty-gnupg-home' };
const run = (args: string[], env: NodeJS.ProcessEnv = {}) => runCliCaptured(spec, args, { cwd: dir, env: { ...baseEnv, ...env } });

function gpgv(keyring: string, ...files: string[]): number {
  return spawnSync('gpgv', ['--keyring', keyring, ...files], { env: { ...process.env, GNUPGHOME: key.home } }).status ?? -1;
}

beforeAll(async () => {
  dir = await tempDir('meph-sign-cli-');
  key = await throwAwayKey(dir);
  await makeStream(path.join(dir, 'stream'), { serials: ['20260720'], releases: [NOBLE], fileBytes: 64 });
}, 30_000);
afterAll(async () => {
  spawnSync('gpgconf', ['--kill', 'all'], { env: { ...process.env, GNUPGHOME: key?.home } });
  await fs.rm(dir, { recursive: true, force: true });
});

async function copyStream(name: string): Promise<string> {
  await fs.cp(path.join(dir, 'stream'), path.join(dir, name), { recursive: true });
  return name;
}

describe('meph2-util sign', () => {
  it('signs every streams/v1 JSON; gpgv accepts them; a second run changes nothing', async () => {
    const s = await copyStream('a');
    const r = await run(['sign', '--key', key.secretKey, s]);
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    const v1 = path.join(dir, s, 'streams/v1');
    const products = path.join(dir, s, productsPath('candidate')).replace(/\.json$/, '');
    for (const base of [path.join(v1, 'index'), products]) {
      expect(gpgv(key.keyring, `${base}.sjson`)).toBe(0);
      expect(gpgv(key.keyring, `${base}.json.gpg`, `${base}.json`)).toBe(0);
    }
    expect(await fs.readFile(path.join(v1, 'index.sjson'), 'utf8')).toContain(`"path": "${productsPath('candidate').replace(/\.json$/, '.sjson')}"`);

    const again = await run(['--json', 'sign', '--key', key.secretKey, s]);
    expect(again.code).toBe(0);
    const events = again.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; written?: number });
    expect(events.find((e) => e.type === 'stream-signed')).toMatchObject({ written: 0, unchanged: 4 });
    expect(events.some((e) => e.type === 'file-signed')).toBe(false);
  });

  it('the signed stream reads with meph2-util query when signatures are required', async () => {
    const s = await copyStream('q');
    expect((await run(['sign', '--key', key.secretKey, s])).code).toBe(0);
    const q = await run(['query', '--keyring', key.keyring, s, 'item_name=squashfs']);
    expect(q.stderr).not.toMatch(/error/);
    expect(q.code).toBe(0);
    expect(q.stdout).toContain("'item_name': 'squashfs'");
    // A changed byte in the signed products file is caught by the reader.
    const sjson = path.join(dir, s, productsPath('candidate').replace(/\.json$/, '.sjson'));
    await fs.writeFile(sjson, (await fs.readFile(sjson, 'utf8')).replace('"arch": "amd64"', '"arch": "amd65"'));
    const bad = await run(['query', '--keyring', key.keyring, s]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^meph2-util: error: .*\.sjson: content does not match the signature/m);
  });

  it('passphrase-protected key: from $MEPH_SIGNING_PASSPHRASE, $MEPH_SIGNING_PASSPHRASE_FILE or --passphrase-file', async () => {
    const { privateKey, publicKey } = await openpgp.generateKey({ userIDs: [{ email: 'pp@example.invalid' }], passphrase: 'correct horse', format: 'armored' });
    const keyFile = path.join(dir, 'pp.sec.asc');
    const passFile = path.join(dir, 'pp.pass');
    await fs.writeFile(keyFile, privateKey, { mode: 0o600 });
    await fs.writeFile(passFile, 'correct horse\n', { mode: 0o600 });
    const ring = path.join(dir, 'pp.gpg');
    await fs.writeFile(ring, (await openpgp.readKey({ armoredKey: publicKey })).write());

    const none = await run(['sign', '--key', keyFile, await copyStream('p0')]);
    expect(none.code).toBe(1);
    expect(none.stderr.trim().split('\n')).toHaveLength(1);
    expect(none.stderr).toMatch(/protected by a passphrase.*MEPH_SIGNING_PASSPHRASE/);

    const viaEnv = await run(['sign', '--key', keyFile, await copyStream('p1')], { MEPH_SIGNING_PASSPHRASE: 'correct horse' });
    expect(viaEnv.code).toBe(0);
    const viaEnvFile = await run(['sign', await copyStream('p2')], { MEPH_SIGNING_KEY: keyFile, MEPH_SIGNING_PASSPHRASE_FILE: passFile });
    expect(viaEnvFile.code).toBe(0);
    const viaFlag = await run(['sign', '--key', keyFile, '--passphrase-file', passFile, await copyStream('p3')]);
    expect(viaFlag.code).toBe(0);
    for (const s of ['p1', 'p2', 'p3']) expect(gpgv(ring, path.join(dir, s, 'streams/v1/index.sjson'))).toBe(0);

    const wrong = await run(['sign', '--key', keyFile, await copyStream('p4')], { MEPH_SIGNING_PASSPHRASE: 'nope' });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/cannot unlock it/);
  });

  it('chooses the key by --key-id among several', async () => {
    const a = await openpgp.generateKey({ userIDs: [{ email: 'a@example.invalid' }], format: 'object' });
    const b = await openpgp.generateKey({ userIDs: [{ email: 'b@example.invalid' }], format: 'object' });
    const both = path.join(dir, 'both.sec.asc');
    await fs.writeFile(both, `${a.privateKey.armor()}${b.privateKey.armor()}`, { mode: 0o600 });
    const ringB = path.join(dir, 'b.gpg');
    await fs.writeFile(ringB, b.publicKey.write());
    const unchosen = await run(['sign', '--key', both, await copyStream('k0')]);
    expect(unchosen.code).toBe(1);
    expect(unchosen.stderr).toMatch(/holds 2 secret keys.*--key-id/);
    const r = await run(['sign', '--key', both, '--key-id', b.privateKey.getFingerprint(), await copyStream('k1')]);
    expect(r.code).toBe(0);
    expect(gpgv(ringB, path.join(dir, 'k1', 'streams/v1/index.sjson'))).toBe(0);
  });

  it('signs through the system gpg with --gpg-key (GNUPGHOME from the environment)', async () => {
    const fpr = spawnSync('gpg', ['--batch', '--with-colons', '--list-secret-keys'], { env: { ...process.env, GNUPGHOME: key.home } })
      .stdout.toString()
      .split('\n')
      .find((l) => l.startsWith('fpr:'))!
      .split(':')[9]!;
    const s = await copyStream('g');
    const r = await run(['sign', '--gpg-key', fpr, s], { GNUPGHOME: key.home });
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    expect(gpgv(key.keyring, path.join(dir, s, 'streams/v1/index.sjson'))).toBe(0);
  });

  it('bad usage fails in one line', async () => {
    const s = await copyStream('u');
    const noKey = await run(['sign', s]);
    expect(noKey.code).toBe(2);
    expect(noKey.stderr.trim()).toMatch(/^meph2-util: error: no signing key configured: set --key FILE \(or MEPH_SIGNING_KEY\) or --gpg-key ID/);
    expect(noKey.stderr.trim().split('\n')).toHaveLength(1);
    const both = await run(['sign', '--key', key.secretKey, '--gpg-key', 'x', s]);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/either --key FILE or --gpg-key ID/);
    const missing = await run(['sign', '--key', key.secretKey, 'no-such-dir']);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toBe('meph2-util: error: no-such-dir: no such directory (give the mirror root, the directory that holds streams/v1/)');
    const noKeyFile = await run(['sign', '--key', 'nokey.asc', s]);
    expect(noKeyFile.code).toBe(1);
    expect(noKeyFile.stderr).toMatch(/nokey\.asc: no such keyring file/);
    expect((await run(['sign', '--help'])).stdout).toMatch(/Examples:[\s\S]*sign --key/);
  });

  it('no key named: SS_GPG_DEFAULT_KEY, then the GnuPG home\'s default secret key, as the original (real gpg)', async () => {
    const fpr = (home: string) => spawnSync('gpg', ['--batch', '--with-colons', '--list-secret-keys'], { env: { ...process.env, GNUPGHOME: home } }).stdout.toString().split('\n').find((l) => l.startsWith('fpr:'))!.split(':')[9]!;
    // the GnuPG home's only secret key
    const s1 = await copyStream('default-home');
    const r1 = await run(['sign', s1], { GNUPGHOME: key.home });
    expect(r1.code, r1.stderr).toBe(0);
    expect(r1.stderr).toContain(`fingerprint=${fpr(key.home)}`);
    expect(gpgv(key.keyring, path.join(dir, s1, 'streams/v1/index.sjson'))).toBe(0);
    // a second key in the same home: SS_GPG_DEFAULT_KEY picks it, gpg.conf default-key too
    const second = spawnSync('gpg', ['--batch', '--with-colons', '--passphrase', '', '--pinentry-mode', 'loopback', '--quick-gen-key', 'second <second@example.invalid>', 'ed25519', 'sign', 'never'], { env: { ...process.env, GNUPGHOME: key.home } });
    expect(second.status).toBe(0);
    const list = spawnSync('gpg', ['--batch', '--with-colons', '--list-secret-keys', 'second@example.invalid'], { env: { ...process.env, GNUPGHOME: key.home } }).stdout.toString();
    const fpr2 = list.split('\n').find((l) => l.startsWith('fpr:'))!.split(':')[9]!;
    const s2 = await copyStream('ss-default');
    const r2 = await run(['sign', s2], { GNUPGHOME: key.home, SS_GPG_DEFAULT_KEY: 'second@example.invalid' });
    expect(r2.code, r2.stderr).toBe(0);
    expect(r2.stderr).toContain(`fingerprint=${fpr2}`);
    await fs.writeFile(path.join(key.home, 'gpg.conf'), `default-key ${fpr2}\n`);
    try {
      const s3 = await copyStream('conf-default');
      const r3 = await run(['insert', 'stream', s3 + '-ins'], { GNUPGHOME: key.home });
      expect(r3.code, r3.stderr).toBe(0);
      expect(r3.stderr).toContain(`fingerprint=${fpr2}`);
    } finally {
      await fs.rm(path.join(key.home, 'gpg.conf'));
    }
    // MEPH_* still win over both
    const s4 = await copyStream('meph-wins');
    const r4 = await run(['sign', s4], { GNUPGHOME: key.home, SS_GPG_DEFAULT_KEY: 'second@example.invalid', MEPH_GPG_KEY: fpr(key.home) });
    expect(r4.stderr).toContain(`fingerprint=${fpr(key.home)}`);
    // an empty home: the clear error
    const empty = path.join(dir, 'empty-home');
    await fs.mkdir(empty, { mode: 0o700 });
    const r5 = await run(['sign', s4], { GNUPGHOME: empty });
    expect(r5.code).toBe(2);
    expect(r5.stderr.trim()).toMatch(/^meph2-util: error: no signing key configured: .*SS_GPG_DEFAULT_KEY.*GnuPG home/);
  });

  it('accepts -u and --no-sign DIR as the original (which signed anyway): signs, and says the flag is ignored', async () => {
    for (const flag of ['-u', '--no-sign']) {
      const s = await copyStream(`flag${flag}`);
      const r = await run(['sign', flag, s], { MEPH_SIGNING_KEY: key.secretKey });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/warning: sign: -u\/--no-sign ignored: sign always signs/);
      expect(gpgv(key.keyring, path.join(dir, s, 'streams/v1/index.sjson'))).toBe(0);
    }
  });
});
