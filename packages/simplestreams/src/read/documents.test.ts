import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SHARED_DIR } from '@meph/test-support';
import { FormatError, UnsafePathError } from '../errors.js';
import { extractClearsignedPayload, isClearsigned } from './clearsign.js';
import { parseDocument, parseIndex, parseProducts } from './documents.js';

const STREAMS = path.join(SHARED_DIR, 'reference/streams');

/** Every metadata document of the reference datasets (not golden outputs, not keys). */
function datasetFiles(dir = STREAMS): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) {
      if (!['golden', 'keys', 'files', 'product1'].includes(name)) out.push(...datasetFiles(p));
    } else if (/\.(json|sjson|sjs)$/.test(name)) out.push(p);
  }
  return out;
}

function payload(file: string): string {
  const text = readFileSync(file, 'utf8');
  return isClearsigned(text) ? extractClearsignedPayload(text, file) : text;
}

describe('reference datasets', () => {
  const files = datasetFiles();
  it('finds the datasets', () => expect(files.length).toBeGreaterThanOrEqual(14));

  for (const file of files) {
    const rel = path.relative(STREAMS, file);
    if (rel.startsWith('legacy-signed/')) {
      it(`${rel}: the pre-v1 stream-collection document is a FormatError after extraction`, () => {
        expect(() => parseDocument(payload(file), rel)).toThrow(FormatError);
        expect(() => parseDocument(payload(file), rel)).toThrow(/format is "stream-collection:1.0"/);
      });
      continue;
    }
    it(`${rel} parses as a v1 document`, () => {
      const doc = parseDocument(payload(file), rel);
      expect(['index:1.0', 'products:1.0']).toContain(doc.format);
    });
  }
});

describe('parseProducts / parseIndex', () => {
  const minimal = { format: 'products:1.0', content_id: 'c', products: { p: { versions: { v: { items: { i: { path: 'a' } } } } } } };

  it('keeps unknown fields and does not copy the value', () => {
    const value = { ...minimal, x_custom: { deep: [1, 2] }, license: 'GPL' };
    const doc = parseProducts(value, 's');
    expect(doc).toBe(value);
    expect(doc['x_custom']).toEqual({ deep: [1, 2] });
  });

  it('with checkPaths, refuses an unsafe product, version or item path in the same walk', () => {
    const withPath = (where: 'product' | 'version' | 'item', p: string): unknown => {
      const item: Record<string, unknown> = { path: where === 'item' ? p : 'a' };
      const version: Record<string, unknown> = { items: { i: item }, ...(where === 'version' ? { path: p } : {}) };
      return { format: 'products:1.0', content_id: 'c', products: { p: { versions: { v: version }, ...(where === 'product' ? { path: p } : {}) } } };
    };
    for (const where of ['product', 'version', 'item'] as const) {
      for (const bad of ['../etc/passwd', '/etc/passwd', 'a/../../b']) {
        expect(() => parseProducts(withPath(where, bad), 's', { checkPaths: true })).toThrow(UnsafePathError);
        expect(() => parseDocument(withPath(where, bad), 's', { checkPaths: true })).toThrow(UnsafePathError);
        expect(() => parseProducts(withPath(where, bad), 's')).not.toThrow();
      }
      expect(() => parseProducts(withPath(where, 'ok/path'), 's', { checkPaths: true })).not.toThrow();
    }
  });

  it('parses text and values alike', () => {
    expect(parseProducts(JSON.stringify(minimal), 's')).toEqual(minimal);
    expect(parseIndex('{"format":"index:1.0","index":{"c":{"path":"streams/v1/c.json","products":["p"]}}}', 's').index['c']?.path).toBe('streams/v1/c.json');
  });

  it.each([
    ['[]', /expected a JSON object \(products:1.0 document\), found an array/],
    ['{"products": {}}', /has no "format" field \(expected "products:1.0"\)/],
    ['{"format": "index:1.0", "products": {}}', /format is "index:1.0", expected "products:1.0"/],
    ['{"format": "products:1.0", "products": {}}', /has no "content_id"/],
    ['{"format": "products:1.0", "content_id": "c"}', /has no "products" object/],
    ['{"format": "products:1.0", "content_id": "c", "products": []}', /"products" must be an object, found an array/],
    ['{"format": "products:1.0", "content_id": "c", "products": {"p": 3}}', /product "p" must be an object/],
    ['{"format": "products:1.0", "content_id": "c", "products": {"p": {"versions": {"v": {"items": {"i": "x"}}}}}}', /item "i" of p v must be an object/],
  ])('rejects %s', (text, message) => {
    expect(() => parseProducts(text, 'streams/v1/bad.json')).toThrow(FormatError);
    expect(() => parseProducts(text, 'streams/v1/bad.json')).toThrow(message);
  });

  it.each([
    ['{"format": "products:1.0"}', /format is "products:1.0", expected "index:1.0"/],
    ['{"format": "index:1.0"}', /has no "index" object/],
    ['{"format": "index:1.0", "index": {"c": {"path": 7}}}', /"path" of index entry "c" must be a string/],
  ])('rejects index %s', (text, message) => {
    expect(() => parseIndex(text, 'i')).toThrow(message);
  });

  it('names the file in errors', () => {
    expect(() => parseDocument('{"format": "stream-collection:1.0"}', 'https://x/streams/v1/a.json')).toThrow(
      'https://x/streams/v1/a.json: format is "stream-collection:1.0", expected "index:1.0" or "products:1.0"',
    );
  });
});
