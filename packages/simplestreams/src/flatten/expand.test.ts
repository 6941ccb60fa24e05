import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SHARED_DIR } from '@meph/test-support';
import { AliasError } from '../errors.js';
import type { ProductsDocument } from '../model.js';
import { parseProducts } from '../read/documents.js';
import { applyAliases, expandProducts, flattenItems } from './expand.js';

const STREAMS = path.join(SHARED_DIR, 'reference/streams');
const load = (rel: string): ProductsDocument => parseProducts(readFileSync(path.join(STREAMS, rel), 'utf8'), rel);

describe('expandProducts', () => {
  it.each([
    ['simplestreams-examples/cirros/streams/v1/net.cirros-cloud:released:download.json', 'golden/condense/cirros-released.expanded.json'],
    ['simplestreams-examples/foocloud/streams/v1/com.example.foovendor:released:download.json', 'golden/condense/foocloud-download.expanded.json'],
  ])('%s equals the reference client expanded form', (source, golden) => {
    expect(expandProducts(load(source))).toEqual(JSON.parse(readFileSync(path.join(STREAMS, golden), 'utf8')));
  });

  it('is idempotent, leaves the input alone and keeps non-scalar fields where they were', () => {
    const doc = load('go-simplestreams-testdata/lxd/products.json');
    const before = structuredClone(doc);
    const expanded = expandProducts(doc);
    expect(doc).toEqual(before);
    expect(expandProducts(expanded)).toEqual(expanded);
    const product = expanded.products['debian:bookworm:amd64:default']!;
    expect(product['requirements']).toEqual(before.products['debian:bookworm:amd64:default']!['requirements']);
    expect(product['arch']).toBeUndefined();
    const item = Object.values(Object.values(product.versions)[0]!.items)[0]!;
    expect(item['arch']).toBe('amd64');
  });

  it('lets the deepest level win', () => {
    const doc = parseProducts({ format: 'products:1.0', content_id: 'c', products: { p: { a: 'p', b: 'p', versions: { v: { b: 'v', items: { i: { x: 1 }, j: { a: 'i', b: true } } } } } } }, 's');
    expect(expandProducts(doc).products['p']!.versions['v']!.items).toEqual({ i: { a: 'p', b: 'v', x: 1 }, j: { a: 'i', b: true } });
  });
});

describe('flattenItems', () => {
  it('merges top → product → version → item with the synthetic names, skipping objects', () => {
    const items = flattenItems(load('go-simplestreams-testdata/lxd/products.json'));
    expect(items.length).toBeGreaterThan(0);
    for (const item of items) {
      expect(item.content_id).toBeTypeOf('string');
      expect(item.product_name).toBe('debian:bookworm:amd64:default');
      expect(item).not.toHaveProperty('requirements');
      expect(item).not.toHaveProperty('versions');
      expect(item).not.toHaveProperty('items');
    }
  });

  it('keeps JSON types by default and stringifies like Python on request', () => {
    const doc = parseProducts({ format: 'products:1.0', content_id: 'c', products: { p: { supported: true, versions: { v: { items: { i: { size: 38, n: null, f: false } } } } } } }, 's');
    expect(flattenItems(doc)[0]).toEqual({ format: 'products:1.0', content_id: 'c', supported: true, product_name: 'p', version_name: 'v', size: 38, f: false, item_name: 'i' });
    expect(flattenItems(doc, { stringify: true })[0]).toMatchObject({ supported: 'True', size: '38', f: 'False' });
    expect(flattenItems(doc, { stringify: true })[0]).not.toHaveProperty('n');
  });

  it('applies _aliases like the reference client (overwriting, original key kept)', () => {
    const doc = parseProducts(
      {
        format: 'products:1.0',
        content_id: 'c',
        _aliases: { crsn: { 'us-east-1': { region: 'us-east-1', endpoint: 'https://ec2.us-east-1.amazonaws.com' } } },
        products: { p: { region: 'old', versions: { v: { items: { i: { crsn: 'us-east-1', id: 'ami-1' } } } } } },
      },
      's',
    );
    expect(flattenItems(doc)[0]).toMatchObject({ crsn: 'us-east-1', region: 'us-east-1', endpoint: 'https://ec2.us-east-1.amazonaws.com', id: 'ami-1' });
    expect(doc.products['p']!.versions['v']!.items['i']).toEqual({ crsn: 'us-east-1', id: 'ami-1' });
    const bad = { ...doc, products: { p: { versions: { v: { items: { i: { crsn: 'mars-1' } } } } } } } as ProductsDocument;
    expect(() => applyAliases(bad, 'aws.json')).toThrow(AliasError);
    expect(() => applyAliases(bad, 'aws.json')).toThrow('aws.json: _aliases.crsn has no entry for "mars-1"');
  });
});
