import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { expandByHand, maasNobleFixture, SHARED_DIR } from '@meph/test-support';
import type { ProductsDocument } from '../model.js';
import { condenseProducts, maasCondense, MAAS_ITEM_FIELDS } from './condense.js';

const GOLDEN = path.join(SHARED_DIR, 'reference/streams/golden/condense');
const STICKY = ['path', 'sha256', 'md5', 'size'];
const load = (name: string): ProductsDocument => JSON.parse(readFileSync(path.join(GOLDEN, name), 'utf8')) as ProductsDocument;

const CASES = [
  { suffix: 'condensed-top-versions-sticky', options: { sticky: STICKY } },
  { suffix: 'condensed-top-products-sticky', options: { sticky: STICKY, top: 'products' as const } },
  { suffix: 'condensed-top-versions-nosticky', options: {} },
];

describe('condenseProducts against the reference client', () => {
  for (const stream of ['cirros-released', 'foocloud-download']) {
    for (const { suffix, options } of CASES) {
      it(`${stream}: ${suffix}`, () => {
        const expanded = load(`${stream}.expanded.json`);
        const before = JSON.stringify(expanded);
        expect(condenseProducts(expanded, options)).toEqual(load(`${stream}.${suffix}.json`));
        expect(JSON.stringify(expanded)).toBe(before); // input untouched
      });
    }
  }

  it('round-trips: flatten(condense(x)) equals flatten(x); expand(condense(x)) equals expand(x) without top hoisting', async () => {
    const { expandProducts, flattenItems } = await import('../flatten/index.js');
    for (const stream of ['cirros-released', 'foocloud-download']) {
      const expanded = load(`${stream}.expanded.json`);
      for (const { suffix, options } of CASES) {
        const condensed = condenseProducts(expanded, options);
        expect(flattenItems(condensed), `${stream} ${suffix}`).toEqual(flattenItems(expanded));
        expect(flattenItems(load(`${stream}.${suffix}.json`))).toEqual(flattenItems(expanded));
        // expandProducts leaves top-level fields where they are, so compare it where nothing reached the top
        if (options.top !== 'products') expect(expandProducts(condensed), `${stream} ${suffix}`).toEqual(expandProducts(expanded));
      }
    }
  });
});

describe('condenseProducts rules (spec §6)', () => {
  const doc = (products: ProductsDocument['products'], top: Record<string, unknown> = {}): ProductsDocument =>
    ({ format: 'products:1.0', content_id: 'c', ...top, products });

  it('hoists only strings shared by every sibling, never numbers or booleans', () => {
    const out = condenseProducts(
      doc({ p: { versions: { v: { items: { a: { s: 'x', n: 1, b: true, d: 'a' }, b: { s: 'x', n: 1, b: true, d: 'b' } } } } } }),
    );
    expect(out.products['p']).toEqual({ s: 'x', versions: { v: { items: { a: { n: 1, b: true, d: 'a' }, b: { n: 1, b: true, d: 'b' } } } } });
  });

  it('a different value already on the parent blocks the hoist; an equal one drops the copies', () => {
    const out = condenseProducts(
      doc({
        p: { versions: { v: { k: 'old', same: 'y', items: { a: { k: 'new', same: 'y' }, b: { k: 'new', same: 'y' } } } } },
      }),
    );
    // items → version: `k` blocked by the version's own value, `same` merged; then the single
    // version hands everything up to the product
    expect(out.products['p']).toEqual({ k: 'old', same: 'y', versions: { v: { items: { a: { k: 'new' }, b: { k: 'new' } } } } });
  });

  it('a key missing from one sibling is not hoisted; top defaults to versions', () => {
    const out = condenseProducts(doc({ p: { versions: { v: { items: { a: { k: 'x', o: 'z' }, b: { o: 'z' } } } } }, q: { versions: { v: { items: { a: { o: 'z' } } } } } }));
    expect(out.products['p']!['o']).toBe('z');
    expect(out.products['p']!.versions['v']!.items['a']).toEqual({ k: 'x' });
    expect(out['o']).toBeUndefined();
    expect(condenseProducts(out, { top: 'products' })['o']).toBe('z');
  });

  it('rejects an unknown top', () => {
    expect(() => condenseProducts(doc({}), { top: 'items' as never })).toThrow(/top must be/);
  });
});

