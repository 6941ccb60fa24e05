import { writeFile, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as openpgp from 'openpgp';
import { GnupgHome, gpgv, run } from './__fixtures__/gnupg.js';
import {
  createGpgSigner,
  createOpenPgpSigner,
  createVerifier,
  KeyExpiredError,
  ExpiredKeyRefusedError,
  KeyRevokedError,
  KeySelectionError,
  PassphraseError,
  TamperedError,
  UnknownKeyError,
  BadSignatureError,
  NotSignedError,
  KeyringError,
} from './index.js';

const PAYLOAD = `{
 "content_id": "com.example:test",
 "format": "products:1.0",
 "products": {
  "p1": {
   "arch": "amd64",
   "versions": {}
  }
 }
}
`;

/** Changes one byte of the JSON body (a digit in "amd64"). */
function tamper(text: string): string {
  return text.replace('amd64', 'amd65');
}

let home: GnupgHome;
let edFpr: string;
let rsaFpr: string;
let keyring: string; // binary, both keys
let edSecretArmored: string;
let rsaSecretBinary: Uint8Array;

beforeAll(async () => {
  home = await GnupgHome.create();
  edFpr = await home.generate('Meph Ed25519 <ed@example.invalid>', 'ed25519');
  rsaFpr = await home.generate('Meph RSA <rsa@example.invalid>', 'rsa3072');
  keyring = await home.exportPublic([edFpr, rsaFpr], 'pub.gpg');
  edSecretArmored = (await home.exportSecret(edFpr, true)).toString('utf8');
  rsaSecretBinary = await home.exportSecret(rsaFpr, false);
}, 60_000);

afterAll(async () => {
  await home?.dispose();
});

async function write(name: string, data: string | Uint8Array): Promise<string> {
  const file = path.join(home.dir, name);
  await writeFile(file, data);
  return file;
}

describe('our signatures verify with GnuPG', () => {
  for (const kind of ['ed25519', 'rsa3072'] as const) {
    it(`clearsigned and detached, ${kind}`, async () => {
      const signer =
        kind === 'ed25519' ? await createOpenPgpSigner({ key: edSecretArmored }) : await createOpenPgpSigner({ key: await write('rsa.sec.gpg', rsaSecretBinary) });
      expect(await signer.fingerprint()).toBe(kind === 'ed25519' ? edFpr : rsaFpr);

      const clear = await signer.clearsign(PAYLOAD);
      expect(clear).not.toContain('\r');
      const sjson = await write(`${kind}.sjson`, clear);
      expect((await home.gpg(['--verify', sjson])).code).toBe(0);
      expect((await gpgv(keyring, [sjson])).code).toBe(0);
      // gpg's own view of the signed text is the payload.
      const out = await home.gpgOk(['--output', '-', '--decrypt', sjson]);
      expect(JSON.parse(out.toString())).toEqual(JSON.parse(PAYLOAD));

      const json = await write(`${kind}.json`, PAYLOAD);
      const sig = await write(`${kind}.json.gpg`, await signer.detachSign(PAYLOAD));
      expect(await readFile(sig, 'utf8')).toMatch(/^-----BEGIN PGP SIGNATURE-----/);
      expect((await home.gpg(['--verify', sig, json])).code).toBe(0);
      expect((await gpgv(keyring, [sig, json])).code).toBe(0);

      // One changed byte fails in GnuPG too.
      const badClear = await write(`${kind}-bad.sjson`, tamper(clear));
      expect((await home.gpg(['--verify', badClear])).code).toBe(1);
      expect((await gpgv(keyring, [badClear])).code).not.toBe(0);
      const badJson = await write(`${kind}-bad.json`, tamper(PAYLOAD));
      expect((await home.gpg(['--verify', sig, badJson])).code).toBe(1);
      expect((await gpgv(keyring, [sig, badJson])).code).not.toBe(0);
    });
  }
});

describe('GnuPG signatures verify with us', () => {
  it('gpg --clearsign (Ed25519 and RSA-3072) returns exactly the signed payload', async () => {
    const verifier = await createVerifier({ keyrings: [keyring] });
    for (const fpr of [edFpr, rsaFpr]) {
      const clear = (await home.gpgOk(['--local-user', fpr, '--clearsign'], PAYLOAD)).toString();
      const v = await verifier.verifyClearsigned(clear, 'gpg.sjson');
      expect(v.fingerprint).toBe(fpr);
      expect(v.keyId).toBe(fpr.slice(-16));
      expect(v.payload.replace(/\n$/, '')).toBe(PAYLOAD.replace(/\n$/, ''));
      expect(Math.abs(v.signedAt.getTime() - Date.now())).toBeLessThan(120_000);
      const err = await verifier.verifyClearsigned(tamper(clear), 'gpg-bad.sjson').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TamperedError);
      expect((err as TamperedError).message).toContain('gpg-bad.sjson');
      expect((err as TamperedError).keyId).toBe(fpr.slice(-16));
    }
  });

  it('gpg --detach-sign, binary and armored', async () => {
    const verifier = await createVerifier({ keyrings: [keyring] });
    const binary = await home.gpgOk(['--local-user', edFpr, '--detach-sign', '--output', '-'], PAYLOAD);
    const armored = (await home.gpgOk(['--local-user', rsaFpr, '--armor', '--detach-sign', '--output', '-'], PAYLOAD)).toString();
    const textmode = await home.gpgOk(['--local-user', edFpr, '--textmode', '--detach-sign', '--output', '-'], PAYLOAD);
    expect((await verifier.verifyDetached(PAYLOAD, binary, 'x.json.sig')).fingerprint).toBe(edFpr);
    expect((await verifier.verifyDetached(new TextEncoder().encode(PAYLOAD), armored, 'x.json.gpg')).fingerprint).toBe(rsaFpr);
    expect((await verifier.verifyDetached(PAYLOAD, Buffer.from(armored), 'x.json.gpg')).fingerprint).toBe(rsaFpr);
    expect((await verifier.verifyDetached(PAYLOAD, textmode, 'x.json.sig')).fingerprint).toBe(edFpr);
    for (const sig of [binary, armored]) {
      await expect(verifier.verifyDetached(tamper(PAYLOAD), sig, 'x.json.gpg')).rejects.toBeInstanceOf(TamperedError);
    }
  });

  it('reads armored keyrings and several keyrings; unknown key names the key id', async () => {
    const edOnly = await home.exportPublic([edFpr], 'ed.asc', true);
    const rsaOnly = await home.exportPublic([rsaFpr], 'rsa.gpg');
    const both = await createVerifier({ keyrings: [edOnly, rsaOnly] });
    const clearEd = (await home.gpgOk(['--local-user', edFpr, '--clearsign'], PAYLOAD)).toString();
    const clearRsa = (await home.gpgOk(['--local-user', rsaFpr, '--clearsign'], PAYLOAD)).toString();
    expect((await both.verifyClearsigned(clearEd, 'a')).fingerprint).toBe(edFpr);
    expect((await both.verifyClearsigned(clearRsa, 'b')).fingerprint).toBe(rsaFpr);
    const onlyEd = await createVerifier({ keyrings: [edOnly] });
    const err = await onlyEd.verifyClearsigned(clearRsa, 'streams/v1/index.sjson').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnknownKeyError);
    expect((err as Error).message).toContain(rsaFpr.slice(-16));
    expect((err as Error).message).toContain('streams/v1/index.sjson');
  });

  it('rejects unsigned text, broken armour and keyrings that are not keyrings', async () => {
    const verifier = await createVerifier({ keyrings: [keyring] });
    await expect(verifier.verifyClearsigned(PAYLOAD, 'plain.json')).rejects.toBeInstanceOf(NotSignedError);
    const clear = (await home.gpgOk(['--local-user', edFpr, '--clearsign'], PAYLOAD)).toString();
    const lines = clear.split('\n');
    const sigLine = lines.findIndex((l) => l.startsWith('-----BEGIN PGP SIGNATURE')) + 2;
    lines[sigLine] = lines[sigLine]!.replace(/[A-Za-z]/, (c) => (c === 'A' ? 'B' : 'A'));
    await expect(verifier.verifyClearsigned(lines.join('\n'), 'broken.sjson')).rejects.toBeInstanceOf(BadSignatureError);
    await expect(createVerifier({ keyrings: [await write('junk.gpg', 'not a key')] })).rejects.toBeInstanceOf(KeyringError);
    await expect(createVerifier({ keyrings: [path.join(home.dir, 'missing.gpg')] })).rejects.toThrow(/missing\.gpg: no such keyring file/);
  });
});

