import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { useTempDir } from '@meph/test-support';
import { ChecksumMismatchError, MissingFileError, SizeMismatchError } from '../errors.js';
import { isTempName, mkdirPublic, writeFileAtomic, writeJsonAtomic } from './atomic.js';
import { copyFileVerified, hashFile, verifyFile } from './checksum.js';

const dir = useTempDir('meph-write-');

const digest = (alg: string, data: Uint8Array | string): string => createHash(alg).update(data).digest('hex');

describe('writeFileAtomic / writeJsonAtomic', () => {
  it('writes strings, bytes and streams, replaces the old content and leaves no temp file', async () => {
    const f = path.join(dir.path, 'sub', 'a.json');
    await writeFileAtomic(f, 'one');
    expect(await fsp.readFile(f, 'utf8')).toBe('one');
    await writeFileAtomic(f, new TextEncoder().encode('two'));
    expect(await fsp.readFile(f, 'utf8')).toBe('two');
    await writeFileAtomic(f, Readable.from([Buffer.from('th'), 'ree']));
    expect(await fsp.readFile(f, 'utf8')).toBe('three');
    await writeJsonAtomic(f, { b: 1, a: [true] });
    expect(await fsp.readFile(f, 'utf8')).toBe('{\n "a": [\n  true\n ],\n "b": 1\n}\n');
    expect(await fsp.readdir(path.join(dir.path, 'sub'))).toEqual(['a.json']);
  });

  it('writes long text in slices without splitting a surrogate pair, and text given in pieces as it comes', async () => {
    const f = path.join(dir.path, 'long.json');
    // an astral character straddling every 1 MiB code-unit boundary
    const text = Array.from({ length: 3 }, () => `${'a'.repeat((1 << 20) - 1)}😀`).join('') + 'é';
    await writeFileAtomic(f, text);
    expect((await fsp.readFile(f)).equals(Buffer.from(text, 'utf8'))).toBe(true);
    function* pieces(): Generator<string> {
      yield '{"a": ';
      yield `"${'é'.repeat(1 << 20)}😀"`;
      yield '}\n';
    }
    await writeFileAtomic(f, pieces());
    expect(await fsp.readFile(f, 'utf8')).toBe(`{"a": "${'é'.repeat(1 << 20)}😀"}\n`);
  });

  it('keeps the old file and removes the temp file when the source stream fails', async () => {
    const f = path.join(dir.path, 'a.json');
    await writeFileAtomic(f, 'old');
    const failing = new Readable({
      read() {
        this.push('partial');
        this.destroy(new Error('network gone'));
      },
    });
    await expect(writeFileAtomic(f, failing)).rejects.toThrow('network gone');
    expect(await fsp.readFile(f, 'utf8')).toBe('old');
    expect(await fsp.readdir(dir.path)).toEqual(['a.json']);
  });

  it('names temp files so they never look like products files', () => {
    expect(isTempName('.x.json.123.abcd1234.meph-tmp')).toBe(true);
    expect('.x.json.123.abcd1234.meph-tmp'.endsWith('.json')).toBe(false);
  });
});

describe('mkdirPublic', () => {
  it('makes the directories of many files placed at once, each 0755 whatever the umask', async () => {
    const old = process.umask(0o077);
    try {
      const leaves = ['a/v1/k0/generic', 'a/v1/k0/generic', 'a/v1/k1/generic', 'a/v1', 'a/v2/k0', 'b'].map((d) => path.join(dir.path, d));
      await Promise.all(leaves.map((d) => mkdirPublic(d)));
      await mkdirPublic(path.join(dir.path, 'a/v1/k0/generic')); // already there
      for (const d of ['a', 'a/v1', 'a/v1/k0', 'a/v1/k0/generic', 'a/v1/k1/generic', 'a/v2/k0', 'b']) {
        expect(((await fsp.stat(path.join(dir.path, d))).mode & 0o777).toString(8), d).toBe('755');
      }
    } finally {
      process.umask(old);
    }
  });

  it('refuses a path where a file stands in the way', async () => {
    await fsp.writeFile(path.join(dir.path, 'f'), '');
    await expect(mkdirPublic(path.join(dir.path, 'f'))).rejects.toMatchObject({ code: 'EEXIST' });
    await expect(mkdirPublic(path.join(dir.path, 'f/sub'))).rejects.toMatchObject({ code: 'ENOTDIR' });
  });
});

