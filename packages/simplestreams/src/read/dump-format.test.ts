import { describe, expect, it } from 'vitest';
import { DocumentLimitError, UnrepresentableValueError } from '../errors.js';
import { serializeJson } from '../write/serialize.js';
import { isPlainDump } from './dump-format.js';
import { parseJson } from './json.js';
import { MAX_JSON_DEPTH } from './limits.js';

const products = {
  content_id: 'com.ubuntu.maas:v3:download',
  format: 'products:1.0',
  products: {
    'com.ubuntu.maas:v3:boot:24.04:amd64:ga-24.04': {
      arch: 'amd64',
      subarches: 'generic,hwe-p,hwe-q',
      versions: {
        '20240101': {
          items: {
            'boot-kernel': { ftype: 'boot-kernel', path: 'noble/amd64/20240101/ga-24.04/generic/boot-kernel', sha256: 'ab'.repeat(32), size: 14_000_000 },
            'root.tgz': { ftype: 'root-tgz', path: 'é/ü.tgz', size: 0 },
          },
          label: 'release',
        },
      },
      empty: {},
      list: [],
      flags: [true, false, null, -7, 'x, y: {z}'],
    },
  },
};

describe('isPlainDump', () => {
  it('recognises what serializeJson writes with plain values', () => {
    expect(isPlainDump(serializeJson(products))).toBe(true);
    expect(isPlainDump(serializeJson({}))).toBe(true);
    expect(isPlainDump(serializeJson({ a: [[[]]], b: { c: { d: {} } } }))).toBe(true);
  });

  it('refuses any other layout of the same document', () => {
    const text = serializeJson(products);
    const variants: Record<string, string> = {
      'indent 2': `${JSON.stringify(products, null, 2)}\n`,
      compact: `${JSON.stringify(products)}\n`,
      'no final newline': text.slice(0, -1),
      'CRLF line ends': text.replace(/\n/g, '\r\n'),
      'two spaces after a colon': text.replace('"format": ', '"format":  '),
      'no space after a colon': text.replace('"format": ', '"format":'),
      'space before a comma': text.replace('",\n', '" ,\n'),
      'a closing line too deep': text.replace('\n   }', '\n    }'),
      'a member line too shallow': text.replace('\n     "items"', '\n    "items"'),
      'a value on the next line': text.replace('"format": "products:1.0"', '"format":\n "products:1.0"'),
      'two members on one line': text.replace('"content_id": "com.ubuntu.maas:v3:download",\n "format"', '"content_id": "com.ubuntu.maas:v3:download", "format"'),
      'a blank line': text.replace('{\n', '{\n\n'),
      'a tab': text.replace('\n "format"', '\n\t"format"'),
      'a leading space': ` ${text}`,
    };
    for (const [name, variant] of Object.entries(variants)) {
      expect(variant, name).not.toBe(text);
      expect(isPlainDump(variant), name).toBe(false);
    }
  });

  it('refuses values checkJsonText must look at: escapes, fractions, exponents, long integers, -0', () => {
    for (const value of ['a"b', 'a\\b', 'line\nbreak', 1.5, 1e21, 2 ** 53, 1_234_567_890_123_456, 123_456_789_012_345.5]) {
      expect(isPlainDump(serializeJson({ v: value })), String(value)).toBe(false);
    }
    expect(isPlainDump('{\n "v": -0\n}\n')).toBe(false);
    expect(isPlainDump('{\n "v": 1e3\n}\n')).toBe(false);
    expect(isPlainDump('{\n "v": "\\u0041"\n}\n')).toBe(false);
    expect(isPlainDump(serializeJson({ v: 123_456_789_012_345, w: -123_456_789_012_345 }))).toBe(true);
  });

  it('leaves nesting past the limit to checkJsonText, which refuses it', () => {
    const nested = (depth: number): unknown => (depth === 1 ? { leaf: 1 } : { n: nested(depth - 1) });
    const atLimit = serializeJson(nested(MAX_JSON_DEPTH));
    expect(parseJson(atLimit, 'deep.json')).toEqual(nested(MAX_JSON_DEPTH));
    const emptyAtLimit = serializeJson(nested(MAX_JSON_DEPTH - 1)).replace('"leaf": 1', '"leaf": {}');
    expect(isPlainDump(emptyAtLimit)).toBe(true);
    const over = serializeJson(nested(MAX_JSON_DEPTH + 1));
    expect(isPlainDump(over)).toBe(false);
    expect(() => parseJson(over, 'deep.json')).toThrow(DocumentLimitError);
  });

  it('takes the checked path for the rest: parseJson still refuses inexact numbers in a dump', () => {
    const text = serializeJson({ size: 1 }).replace('1', '9007199254740993');
    expect(isPlainDump(text)).toBe(false);
    expect(() => parseJson(text, 'p.json')).toThrow(UnrepresentableValueError);
  });

  it('agrees with a rewrite on random documents: plain exactly when every value is plain', () => {
    let seed = 7;
    const rand = (n: number): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    const scalars: unknown[] = ['', 'plain', 'é ü', 'a, b: {c}', 0, 42, -3, 999_999_999_999_999, true, false, null];
    const unplain: unknown[] = ['q"uote', 'back\\slash', 'tab\t', 0.5, 1e21, -1e-7];
    const gen = (depth: number, allowUnplain: boolean): unknown => {
      const r = rand(10);
      if (depth > 5 || r < 4) {
        if (allowUnplain && rand(12) === 0) return unplain[rand(unplain.length)];
        return scalars[rand(scalars.length)];
      }
      if (r < 6) return Array.from({ length: rand(4) }, () => gen(depth + 1, allowUnplain));
      const o: Record<string, unknown> = {};
      for (let k = rand(5); k > 0; k--) o[`k${rand(20)}`] = gen(depth + 1, allowUnplain);
      return o;
    };
    const hasUnplain = (v: unknown): boolean =>
      unplain.includes(v) || (typeof v === 'object' && v !== null && Object.values(v).some(hasUnplain));
    let plain = 0;
    for (let i = 0; i < 400; i++) {
      const doc = { root: gen(0, i % 2 === 1) };
      const text = serializeJson(doc);
      expect(isPlainDump(text), text).toBe(!hasUnplain(doc));
      if (isPlainDump(text)) plain++;
      expect(parseJson(text, 'r.json')).toEqual(doc);
    }
    expect(plain).toBeGreaterThan(250);
  });
});