describe('exactly one signed message and nothing around it (CVE-2023-41037 class)', () => {
  it('refuses text before the BEGIN line, a second signed block appended, and no Hash: header, as gpgv and the reference client do', async () => {
    const verifier = await createVerifier({ keyrings: [keyring] });
    const clear = (await home.gpgOk(['--local-user', edFpr, '--clearsign'], PAYLOAD)).toString();
    // A real second message, validly signed by the same key, over tampered content.
    const second = (await home.gpgOk(['--local-user', edFpr, '--clearsign'], tamper(PAYLOAD))).toString();
    const evil = '{"evil": true}';
    const cases: Array<[name: string, text: string, why: RegExp]> = [
      ['json-before.sjson', `${evil}\n${clear}`, /text before the "-----BEGIN PGP SIGNED MESSAGE-----" line/],
      ['blank-before.sjson', `\n${clear}`, /text before the "-----BEGIN PGP SIGNED MESSAGE-----" line/],
      ['appended.sjson', `${clear}${second}`, /a second "-----BEGIN PGP SIGNED MESSAGE-----" line/],
      ['appended-unsigned.sjson', `${clear}-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n${evil}\n`, /a second "-----BEGIN PGP SIGNED MESSAGE-----" line/],
      ['trailing-json.sjson', `${clear}${evil}\n`, /text after the "-----END PGP SIGNATURE-----" line/],
      ['no-hash.sjson', clear.replace(/^Hash: \w+\n/m, ''), /no "Hash:" armor header/],
    ];
    for (const [name, text, why] of cases) {
      const err = await verifier.verifyClearsigned(text, name).catch((e: unknown) => e);
      expect(err, name).toBeInstanceOf(BadSignatureError);
      expect((err as Error).message, name).toMatch(why);
      expect((err as Error).message, name).toContain(name);
    }
    // gpgv agrees on the appended block and the missing header (it tolerates leading text;
    // the reference client does not: its read_signed needs the BEGIN line first).
    expect((await gpgv(keyring, [await write('appended.sjson', `${clear}${second}`)])).code).not.toBe(0);
    expect((await gpgv(keyring, [await write('no-hash.sjson', clear.replace(/^Hash: \w+\n/m, ''))])).code).not.toBe(0);
    // Blank lines after the END line are not content.
    const trailing = await verifier.verifyClearsigned(`${clear}\n\n`, 'trailing-blank.sjson');
    expect(trailing.payload.trimEnd()).toBe(PAYLOAD.trimEnd());
  });

  it('refuses forged extra headers and a Hash: header that lies', async () => {
    const verifier = await createVerifier({ keyrings: [keyring] });
    const clear = (await home.gpgOk(['--local-user', edFpr, '--clearsign'], PAYLOAD)).toString();
    const evil = '{"evil": true}';
    // Text smuggled into the armour headers never reaches the payload: the message is refused.
    const smuggled = clear.replace(/^Hash: (\w+)$/m, `Hash: $1\n${evil}`);
    await expect(verifier.verifyClearsigned(smuggled, 'smuggled.sjson')).rejects.toBeInstanceOf(BadSignatureError);
    const extraHeader = clear.replace(/^Hash: (\w+)$/m, 'Hash: $1\nComment: {"evil": true}');
    await expect(verifier.verifyClearsigned(extraHeader, 'header.sjson')).rejects.toThrow(/only "Hash:" is allowed/);
    // The Hash header must name the hash the signature uses.
    const lying = clear.replace(/^Hash: \w+$/m, 'Hash: SHA1');
    await expect(verifier.verifyClearsigned(lying, 'lying.sjson')).rejects.toThrow(/armor header says Hash: SHA1/);
  });
});

