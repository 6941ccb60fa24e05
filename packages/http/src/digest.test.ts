import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { ChecksumMismatchError, SizeMismatchError } from './errors.js';
import { assertDigest, Digester, digestFile } from './digest.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'meph-digest-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
// `printf abc | sha256sum`, `| md5sum`
const ABC = { size: 3, sha256: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad', md5: '900150983cd24fb0d6963f7d28e17f72' };

describe('streamed digests', () => {
  it('digestFile gives size and every checksum asked for in one pass', async () => {
    writeFileSync(path.join(dir, 'abc'), 'abc');
    expect(await digestFile(path.join(dir, 'abc'), ['sha256', 'md5'])).toEqual(ABC);
    expect(await digestFile(path.join(dir, 'abc'), ['md5'])).toEqual({ size: 3, md5: ABC.md5 });
  });

  it('updateFrom hashes a stream in chunks, strings included, and can continue', async () => {
    const d = new Digester(['sha256', 'md5']);
    await d.updateFrom(Readable.from([Buffer.from('a')]));
    await d.updateFrom(Readable.from(['b', Buffer.from('c')], { objectMode: true }));
    expect(d.digest()).toEqual(ABC);
  });

  it('digestFile stops when aborted and fails for a missing file', async () => {
    const ac = new AbortController();
    ac.abort(new Error('stop'));
    await expect(digestFile(path.join(dir, 'abc'), ['sha256'], { signal: ac.signal })).rejects.toThrow();
    await expect(digestFile(path.join(dir, 'nope'), ['sha256'])).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('assertDigest names the first difference', () => {
    expect(() => assertDigest('x', ABC, { size: 4 })).toThrow(SizeMismatchError);
    expect(() => assertDigest('x', ABC, { checksums: { md5: '0'.repeat(32) } })).toThrow(ChecksumMismatchError);
    expect(() => assertDigest('x', ABC, { size: 3, checksums: { sha256: ABC.sha256.toUpperCase() } })).not.toThrow();
  });
});
