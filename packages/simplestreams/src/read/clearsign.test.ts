import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHARED_DIR } from '@meph/test-support';
import { FormatError } from '../errors.js';
import { extractClearsignedPayload, isClearsigned, splitClearsigned } from './clearsign.js';

const SIGNED_INDEX = path.join(SHARED_DIR, 'reference/streams/cloud-images-2016-index-juju-testkey/streams/v1/index.sjson');

function clearsigned(body: string, headers = 'Hash: SHA512\n', eol = '\n'): string {
  return ['-----BEGIN PGP SIGNED MESSAGE-----', `${headers}`, body, '-----BEGIN PGP SIGNATURE-----', '', 'iQEzBAEBCgAdFiEE', '=abcd', '-----END PGP SIGNATURE-----', ''].join('\n').replace(/\n/g, eol);
}

describe('isClearsigned', () => {
  it('recognises a BEGIN line anywhere (so text around a signed message is refused, not read as JSON)', () => {
    expect(isClearsigned(readFileSync(SIGNED_INDEX, 'utf8'))).toBe(true);
    expect(isClearsigned('{"a": 1}\n-----BEGIN PGP SIGNED MESSAGE-----\r\nHash: SHA1')).toBe(true);
    expect(isClearsigned('{"a": "-----BEGIN PGP SIGNED MESSAGE-----"}')).toBe(false);
    expect(isClearsigned('-----BEGIN PGP SIGNED MESSAGE----- trailing')).toBe(false);
  });
});

describe('extractClearsignedPayload', () => {
  it('returns the JSON of the real signed index', () => {
    const text = readFileSync(SIGNED_INDEX, 'utf8');
    const doc = JSON.parse(extractClearsignedPayload(text, SIGNED_INDEX));
    expect(doc.format).toBe('index:1.0');
    expect(Object.keys(doc.index)).toHaveLength(10);
  });

  it('undoes dash escaping, keeps other lines, joins with LF and drops the last line break', () => {
    const body = '- -----BEGIN fake-----\n- - nested\n-not escaped\nplain';
    expect(extractClearsignedPayload(clearsigned(body), 's')).toBe('-----BEGIN fake-----\n- nested\n-not escaped\nplain');
  });

  it('accepts CRLF, several Hash: headers and blank lines after the END line; strips trailing whitespace as RFC 4880 does', () => {
    const body = '{ \t\n "a": 1, \n}';
    expect(extractClearsignedPayload(clearsigned(body, 'Hash: SHA256\nHash: SHA512\n', '\r\n'), 's')).toBe('{\n "a": 1,\n}');
    expect(splitClearsigned(`${clearsigned(body, 'Hash: SHA256, sha512\n')}\n \n`, 's').hashes).toEqual(['SHA256', 'SHA512']);
  });

  it('rejects truncated or malformed messages with a FormatError naming the source', () => {
    const good = clearsigned('{}');
    expect(() => extractClearsignedPayload('{}', 'a.sjson')).toThrow(FormatError);
    expect(() => extractClearsignedPayload(good.slice(0, good.indexOf('-----BEGIN PGP SIGNATURE')), 'a.sjson')).toThrow(/a.sjson: .*no "-----BEGIN PGP SIGNATURE-----" line/);
    expect(() => extractClearsignedPayload(good.slice(0, good.indexOf('-----END')), 'a.sjson')).toThrow(/no "-----END PGP SIGNATURE-----" line/);
    expect(() => extractClearsignedPayload('-----BEGIN PGP SIGNED MESSAGE-----\nHash SHA1\n\n{}\n', 'a.sjson')).toThrow(/unexpected armor header/);
  });

  // Unchecked extraction (--no-verify) frames exactly like verification: one message, nothing around it.
  it('refuses anything but exactly one message: text before or after, a second block, other or missing headers', () => {
    const good = clearsigned('{"a": 1}');
    const cases: Array<[string, RegExp]> = [
      [`{"evil": 1}\n${good}`, /text before the "-----BEGIN PGP SIGNED MESSAGE-----" line/],
      [`\n${good}`, /text before/],
      [`\uFEFF${good}`, /text before the "-----BEGIN PGP SIGNED MESSAGE-----" line \(a byte order mark\)/],
      [`${good}${clearsigned('{"evil": 1}')}`, /a second "-----BEGIN PGP SIGNED MESSAGE-----" line/],
      [`${good}{"evil": 1}\n`, /text after the "-----END PGP SIGNATURE-----" line/],
      [clearsigned('{}', ''), /no "Hash:" armor header/],
      [clearsigned('{}', 'Hash: SHA256\nComment: x\n'), /only "Hash:" is allowed/],
    ];
    for (const [text, why] of cases) expect(() => extractClearsignedPayload(text, 'x.sjson')).toThrow(why);
  });
});

// GnuPG writes the dash-escaped form; our extraction must give back exactly the signed text.
describe('against GnuPG --clearsign', () => {
  let home: string;
  beforeAll(() => {
    home = mkdtempSync(path.join(os.tmpdir(), 'meph-gpg-'));
    execFileSync('gpg', ['--batch', '--passphrase', '', '--quick-gen-key', 'meph test <test@example.invalid>', 'ed25519', 'sign', 'never'], { env: { ...process.env, GNUPGHOME: home }, stdio: 'pipe' });
  });
  afterAll(() => {
    try {
      execFileSync('gpgconf', ['--kill', 'all'], { env: { ...process.env, GNUPGHOME: home }, stdio: 'pipe' });
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('round-trips lines that start with dashes', () => {
    const text = '[\n-1,\n-2.5,\n"--x"\n]';
    const signed = execFileSync('gpg', ['--batch', '--clearsign'], { input: `${text}\n`, env: { ...process.env, GNUPGHOME: home } }).toString('utf8');
    expect(signed).toContain('\n- -1,\n');
    expect(extractClearsignedPayload(signed, 'gpg')).toBe(text);
    expect(JSON.parse(extractClearsignedPayload(signed, 'gpg'))).toEqual([-1, -2.5, '--x']);
  });
});
