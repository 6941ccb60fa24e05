import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { condenseProducts, expandProducts, maasCondense, type ProductsDocument } from '@meph/simplestreams';
import { checkMaasStream } from './index.js';

// The shared reference material beside the checkout (as in check.test.ts).
const SHARED_DIR = path.resolve(import.meta.dirname, '../../../..', 'shared');

describe('maasCondense output is what MAAS accepts', () => {
  const fixture = (): ProductsDocument =>
    JSON.parse(readFileSync(path.join(SHARED_DIR, 'reference/streams/maas-sitemanager-fixture/ss_product_noble.json'), 'utf8')) as ProductsDocument;

  /** Pushes every product/version field down to the items, as an expanded stream has them. */
  function expandByHand(d: ProductsDocument): ProductsDocument {
    const out = structuredClone(d);
    for (const p of Object.values(out.products)) {
      const pf = Object.fromEntries(Object.entries(p).filter(([k]) => k !== 'versions'));
      for (const k of Object.keys(pf)) delete p[k];
      for (const v of Object.values(p.versions)) {
        const vf = Object.fromEntries(Object.entries(v).filter(([k]) => k !== 'items'));
        for (const k of Object.keys(vf)) delete v[k];
        for (const [n, i] of Object.entries(v.items)) v.items[n] = { ...pf, ...vf, ...i };
      }
    }
    return out;
  }

  it("passes the MAAS checker wherever the original does; the reference condense with top 'products' does not", async () => {
    const original = { ...fixture(), updated: 'Thu, 24 Jul 2025 08:01:49 +0000' } as ProductsDocument;
    const placement = async (doc: ProductsDocument) =>
      (await checkMaasStream({ products: [{ path: 'streams/v1/com.ubuntu.maas:stable:v3:download.json', doc }] }))
        .filter((f) => f.severity !== 'warning')
        .map((f) => `${f.rule} ${f.message}`);
    const baseline = await placement(original);
    expect(baseline).toEqual([]);
    expect(await placement(maasCondense(expandProducts(original)))).toEqual(baseline);
    expect(await placement(maasCondense(expandByHand(original)))).toEqual(baseline);
    const hoisted = await placement(condenseProducts(expandByHand(original), { top: 'products' }));
    expect(hoisted.length).toBeGreaterThan(baseline.length); // label/arch/os and item fields moved out of reach
  });
});