describe('maasCondense (MAAS 3.8 reads fields without inheritance)', () => {
  const fixture = (): ProductsDocument => maasNobleFixture<ProductsDocument>();

  it('puts product fields on the product, keeps item fields on every item, never hoists to the top', () => {
    const original = fixture();
    const out = maasCondense(expandByHand(original));
    const product = out.products['com.ubuntu.maas.stable:v3:boot:24.04:amd64:ga-24.04']!;
    for (const key of ['arch', 'label', 'os', 'release', 'release_title', 'subarch', 'subarches', 'version', 'kflavor', 'krel', 'release_codename', 'support_eol'])
      expect(product[key], key).toBe(original.products['com.ubuntu.maas.stable:v3:boot:24.04:amd64:ga-24.04']![key]);
    for (const version of Object.values(product.versions)) {
      expect(version['support_esm_eol']).toBe('2034-04-25'); // read at version level only
      expect(version['support_eol']).toBe('2029-05-31'); // read at both levels
      for (const item of Object.values(version.items))
        for (const key of ['ftype', 'path', 'sha256', 'size']) expect(item[key], key).toBeDefined();
      expect(version.items['boot-kernel']!['kpackage']).toBe('linux-generic');
    }
    expect(out['label']).toBeUndefined();
    expect(MAAS_ITEM_FIELDS).toContain('src_release');
  });

  it('keeps a single-product, single-item bootloader version MAAS-shaped', () => {
    const d = {
      format: 'products:1.0',
      content_id: 'com.ubuntu.maas:stable:1:bootloader-download',
      products: {
        'com.ubuntu.maas.stable:1:grub-efi-signed:uefi:amd64': {
          versions: {
            '20250101.0': {
              items: {
                'grub2-signed': { ftype: 'archive.tar.xz', path: 'b/g.tar.xz', sha256: 'a', size: 1, src_package: 'grub2-signed', src_release: 'noble', src_version: '1', label: 'stable', arch: 'amd64', os: 'grub-efi-signed' },
              },
            },
          },
        },
      },
    } as unknown as ProductsDocument;
    const out = maasCondense(d);
    const product = out.products['com.ubuntu.maas.stable:1:grub-efi-signed:uefi:amd64']!;
    expect(product).toMatchObject({ label: 'stable', arch: 'amd64', os: 'grub-efi-signed' });
    expect(product.versions['20250101.0']!.items['grub2-signed']).toEqual({ ftype: 'archive.tar.xz', path: 'b/g.tar.xz', sha256: 'a', size: 1, src_package: 'grub2-signed', src_release: 'noble', src_version: '1' });
    // the plain reference condense would have hoisted src_release off the item (MAAS rejects that)
    expect(condenseProducts(d).products['com.ubuntu.maas.stable:1:grub-efi-signed:uefi:amd64']!['src_release']).toBe('noble');
  });
});

describe('round trip of every reference products file: parse → condense → serialize → parse → flatten', () => {
  it('gives the same flattened items with the reference options and with maasCondense', async () => {
    const { readdirSync, statSync } = await import('node:fs');
    const { flattenItems } = await import('../flatten/index.js');
    const { parseProducts } = await import('../read/index.js');
    const { serializeJson } = await import('./serialize.js');
    const walk = (d: string): string[] => readdirSync(d).flatMap((n) => (statSync(path.join(d, n)).isDirectory() ? walk(path.join(d, n)) : [path.join(d, n)]));
    const files = walk(path.join(SHARED_DIR, 'reference/streams')).filter((f) => f.endsWith('.json') && !f.includes(`${path.sep}golden${path.sep}`));
    let checked = 0;
    for (const f of files) {
      const value: unknown = JSON.parse(readFileSync(f, 'utf8'));
      if ((value as { format?: string }).format !== 'products:1.0') continue;
      const doc = parseProducts(value, f);
      // sorted keys reorder products/versions/items, so compare in a canonical order
      const canonical = (d: ProductsDocument) =>
        flattenItems(d).sort((a, b) => (`${a.product_name}\0${a.version_name}\0${a.item_name}` < `${b.product_name}\0${b.version_name}\0${b.item_name}` ? -1 : 1));
      const want = canonical(doc);
      for (const condensed of [condenseProducts(doc, { sticky: STICKY, top: 'products' }), condenseProducts(doc), maasCondense(doc)])
        expect(canonical(parseProducts(serializeJson(condensed), f)), f).toEqual(want);
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(8);
  });
});