describe('a key that expired after it signed (GnuPG-made, with a faked clock)', () => {
  let ring: string;
  let signed: string;
  let fpr: string;
  beforeAll(async () => {
    // Created 2020-01-01, valid for two days; the signature is made on the first day.
    const r = await run(
      'gpg',
      ['--batch', '--no-tty', '--faked-system-time', '20200101T000000!', '--pinentry-mode', 'loopback', '--passphrase-fd', '0', '--quick-gen-key', 'Meph Expired <expired@example.invalid>', 'ed25519', 'sign', '2d'],
      { home: home.dir, input: '\n' },
    );
    if (r.code !== 0) throw new Error(r.stderr);
    const list = (await home.gpgOk(['--with-colons', '--list-keys', 'expired@example.invalid'])).toString();
    fpr = list.split('\n').find((l) => l.startsWith('fpr:'))!.split(':')[9]!;
    ring = await home.exportPublic([fpr], 'expired.gpg');
    signed = (await home.gpgOk(['--faked-system-time', '20200101T120000!', '--local-user', fpr, '--clearsign'], PAYLOAD)).toString();
    expect((await gpgv(ring, [await write('expired.sjson', signed)])).code).toBe(0);
  }, 60_000);

  it('is accepted with one warning per key by default, as GnuPG accepts it', async () => {
    const warnings: string[] = [];
    const verifier = await createVerifier({ keyrings: [ring], onWarning: (m) => warnings.push(m) });
    const v = await verifier.verifyClearsigned(signed, 'old.sjson');
    expect(v.fingerprint).toBe(fpr);
    expect(v.keyExpiredAt?.toISOString()).toMatch(/^2020-01-03/);
    await verifier.verifyClearsigned(signed, 'old-again.sjson');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^old\.sjson: good signature by key [0-9A-F]{16}, made 2020-01-01T12:00:00.000Z while the key was valid; the key expired on 2020-01-03.*--reject-expired-keys/);
  });

  it('is refused with rejectExpiredKeys', async () => {
    const verifier = await createVerifier({ keyrings: [ring], rejectExpiredKeys: true });
    const err = await verifier.verifyClearsigned(signed, 'old.sjson').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExpiredKeyRefusedError);
    expect((err as Error).message).toMatch(/^old\.sjson: signed by key [0-9A-F]{16} on 2020-01-01T12:00:00\.000Z, and that key expired on 2020-01-03/);
  });

  it('a key that never expires gives no warning', async () => {
    const warnings: string[] = [];
    const verifier = await createVerifier({ keyrings: [keyring], rejectExpiredKeys: true, onWarning: (m) => warnings.push(m) });
    const clear = (await home.gpgOk(['--local-user', edFpr, '--clearsign'], PAYLOAD)).toString();
    expect((await verifier.verifyClearsigned(clear, 'fresh.sjson')).keyExpiredAt).toBeUndefined();
    expect(warnings).toEqual([]);
  });
});

