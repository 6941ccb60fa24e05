import { readFileSync } from 'node:fs';
import path from 'node:path';
import { SHARED_DIR } from './paths.js';

/** The shape of a products document as far as these helpers need it. */
interface ProductsShape {
  products: Record<string, { versions: Record<string, { items: Record<string, object> } & Record<string, unknown>> } & Record<string, unknown>>;
}

/** MAAS's own products fixture (noble), as MAAS's site manager tests use it. */
export function maasNobleFixture<T extends ProductsShape>(): T {
  return JSON.parse(readFileSync(path.join(SHARED_DIR, 'reference/streams/maas-sitemanager-fixture/ss_product_noble.json'), 'utf8')) as T;
}

/**
 * Pushes every product/version field down to the items, as an expanded stream has them —
 * written independently of the library's expand so tests can check it against this.
 */
export function expandByHand<T extends ProductsShape>(d: T): T {
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
