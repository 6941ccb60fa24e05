import { describe, expect, it } from 'vitest';
import { condenseProducts, expandProducts, maasCondense, type ProductsDocument } from '@meph/simplestreams';
import { expandByHand, maasNobleFixture } from '@meph/test-support';
import { checkMaasStream } from './index.js';

describe('maasCondense output is what MAAS accepts', () => {
  const fixture = (): ProductsDocument => maasNobleFixture<ProductsDocument>();

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