describe('hashFile / verifyFile / copyFileVerified', () => {
  const data = Buffer.alloc(3 * 1024 * 1024 + 17, 7); // spans several read chunks
  const item = { size: data.length, sha256: digest('sha256', data), sha512: digest('sha512', data), md5: digest('md5', data) };

  it('computes size and all three checksums in one pass', async () => {
    const f = path.join(dir.path, 'd');
    await fsp.writeFile(f, data);
    expect(await hashFile(f, ['sha256', 'sha512', 'md5'])).toEqual(item);
    expect(await hashFile(f)).toEqual({ size: item.size, sha256: item.sha256 });
    await expect(hashFile(path.join(dir.path, 'missing'))).rejects.toBeInstanceOf(MissingFileError);
  });

  it('hashes files of every size alike, either side of the one-read limit', async () => {
    for (const size of [0, 1, (1 << 20) - 1, 1 << 20, (1 << 20) + 1]) {
      const bytes = Buffer.alloc(size, size % 251);
      const f = path.join(dir.path, `s${size}`);
      await fsp.writeFile(f, bytes);
      expect(await hashFile(f, ['sha256', 'md5']), `size ${size}`).toEqual({ size, sha256: digest('sha256', bytes), md5: digest('md5', bytes) });
    }
    await expect(hashFile(dir.path)).rejects.toThrow(/EISDIR|directory/);
  });

  it('places a file without fsyncing its directory when the caller will (syncDir: false), verified all the same', async () => {
    const src = path.join(dir.path, 'small');
    await fsp.writeFile(src, 'tiny');
    const tiny = { size: 4, sha256: digest('sha256', 'tiny') };
    expect(await copyFileVerified(src, path.join(dir.path, 'o', 'small'), tiny, { syncDir: false })).toBe('link');
    expect(await copyFileVerified(Readable.from(['ti', 'ny']), path.join(dir.path, 'o', 'streamed'), tiny, { syncDir: false })).toBe('copy');
    expect((await fsp.readdir(path.join(dir.path, 'o'))).sort()).toEqual(['small', 'streamed']);
    await expect(copyFileVerified(Readable.from(['tinY']), path.join(dir.path, 'o', 'bad'), tiny, { syncDir: false })).rejects.toBeInstanceOf(ChecksumMismatchError);
    expect((await fsp.readdir(path.join(dir.path, 'o'))).sort()).toEqual(['small', 'streamed']);
  });

  it('verifies size and every checksum present, naming the failing one', async () => {
    const f = path.join(dir.path, 'd');
    await fsp.writeFile(f, data);
    await verifyFile(f, item);
    await verifyFile(f, { md5: item.md5 });
    await expect(verifyFile(f, { ...item, size: 5 })).rejects.toBeInstanceOf(SizeMismatchError);
    await expect(verifyFile(f, { ...item, sha512: '0'.repeat(128) })).rejects.toMatchObject({ name: 'ChecksumMismatchError', algorithm: 'sha512' });
    await expect(verifyFile(f, { ...item, md5: 'f'.repeat(32) })).rejects.toBeInstanceOf(ChecksumMismatchError);
    await expect(verifyFile(f, { path: 'x' })).rejects.toThrow(/neither a size nor a checksum/);
    await expect(verifyFile(path.join(dir.path, 'nope'), item)).rejects.toBeInstanceOf(MissingFileError);
  });

  it('copies a file or a stream with verification, and refuses a corrupt source without touching the target', async () => {
    const src = path.join(dir.path, 'src');
    await fsp.writeFile(src, data);
    const to = path.join(dir.path, 'out', 'deep', 'file');
    await copyFileVerified(src, to, item);
    expect((await fsp.readFile(to)).equals(data)).toBe(true);
    const to2 = path.join(dir.path, 'out', 'streamed');
    await copyFileVerified(Readable.from([data.subarray(0, 10), data.subarray(10)]), to2, item);
    expect((await fsp.readFile(to2)).equals(data)).toBe(true);

    // `to` was hard-linked to `src` (same filesystem): replace both, never rewrite in place
    await fsp.rm(to);
    await fsp.writeFile(to, 'previous');
    const bad = Buffer.from(data);
    bad[100] = 8;
    await fsp.rm(src);
    await fsp.writeFile(src, bad);
    await expect(copyFileVerified(src, to, item)).rejects.toMatchObject({ name: 'ChecksumMismatchError', algorithm: 'sha256' });
    expect(await fsp.readFile(to, 'utf8')).toBe('previous');
    expect((await fsp.readdir(path.join(dir.path, 'out', 'deep'))).sort()).toEqual(['file']);
    await expect(copyFileVerified(path.join(dir.path, 'absent'), to, item)).rejects.toBeInstanceOf(MissingFileError);
  });
});
