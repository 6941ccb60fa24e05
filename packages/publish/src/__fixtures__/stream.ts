import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { buildIndex, serializeJson, type ProductsDocument } from '@meph/simplestreams';

export const CID = 'com.example:test:download';

/** A small unsigned stream under `root`: one product, the given versions, two files each (content from the path). */
export async function makeTestStream(root: string, versions: string[], content: (rel: string) => string = (rel) => `bytes of ${rel}\n`): Promise<string> {
  const doc: ProductsDocument = { format: 'products:1.0', content_id: CID, datatype: 'image-downloads', updated: 'Thu, 23 Jul 2026 10:07:14 +0000', products: {} };
  const product = { arch: 'amd64', release: 'noble', versions: {} as Record<string, { items: Record<string, Record<string, unknown>> }> };
  for (const v of versions) {
    const items: Record<string, Record<string, unknown>> = {};
    for (const f of ['root.squashfs', 'boot-kernel']) {
      const rel = `noble/amd64/${v}/${f}`;
      const bytes = Buffer.from(content(rel));
      await fsp.mkdir(path.dirname(path.join(root, rel)), { recursive: true });
      await fsp.writeFile(path.join(root, rel), bytes);
      items[f] = { ftype: f, path: rel, size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex'), md5: createHash('md5').update(bytes).digest('hex') };
    }
    product.versions[v] = { items };
  }
  (doc.products as Record<string, unknown>)['com.example:noble:amd64'] = product;
  await fsp.mkdir(path.join(root, 'streams/v1'), { recursive: true });
  await fsp.writeFile(path.join(root, `streams/v1/${CID}.json`), serializeJson(doc));
  await fsp.writeFile(path.join(root, 'streams/v1/index.json'), serializeJson(buildIndex([{ path: `streams/v1/${CID}.json`, doc }])));
  return root;
}
