import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SHARED_DIR } from '@meph/test-support';
import type { FlatItem, ProductsDocument } from '../model.js';
import { extractClearsignedPayload, isClearsigned } from '../read/clearsign.js';
import { parseDocument, parseProducts } from '../read/documents.js';
import { condenseProducts, MEPH2_UTIL_STICKY, serializeJson } from '../write/index.js';
import { expandProducts, flattenItems } from './expand.js';

const STREAMS = path.join(SHARED_DIR, 'reference/streams');

function productsDocuments(dir = STREAMS): Array<[string, ProductsDocument]> {
  const out: Array<[string, ProductsDocument]> = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) {
      if (!['golden', 'keys', 'files', 'legacy-signed'].includes(name)) out.push(...productsDocuments(p));
      continue;
    }
    if (!/\.s?json$/.test(name)) continue;
    const text = readFileSync(p, 'utf8');
    const doc = parseDocument(isClearsigned(text) ? extractClearsignedPayload(text, p) : text, p);
    if (doc.format === 'products:1.0') out.push([path.relative(STREAMS, p), doc]);
  }
  return out;
}

/** Flat items keyed by pedigree: serialisation sorts keys, so only the set is comparable. */
function byPedigree(items: FlatItem[]): Record<string, FlatItem> {
  return Object.fromEntries(items.map((i) => [`${i.product_name}\0${i.version_name}\0${i.item_name}`, i]));
}

describe('round trip: parse → condense → serialize → parse → expand', () => {
  const docs = productsDocuments();
  it('covers every products dataset', () => expect(docs.length).toBeGreaterThanOrEqual(9));

  for (const [rel, doc] of docs) {
    for (const options of [{}, { sticky: MEPH2_UTIL_STICKY }, { top: 'products' as const }]) {
      it(`${rel} ${JSON.stringify(options)} keeps every flattened item`, () => {
        const original = byPedigree(flattenItems(doc));
        const back = parseProducts(serializeJson(condenseProducts(doc, options)), rel);
        expect(byPedigree(flattenItems(expandProducts(back)))).toEqual(original);
        expect(byPedigree(flattenItems(back))).toEqual(original);
      });
    }
  }
});