describe('cleartext framing', () => {
  const TRICKY = '-----BEGIN PGP SIGNATURE-----\n- dash line\nFrom here\ntrailing blanks   \t\n\n{"last": "line"}\n';

  it('dash-escaped lines and trailing blanks round-trip with GnuPG, both ways', async () => {
    const signer = await createOpenPgpSigner({ key: edSecretArmored });
    const verifier = await createVerifier({ keyrings: [keyring] });
    const ours = await signer.clearsign(TRICKY);
    expect(ours).toContain('\n- -----BEGIN PGP SIGNATURE-----\n- - dash line\n');
    const file = await write('tricky.sjson', ours);
    expect((await gpgv(keyring, [file])).code).toBe(0);
    const gpgText = (await home.gpgOk(['--output', '-', '--decrypt', file])).toString();
    const expected = TRICKY.replace(/[ \t]+$/gm, '');
    expect(gpgText.trimEnd()).toBe(expected.trimEnd());
    expect((await verifier.verifyClearsigned(ours, 'tricky.sjson')).payload.trimEnd()).toBe(expected.trimEnd());

    const theirs = (await home.gpgOk(['--local-user', edFpr, '--clearsign'], TRICKY)).toString();
    expect((await verifier.verifyClearsigned(theirs, 'gpg-tricky.sjson')).payload.trimEnd()).toBe(expected.trimEnd());
    // CRLF line ends and extra trailing blanks do not change what was signed (spec §9.4) …
    expect((await verifier.verifyClearsigned(theirs.replace(/\n/g, '\r\n'), 'crlf.sjson')).fingerprint).toBe(edFpr);
    expect((await verifier.verifyClearsigned(theirs.replace('From here', 'From here  '), 'blanks.sjson')).fingerprint).toBe(edFpr);
    // … an unescaped dash line does.
    await expect(verifier.verifyClearsigned(theirs.replace('- - dash line', '- dash line'), 'dash.sjson')).rejects.toBeInstanceOf(TamperedError);
  });
});

