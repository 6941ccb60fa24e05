import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SHARED_DIR } from '@meph/test-support';
import { parseProducts } from '../read/documents.js';
import { parseFilters } from './filters.js';
import { filterProducts, selectItems } from './select.js';
import { compareVersions, newestFirst } from './versions.js';

const FOO = path.join(SHARED_DIR, 'reference/streams/simplestreams-examples/foocloud/streams/v1/com.example.foovendor:released:download.json');
const doc = parseProducts(readFileSync(FOO, 'utf8'), FOO);

describe('compareVersions', () => {
  it('is plain C-locale string order, never numeric', () => {
    expect(newestFirst(['20121001', 'samepaths', '20121026.1', '20120328', '20121026'])).toEqual(['samepaths', '20121026.1', '20121026', '20121001', '20120328']);
    expect(compareVersions('9', '20161020')).toBeGreaterThan(0);
    expect(compareVersions('20161020.1', '20161020_01')).toBeLessThan(0);
    expect(compareVersions('a', 'a')).toBe(0);
    expect(compareVersions('B', 'a')).toBeLessThan(0);
    // code point order, as UTF-8 bytes sort: U+FF5E < U+1F600
    expect(compareVersions('\u{ff5e}', '\u{1f600}')).toBeLessThan(0);
    expect(newestFirst(['\u{ff5e}', 'b', '\u{1f600}', 'a'])).toEqual(['\u{1f600}', '\u{ff5e}', 'b', 'a']);
  });
});

describe('selectItems / filterProducts', () => {
  it('filters items first, then keeps the newest max versions that still have items', () => {
    const picked = selectItems(doc, parseFilters(['arch=i386']), { max: 2 });
    expect([...new Set(picked.map((s) => `${s.productName} ${s.versionName}`))]).toEqual([
      'com.example.foovendor:pinky:server:i386 samepaths',
      'com.example.foovendor:pinky:server:i386 20121026.1',
    ]);
    // versions with no matching item never count towards max
    const disks = selectItems(doc, parseFilters(['ftype=disk1.img', 'version_name!~samepaths', 'label=beta2']), { max: 1 });
    expect(disks.map((s) => `${s.productName.split(':').pop()} ${s.versionName} ${s.itemName}`)).toEqual(['amd64 20120328 disk1.img', 'i386 20120328 disk1.img']);
    expect(disks[0]!.flat!).toMatchObject({ size: '66', label: 'beta2' });
    expect(disks[0]!.item).toBe(doc.products['com.example.foovendor:pinky:server:amd64']!.versions['20120328']!.items['disk1.img']);
  });

  it('finds items that set a key themselves in products whose own value fails the filter', () => {
    const d = parseProducts(
      {
        format: 'products:1.0',
        content_id: 'c',
        release: 'top',
        products: {
          p1: { release: 'a', versions: { v1: { items: { i1: { path: 'x' }, i2: { path: 'y', release: 'b' } } } } },
          p2: { release: 'b', versions: { v1: { items: { i1: { path: 'z' } } } } },
          p3: { versions: { v1: { release: 'b', items: { i1: { path: 'w' } } }, v2: { items: { i1: { path: 'u' } } } } },
          p4: { release: 'a', versions: { v1: { items: { i1: { path: 'v' } } } } },
          p5: { release: { not: 'inheritable' }, versions: { v1: { items: { i1: { path: 't' } } } } },
        },
      },
      'mem',
    );
    const names = (filters: string[]): string[] => selectItems(d, parseFilters(filters)).map((s) => `${s.productName} ${s.versionName} ${s.itemName}`);
    expect(names(['release=b'])).toEqual(['p1 v1 i2', 'p2 v1 i1', 'p3 v1 i1']);
    expect(names(['release=top'])).toEqual(['p3 v2 i1', 'p5 v1 i1']);
    expect(names(['release!=a'])).toEqual(['p1 v1 i2', 'p2 v1 i1', 'p3 v2 i1', 'p3 v1 i1', 'p5 v1 i1']);
    expect(names(['product_name~^p[24]$'])).toEqual(['p2 v1 i1', 'p4 v1 i1']);
  });

  it('builds a filtered document that keeps only what matched, in document order', () => {
    const out = filterProducts(doc, parseFilters(['arch=amd64', 'ftype~tar']), { max: 2 });
    expect(Object.keys(out.products)).toEqual(['com.example.foovendor:pinky:server:amd64']);
    const versions = out.products['com.example.foovendor:pinky:server:amd64']!.versions;
    // (JavaScript lists integer-like keys such as 20121001 first: "document order" is Object.keys order)
    const original = Object.keys(doc.products['com.example.foovendor:pinky:server:amd64']!.versions);
    expect(Object.keys(versions)).toEqual(original.filter((v) => v === '20121026.1' || v === '20121001'));
    expect(Object.keys(versions['20121001']!.items)).toEqual(['tar.gz', 'root.tar.gz']);
    expect(out.content_id).toBe(doc.content_id);
    expect(out.products['com.example.foovendor:pinky:server:amd64']!['arch']).toBe('amd64');
    expect(Object.keys(filterProducts(doc, parseFilters(['arch=none'])).products)).toEqual([]);
    expect(filterProducts(doc, [], {})).toEqual(doc);
    expect(Object.keys(filterProducts(doc, [], { max: 0 }).products)).toEqual([]);
  });
});
