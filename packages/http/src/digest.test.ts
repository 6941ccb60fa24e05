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

  it('digestFile: small files read whole, files above 1 MiB streamed, empty files and FIFOs: the same digests as hashing the bytes', async () => {
    const { createHash, randomBytes } = await import('node:crypto');
    const { execFileSync } = await import('node:child_process');
    const { createWriteStream } = await import('node:fs');
    const want = (b: Buffer): { size: number; sha256: string; md5: string } => ({ size: b.length, sha256: createHash('sha256').update(b).digest('hex'), md5: createHash('md5').update(b).digest('hex') });
    for (const n of [0, 1, 4096, (1 << 20) - 1, 1 << 20, (1 << 20) + 1, 3 * (1 << 20) + 17]) {
      const b = randomBytes(n);
      writeFileSync(path.join(dir, `f${n}`), b);
      expect(await digestFile(path.join(dir, `f${n}`), ['sha256', 'md5'])).toEqual(want(b));
    }
    // a FIFO says size 0 whatever it carries: streamed to its end
    const fifo = path.join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const b = randomBytes(200_000);
    const writer = createWriteStream(fifo);
    writer.end(b);
    expect(await digestFile(fifo, ['sha256', 'md5'])).toEqual(want(b));
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