describe('secret keys', () => {
  it('passphrase-protected key: needs the right passphrase', async () => {
    const { privateKey } = await openpgp.generateKey({ userIDs: [{ email: 'pass@example.invalid' }], curve: 'ed25519Legacy', passphrase: 's3cret', format: 'armored' });
    await expect(createOpenPgpSigner({ key: privateKey })).rejects.toBeInstanceOf(PassphraseError);
    await expect(createOpenPgpSigner({ key: privateKey, passphrase: 'wrong' })).rejects.toBeInstanceOf(PassphraseError);
    const signer = await createOpenPgpSigner({ key: privateKey, passphrase: 's3cret' });
    const pub = await write('pass.asc', await signer.publicKey());
    const clear = await write('pass.sjson', await signer.clearsign(PAYLOAD));
    const pubBin = path.join(home.dir, 'pass.gpg');
    await writeFile(pubBin, (await openpgp.readKey({ armoredKey: await readFile(pub, 'utf8') })).write());
    expect((await gpgv(pubBin, [clear])).code).toBe(0);
  });

  it('chooses a key by fingerprint or key id when the file holds several', async () => {
    const a = await openpgp.generateKey({ userIDs: [{ email: 'a@example.invalid' }], format: 'object' });
    const b = await openpgp.generateKey({ userIDs: [{ email: 'b@example.invalid' }], format: 'object' });
    const file = await write('two.sec.asc', `${a.privateKey.armor()}\n${b.privateKey.armor()}`);
    const err = await createOpenPgpSigner({ key: file }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KeySelectionError);
    expect((err as Error).message).toContain(b.privateKey.getFingerprint().toUpperCase());
    const bFpr = b.privateKey.getFingerprint().toUpperCase();
    const byFpr = await createOpenPgpSigner({ key: file, keyId: bFpr.replace(/(.{4})/g, '$1 ') });
    expect(await byFpr.fingerprint()).toBe(bFpr);
    const byId = await createOpenPgpSigner({ key: file, keyId: `0x${a.privateKey.getKeyID().toHex()}` });
    expect(await byId.fingerprint()).toBe(a.privateKey.getFingerprint().toUpperCase());
    const verifier = await createVerifier({ keyrings: [await write('two.pub.asc', `${a.publicKey.armor()}\n${b.publicKey.armor()}`)] });
    expect((await verifier.verifyClearsigned(await byFpr.clearsign(PAYLOAD), 'x')).fingerprint).toBe(bFpr);
    await expect(createOpenPgpSigner({ key: file, keyId: 'DEADBEEFDEADBEEF' })).rejects.toBeInstanceOf(KeySelectionError);
  });

  it('a public key is not a signing key', async () => {
    await expect(createOpenPgpSigner({ key: keyring })).rejects.toThrow(/holds no secret key/);
  });
});

describe('gpg backend (--local-user)', () => {
  it('signs with a key from GNUPGHOME; GnuPG and we verify', async () => {
    const signer = createGpgSigner({ localUser: edFpr, gnupgHome: home.dir });
    expect(await signer.fingerprint()).toBe(edFpr);
    const clear = await signer.clearsign(PAYLOAD);
    const verifier = await createVerifier({ keyrings: [keyring] });
    expect((await verifier.verifyClearsigned(clear, 'g.sjson')).payload.trimEnd()).toBe(PAYLOAD.trimEnd());
    const detached = await signer.detachSign(PAYLOAD);
    expect(detached).toMatch(/^-----BEGIN PGP SIGNATURE-----/);
    expect((await verifier.verifyDetached(PAYLOAD, detached, 'g.json.gpg')).fingerprint).toBe(edFpr);
    expect((await gpgv(keyring, [await write('g.sjson', clear)])).code).toBe(0);
    expect(await signer.publicKey()).toContain('BEGIN PGP PUBLIC KEY BLOCK');
  });

  it('passphrase through a pipe, and a clear error for an unknown key', async () => {
    const fpr = await home.generate('Meph Pass <gpgpass@example.invalid>', 'ed25519', 'pw-123');
    const signer = createGpgSigner({ localUser: fpr, gnupgHome: home.dir, passphrase: 'pw-123' });
    // Forget the passphrase cached at generation, so gpg must use the one we pipe in.
    await run('gpgconf', ['--reload', 'gpg-agent'], { home: home.dir });
    // (No wrong-passphrase case: gpg-agent sleeps seconds after a bad passphrase. Signing after
    // the reload in --batch mode can only succeed through the piped passphrase.)
    const pub = await home.exportPublic([fpr], 'gpgpass.gpg');
    expect((await gpgv(pub, [await write('gp.sjson', await signer.clearsign(PAYLOAD))])).code).toBe(0);
    const missing = createGpgSigner({ localUser: 'nobody@example.invalid', gnupgHome: home.dir });
    await expect(missing.clearsign(PAYLOAD)).rejects.toThrow(/gpg --local-user nobody@example.invalid/);
  });
});

