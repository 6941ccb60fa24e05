import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DocumentLimitError, UnrepresentableValueError } from '../errors.js';
import { parseJson } from './json.js';
import { checkJsonText, decodeUtf8Strict, jsonPathAt, maxDocumentBytes } from './limits.js';
import { openSource } from './source.js';
import { startStaticServer } from './__fixtures__/static-server.js';

describe('checkJsonText', () => {
  it('refuses nesting over the limit with the JSON path, before JSON.parse', () => {
    const deep = `{"a": {"b c": [1, ${'['.repeat(100_000)}${']'.repeat(100_000)}]}}`;
    expect(() => parseJson(deep, 'f.json')).toThrow(DocumentLimitError);
    expect(() => parseJson(deep, 'f.json')).toThrow(/^f\.json: JSON nested deeper than 64 levels at \$\.a\["b c"\]\[1\]\[0\]/);
    expect(() => checkJsonText('[[[1]]]', 'f.json', 2)).toThrow(/deeper than 2 levels at \$\[0\]\[0\]/);
    expect(() => checkJsonText('[[1]]', 'f.json', 2)).not.toThrow();
  });

  it('refuses numbers a rewrite would change, and accepts every exact one', () => {
    const bad: Array<[string, RegExp]> = [
      ['1e400', /number 1e400 is out of range/],
      ['-1E+400', /out of range/],
      ['9007199254740993', /integer 9007199254740993 is larger than 2\^53/],
      ['-123456789012345678901234567890', /larger than 2\^53/],
      ['0.10000000000000000000000001', /cannot be held exactly \(it would become 0\.1\)/],
      ['1e-400', /cannot be held exactly \(it would become 0\)/],
    ];
    for (const [n, why] of bad) {
      const err = (() => {
        try {
          parseJson(`{"items": {"x": {"size": ${n}}}}`, 'p.json');
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(err, n).toBeInstanceOf(UnrepresentableValueError);
      expect((err as Error).message, n).toMatch(why);
      expect((err as Error).message, n).toMatch(/^p\.json: \$\.items\.x\.size: /);
    }
    for (const n of ['0', '-0', '9007199254740991', '-9007199254740991', '1.5', '1.50', '0.1', '1e300', '1.5E-7', '123456789012345', '2.5e+3', '100e-2']) {
      expect(parseJson(`[${n}]`, 'p.json'), n).toEqual([Number(n)]);
    }
  });

  it('skips strings, escaped quotes and digits inside them', () => {
    expect(() => checkJsonText('{"a\\"[[[": "1e400 \\\\", "b": "[[[["}', 'f', 1)).not.toThrow();
  });

  it('checks what follows a run of plain members, however long, in objects pretty-printed or not', () => {
    const members = (n: number, sep: string): string => Array.from({ length: n }, (_, i) => `"k${i}":${sep}${i % 2 ? `"v[${i}]}"` : i}`).join(`,${sep}`);
    for (const sep of ['', ' ', '\n   ']) {
      for (const n of [1, 63, 64, 65, 200]) {
        const tail: Array<[string, RegExp | undefined]> = [
          ['"size": 9007199254740993', /^f: \$\.x\.size: integer 9007199254740993 is larger than 2\^53/],
          ['"size": 0.10000000000000000000000001', /^f: \$\.x\.size: number 0\.1\d+ cannot be held exactly/],
          ['"n": -5, "e": "a\\"b", "f": 1.5', undefined],
          ['"d": [[[1]]]', /^f: JSON nested deeper than 3 levels at \$\.x\.d\[0\]$/],
        ];
        for (const [last, why] of tail) {
          const text = `{"x": {${members(n, sep)},${sep}${last}}}`;
          if (why) expect(() => checkJsonText(text, 'f', 3), `${n} ${JSON.stringify(sep)} ${last}`).toThrow(why);
          else expect(() => checkJsonText(text, 'f', 3), `${n} ${JSON.stringify(sep)} ${last}`).not.toThrow();
        }
      }
    }
  });
});

describe('jsonPathAt', () => {
  it('names object keys and array indexes up to an offset', () => {
    const text = '{"products": {"p:1": {"versions": [{"a": 1}, {"b": 2}]}}}';
    expect(jsonPathAt(text, text.indexOf('2'))).toBe('$.products["p:1"].versions[1].b');
    expect(jsonPathAt(text, 0)).toBe('$');
  });
});

describe('decodeUtf8Strict', () => {
  it('decodes valid UTF-8 (BOM kept for the JSON reader to drop) and refuses invalid bytes with position and path', () => {
    expect(decodeUtf8Strict(Buffer.from('{"n": "café ☃"}'), 'f')).toBe('{"n": "café ☃"}');
    const ascii = Buffer.from('xx{"n": "plain \\u00e9"}xx');
    expect(decodeUtf8Strict(ascii.subarray(2, ascii.length - 2), 'f')).toBe('{"n": "plain \\u00e9"}');
    const bad = Buffer.concat([Buffer.from('{\n "a": {"name": "caf'), Buffer.from([0xc3]), Buffer.from('"}}')]);
    expect(() => decodeUtf8Strict(bad, 'f.json')).toThrow(UnrepresentableValueError);
    expect(() => decodeUtf8Strict(bad, 'f.json')).toThrow(/^f\.json: \$\.a\.name: invalid UTF-8 \(byte 0xc3 at line 2, column 20\)/);
  });
});

describe('maxDocumentBytes', () => {
  it('option, then $MEPH_MAX_DOCUMENT_BYTES, then 256 MiB; a bad value is refused', () => {
    expect(maxDocumentBytes(5, { MEPH_MAX_DOCUMENT_BYTES: '7' })).toBe(5);
    expect(maxDocumentBytes(undefined, { MEPH_MAX_DOCUMENT_BYTES: '7' })).toBe(7);
    expect(maxDocumentBytes(undefined, {})).toBe(256 * 1024 * 1024);
    expect(() => maxDocumentBytes(undefined, { MEPH_MAX_DOCUMENT_BYTES: '-1' })).toThrow(/must be a whole number of bytes/);
  });
});

describe('reading files from disk', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'meph-limits-'));
    await mkdir(path.join(dir, 'streams/v1'), { recursive: true });
    await writeFile(path.join(dir, 'streams/v1/real.json'), '{"format": "index:1.0", "index": {}}');
    await symlink('real.json', path.join(dir, 'streams/v1/link.json'));
    await symlink('/dev/zero', path.join(dir, 'streams/v1/zero.json'));
    await mkdir(path.join(dir, 'streams/v1/dir.json'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('follows symlinks to regular files, refuses devices and directories, caps the size', async () => {
    const src = openSource(dir);
    expect((await src.readDocument('streams/v1/link.json')).value).toEqual({ format: 'index:1.0', index: {} });
    await expect(src.readDocument('streams/v1/zero.json')).rejects.toThrow(/zero\.json: is a character device, not a regular file; refusing to read it/);
    await expect(src.readText('streams/v1/dir.json')).rejects.toThrow(/dir\.json: is a directory, not a regular file/);
    await expect(src.openData('streams/v1/zero.json')).rejects.toThrow(/is a character device/);
    await expect(openSource(dir, { maxDocumentBytes: 10 }).readText('streams/v1/real.json')).rejects.toThrow(/real\.json: is 36 bytes, over the 10-byte limit for a metadata document/);
  });
});

describe('reading over HTTP (real server on 127.0.0.1)', () => {
  it('refuses invalid UTF-8 instead of decoding it to U+FFFD', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'meph-limits-http-'));
    const server = await startStaticServer(root);
    try {
      await mkdir(path.join(root, 'streams/v1'), { recursive: true });
      await writeFile(path.join(root, 'streams/v1/p.json'), Buffer.concat([Buffer.from('{"format": "products:1.0", "name": "caf'), Buffer.from([0xff]), Buffer.from('"}')]));
      await expect(openSource(server.url).readDocument('streams/v1/p.json')).rejects.toThrow(/streams\/v1\/p\.json: \$\.name: invalid UTF-8 \(byte 0xff at line 1, column 40\)/);
    } finally {
      await server.close();
      await rm(root, { recursive: true, force: true });
    }
  });
});
