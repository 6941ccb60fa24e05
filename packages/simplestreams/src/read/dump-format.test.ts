import { describe, expect, it } from 'vitest';
import { DocumentLimitError, UnrepresentableValueError } from '../errors.js';
import { CHECK_REUSE_ENV, serializeJson } from '../write/serialize.js';
import { isPlainDump, rememberedText, rememberProductTexts } from './dump-format.js';
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

describe('rememberProductTexts', () => {
  type Doc = { products: Record<string, Record<string, unknown>> } & Record<string, unknown>;
  const stream = (): Doc => ({
    content_id: 'c',
    format: 'products:1.0',
    products: {
      'p:a': { arch: 'amd64', versions: { '20240101.1': { items: { k: { path: 'a/k', size: 100 } } } } },
      'p:b': {},
      'p:c': { arch: 'arm64', versions: { '20240101.1': { items: { k: { path: 'c/k', size: 200 } } } } },
    },
  });
  const read = (text: string): Doc => {
    const doc = parseJson(text, 'p.json') as Doc;
    rememberProductTexts(doc.products, text);
    return doc;
  };
  /** serializeJson without the test suites' check of reused texts. */
  const unchecked = (value: unknown): string => {
    const saved = process.env[CHECK_REUSE_ENV];
    process.env[CHECK_REUSE_ENV] = '0';
    try {
      return serializeJson(value);
    } finally {
      if (saved === undefined) delete process.env[CHECK_REUSE_ENV];
      else process.env[CHECK_REUSE_ENV] = saved;
    }
  };

  it('writes an unchanged product from its text: a product changed in place is written as read, which the check catches', () => {
    const text = serializeJson(stream());
    const doc = read(text);
    expect(rememberedText(doc.products['p:b']!)).toBe('{}');
    const a = rememberedText(doc.products['p:a']!)!;
    expect(a.startsWith('{\n   "arch": "amd64",\n   "versions": {') && a.endsWith('"size": 100\n      }\n     }\n    }\n   }\n  }')).toBe(true);
    const items = (doc.products['p:c'] as { versions: Record<string, { items: Record<string, { size: number }> }> }).versions['20240101.1']!.items;
    items['k']!.size = 300; // in place, same length: only the remembered text can explain the old value
    expect(unchecked(doc)).toBe(text);
    expect(() => serializeJson(doc)).toThrow(/changed in place; change a copy instead/);
  });

  it('writes changed products afresh and unchanged ones as read, giving the full serialisation', () => {
    const doc = read(serializeJson(stream()));
    const { 'p:b': _dropped, ...kept } = doc.products;
    const edited: Doc = { ...doc, products: { ...kept, 'p:c': { ...doc.products['p:c'], arch: 's390x' }, 'p:0': { versions: {} } } };
    const fresh = parseJson(serializeJson(edited), 'fresh.json');
    expect(unchecked(edited)).toBe(serializeJson(fresh));
    expect(unchecked(edited)).toContain('"arch": "s390x"');
  });

  it('remembers nothing when the text does not line up with the products map', () => {
    const text = serializeJson(stream());
    const twice = text.replace('\n  "p:b": {},', '\n  "p:b": {},\n  "p:b": {},');
    expect(isPlainDump(twice)).toBe(true);
    const doc = read(twice);
    for (const name of Object.keys(doc.products)) expect(rememberedText(doc.products[name]!), name).toBeUndefined();
    const notPlain = read(`${JSON.stringify(stream(), null, 2)}\n`);
    expect(rememberedText(notPlain.products['p:a']!)).toBeUndefined();
  });

  it('does not reuse a text that is not the serialisation of what was parsed from it', () => {
    const text = serializeJson(stream());
    const endOfVersions = '"size": 100\n      }\n     }\n    }\n   }';
    const cases: Record<string, string> = {
      'a key written twice (the last wins)': text.replace('"arch": "amd64",', '"arch": "i386",\n   "arch": "amd64",'),
      'keys out of order': text.replace('"arch": "amd64",\n   "versions"', '"versions"').replace(endOfVersions, `${endOfVersions},\n   "arch": "amd64"`),
      'an integer-like key (listed first by the object, whatever the text says)': text.replace('"arch": "amd64",\n   "versions"', '"versions"').replace(endOfVersions, `${endOfVersions},\n   "7": "amd64"`),
    };
    for (const [name, variant] of Object.entries(cases)) {
      expect(variant, name).not.toBe(text);
      expect(isPlainDump(variant), name).toBe(true);
      const doc = read(variant);
      expect(rememberedText(doc.products['p:a']!), name).toBeDefined();
      const expected = serializeJson(JSON.parse(JSON.stringify(doc)));
      expect(unchecked(doc), name).toBe(expected);
      expect(unchecked(doc), name).not.toBe(variant);
    }
  });

  it('reads the order of versions named by integers (listed first by the object) from the text', () => {
    const versions = { '10': { items: { k: { size: 10 } } }, '9': { items: { k: { size: 9 } } }, '9.1': { items: { k: { size: 91 } } } };
    const text = serializeJson({ format: 'products:1.0', products: { 'p:a': { arch: 'amd64', versions } } });
    const doc = read(text);
    const sizes = (d: Doc): Record<string, { items: { k: { size: number } } }> => d.products['p:a']!['versions'] as never;
    sizes(doc)['9']!.items.k.size = 8; // in place: written as read, so the text was reused
    expect(unchecked(doc)).toBe(text);
    const swapped = text.replace('"10": ', '"X": ').replace('"9": ', '"10": ').replace('"X": ', '"9": ');
    expect(swapped.length).toBe(text.length);
    const misordered = read(swapped);
    expect(Object.keys(sizes(misordered))).toEqual(['9', '10', '9.1']);
    expect(unchecked(misordered)).toBe(serializeJson(JSON.parse(JSON.stringify(misordered))));
    expect(unchecked(misordered)).not.toBe(swapped);
  });

  it('reuses a text only at the depth it was read at', () => {
    const doc = read(serializeJson(stream()));
    expect(unchecked(doc.products)).toBe(serializeJson(JSON.parse(JSON.stringify(doc.products))));
    expect(unchecked({ wrapped: doc })).toBe(serializeJson({ wrapped: JSON.parse(JSON.stringify(doc)) }));
  });
});
