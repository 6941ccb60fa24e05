import { describe, expect, it } from 'vitest';
import { expandProducts, type Item, type ProductsDocument } from '@meph/simplestreams';
import { buildProduct, docHead, flattenProduct } from './tree.js';

/** The definition flattenProduct implements in one pass: expand the product, then drop tree keys and coerce size. */
function expandedItems(doc: ProductsDocument, pid: string): Record<string, Record<string, Item>> {
  const tree = new Set(['format', 'content_id', 'datatype', 'updated', 'products', 'versions', 'items', 'product_name', 'version_name', 'item_name']);
  const expanded = expandProducts({ ...docHead(doc), products: { [pid]: doc.products[pid]! } } as ProductsDocument);
  const out: Record<string, Record<string, Item>> = {};
  for (const [vname, version] of Object.entries(expanded.products[pid]!.versions)) {
    out[vname] = {};
    for (const [iname, item] of Object.entries(version.items)) {
      const flat: Item = Object.fromEntries(Object.entries(item).filter(([k]) => !tree.has(k)));
      if (flat.size !== undefined) flat.size = Math.trunc(Number(flat.size));
      out[vname][iname] = flat;
    }
  }
  return out;
}

describe('flattenProduct', () => {
  const doc = {
    format: 'products:1.0',
    content_id: 'c:stable:v3:download',
    datatype: 'image-ids',
    arch: 'top-level fields are not inherited',
    products: {
      p: {
        arch: 'amd64',
        label: 'stable',
        format: 'a tree key on a product',
        requirements: { ram: 1 },
        support_eol: '2029-05-31',
        flag: true,
        n: 3,
        nothing: null,
        versions: {
          v1: {
            label: 'candidate',
            items_extra: ['list'],
            version_name: 'tree key on a version',
            items: {
              squashfs: { ftype: 'squashfs', path: 'a/squashfs', size: '12.9', arch: 'arm64', item_name: 'x', meta: { a: 1 } },
              kernel: { ftype: 'boot-kernel', path: 'a/kernel' },
            },
          },
          v2: { items: { squashfs: { ftype: 'squashfs', path: 'b/squashfs', size: 7, n: 'four' } } },
          empty: { items: {} },
          bare: {},
        },
      },
    },
  } as unknown as ProductsDocument;

  it('equals expanding the product and dropping tree keys: inheritance, overrides, non-scalars, size as an integer', () => {
    const flat = flattenProduct(doc, 'p');
    expect(flat).toEqual(expandedItems(doc, 'p'));
    expect(flat['v1']!['squashfs']).toEqual({ arch: 'arm64', label: 'candidate', support_eol: '2029-05-31', flag: true, n: 3, ftype: 'squashfs', path: 'a/squashfs', size: 12, meta: { a: 1 } });
    expect(flat['v1']!['kernel']!['arch']).toBe('amd64');
    expect(flat['bare']).toEqual({});
    expect(flattenProduct(doc, 'missing')).toEqual({});
  });

  it('rebuilds the same product it flattened (insert of nothing new changes nothing)', () => {
    const flat = flattenProduct(doc, 'p');
    const rebuilt = buildProduct(docHead(doc), 'p', flat, doc.products['p']);
    expect(flattenProduct({ ...doc, products: { p: rebuilt } }, 'p')).toEqual(flat);
  });
});