describe('signing subkeys', () => {
  it('a key signing with a subkey: GnuPG and we agree both ways; the fingerprint is the primary key', async () => {
    const fpr = await home.generate('Meph Subkey <sub@example.invalid>', 'ed25519');
    await home.gpgOk(['--pinentry-mode', 'loopback', '--passphrase-fd', '0', '--quick-add-key', fpr, 'ed25519', 'sign', 'never'], '\n');
    const ring = await home.exportPublic([fpr], 'sub.gpg');
    const subId = (await home.gpgOk(['--with-colons', '--list-keys', fpr])).toString().split('\n').find((l) => l.startsWith('sub:'))!.split(':')[4]!;
    const verifier = await createVerifier({ keyrings: [ring] });
    const theirs = (await home.gpgOk(['--local-user', fpr, '--clearsign'], PAYLOAD)).toString();
    const v = await verifier.verifyClearsigned(theirs, 'sub.sjson');
    expect(v.keyId).toBe(subId);
    expect(v.fingerprint).toBe(fpr);
    const signer = await createOpenPgpSigner({ key: (await home.exportSecret(fpr)).toString() });
    const ours = await write('sub-ours.sjson', await signer.clearsign(PAYLOAD));
    expect((await gpgv(ring, [ours])).code).toBe(0);
    expect((await verifier.verifyClearsigned(await readFile(ours, 'utf8'), 'sub-ours.sjson')).keyId).toBe(subId);
  });
});

describe('key lifecycle', () => {
  it('a signature made after the key expired is refused; one made before is accepted', async () => {
    const created = new Date(Date.now() - 10 * 86400_000);
    const { privateKey } = await openpgp.generateKey({ userIDs: [{ email: 'exp@example.invalid' }], date: created, format: 'object' });
    const message = await openpgp.createCleartextMessage({ text: PAYLOAD });
    const before = await openpgp.sign({ message, signingKeys: privateKey, date: new Date(created.getTime() + 3600_000) });
    const after = await openpgp.sign({ message, signingKeys: privateKey, date: new Date(created.getTime() + 3 * 86400_000) });
    // The same key material with self-signatures that make it expire one day after creation.
    const expiring = await openpgp.reformatKey({ privateKey, userIDs: [{ email: 'exp@example.invalid' }], keyExpirationTime: 86400, date: created, format: 'object' });
    const verifier = await createVerifier({ keyrings: [await write('exp.asc', expiring.publicKey.armor())] });
    expect((await verifier.verifyClearsigned(before, 'before.sjson')).fingerprint).toBe(privateKey.getFingerprint().toUpperCase());
    const err = await verifier.verifyClearsigned(after, 'after.sjson').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KeyExpiredError);
    expect((err as Error).message).toMatch(/after\.sjson: key [0-9A-F]{16} expired/);
  });

  it('a revoked key is refused', async () => {
    const { privateKey } = await openpgp.generateKey({ userIDs: [{ email: 'rev@example.invalid' }], format: 'object' });
    const signed = await openpgp.sign({ message: await openpgp.createCleartextMessage({ text: PAYLOAD }), signingKeys: privateKey });
    const { publicKey } = await openpgp.revokeKey({ key: privateKey, format: 'armored' });
    const verifier = await createVerifier({ keyrings: [await write('rev.asc', publicKey)] });
    const err = await verifier.verifyClearsigned(signed, 'rev.sjson').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KeyRevokedError);
    expect((err as Error).message).toContain(privateKey.getKeyID().toHex().toUpperCase());
  });
});
