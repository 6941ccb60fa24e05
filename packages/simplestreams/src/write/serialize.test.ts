import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SHARED_DIR } from '@meph/test-support';
import { serializeJson, serializeJsonChunks } from './serialize.js';
import { formatUpdated } from './updated.js';

/** Reference implementation: sorted deep copy + JSON.stringify(indent 1) + newline. */
function reference(value: unknown): string {
  const sortDeep = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sortDeep);
    if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortDeep((v as Record<string, unknown>)[k])]));
    return v;
  };
  return `${JSON.stringify(sortDeep(value), null, 1)}\n`;
}

function jsonFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n);
    if (statSync(p).isDirectory()) return jsonFiles(p);
    return n.endsWith('.json') ? [p] : [];
  });
}

describe('serializeJson', () => {
  const files = jsonFiles(path.join(SHARED_DIR, 'reference/streams'));

  it('equals the reference implementation on every reference JSON file', () => {
    expect(files.length).toBeGreaterThan(20);
    for (const f of files) {
      const value: unknown = JSON.parse(readFileSync(f, 'utf8'));
      expect(serializeJson(value), f).toBe(reference(value));
    }
  });

  it("reproduces the reference client's own dumps byte for byte (golden condense files)", () => {
    const golden = files.filter((f) => f.includes(`${path.sep}condense${path.sep}`));
    expect(golden).toHaveLength(8);
    for (const f of golden) {
      const text = readFileSync(f, 'utf8');
      expect(serializeJson(JSON.parse(text)), f).toBe(text);
    }
  });

  it('handles empty containers, nesting, escapes, undefined and non-finite numbers like JSON.stringify', () => {
    const v = { b: [], a: {}, c: [1, 'x"\n\u2028', null, { z: 1, y: [{}] }], d: undefined, e: Number.NaN, f: true, g: [undefined] };
    expect(serializeJson(v)).toBe(reference(v));
    expect(serializeJson({})).toBe('{}\n');
    // sorted subtrees (native fast path) nested at several depths inside unsorted parents
    const mixed = { b: { y: [{ a: 1, b: { c: [1, { d: 2, e: [] }] } }, { z: 1, a: 2 }], x: { b: 1, a: 2 } }, a: 'q', c: [[{ k: 'v' }]] };
    expect(serializeJson(mixed)).toBe(reference(mixed));
    // integer-like keys sort as strings, as Python does (a JS object would list 2 before 10)
    expect(serializeJson({ '2': 'b', '10': 'a' })).toBe('{\n "10": "a",\n "2": "b"\n}\n');
    const big = { products: Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`p${i}`, { z: i, a: { s: 'x'.repeat(i % 50) } }])) };
    expect(serializeJson(big)).toBe(reference(big));
    expect(serializeJson('é')).toBe('"é"\n');
  });

  it('gives the same bytes whether few objects are out of order (copied) or many (streamed), with integer-like keys anywhere', () => {
    const sorted = { a: { '1': 'x', '2': { b: 1, c: [{ d: 1 }] } }, products: Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`p${String(i).padStart(3, '0')}`, { a: i, v: { x: 'y' } }])) };
    const few = structuredClone(sorted) as Record<string, any>;
    few.products.p050 = { v: { z: 1, y: 2 }, a: 'changed' };
    few.a['2'].c.push({ f: 1, e: 2 });
    expect(serializeJson(few)).toBe(reference(few));
    const many = { products: Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`p${i}`, { z: i, a: { y: 'a', x: 'b' } }])) };
    expect(serializeJson(many)).toBe(reference(many));
    expect(() => serializeJson({ b: 1n, a: 1 })).toThrow(/BigInt/);
  });
});

describe('serializeJsonChunks', () => {
  it('hands out bounded pieces whose concatenation is serializeJson, without ever building the whole text', () => {
    // ~5 MB products document in key order: the native path, one call per product
    const products = Object.fromEntries(
      Array.from({ length: 1000 }, (_, i) => [`p${String(i).padStart(4, '0')}`, { arch: 'amd64', versions: Object.fromEntries(Array.from({ length: 40 }, (_, v) => [`2025.${String(v).padStart(2, "0")}`, { items: { a: { path: `x/${i}/${v}/a`, size: v } } }])) }]),
    );
    const doc = { content_id: 'c', format: 'products:1.0', products };
    const pieces = [...serializeJsonChunks(doc)];
    expect(pieces.join('')).toBe(reference(doc));
    expect(pieces.length).toBeGreaterThan(3);
    for (const p of pieces) expect(p.length).toBeLessThan((1 << 20) + 20_000);
    // a generator: nothing is serialised before the first piece is asked for
    const lazy = serializeJsonChunks({ get a(): never { throw new Error('read too early'); } });
    expect(() => lazy.next()).toThrow('read too early');
  });

  it('skips undefined, function and symbol values at the levels it writes key by key, as JSON.stringify does', () => {
    const v = { a: undefined, b: () => 1, c: Symbol('s'), products: { p: undefined, q: { x: 1, y: undefined }, r: [undefined, 1] }, z: null };
    expect([...serializeJsonChunks(v)].join('')).toBe(reference(v));
    expect([...serializeJsonChunks({ a: undefined })].join('')).toBe('{}\n');
    expect([...serializeJsonChunks([1, { b: 2 }])].join('')).toBe(reference([1, { b: 2 }]));
  });
});

describe('formatUpdated', () => {
  it('writes RFC 2822 in UTC with English names and +0000', () => {
    expect(formatUpdated(new Date(Date.UTC(2026, 6, 23, 10, 7, 14)))).toBe('Thu, 23 Jul 2026 10:07:14 +0000');
    expect(formatUpdated(new Date(Date.UTC(2024, 0, 1, 0, 0, 0)))).toBe('Mon, 01 Jan 2024 00:00:00 +0000');
    expect(formatUpdated()).toMatch(/^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d \+0000$/);
    expect(() => formatUpdated(new Date('x'))).toThrow(RangeError);
  });
});
