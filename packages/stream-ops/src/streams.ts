import fs from 'node:fs/promises';
import path from 'node:path';
import type { ProductsDocument, SignaturePolicy, SignatureVerifier } from '@meph/simplestreams';
import { loadStream, type LoadedStream } from '@meph/simplestreams';

/** One products file of a stream, by its path relative to the mirror root. */
export interface ProductsFile {
  path: string;
  doc: ProductsDocument;
}

export interface ReadOptions {
  verifier?: SignatureVerifier;
  policy?: SignaturePolicy;
}

export const INDEX_JSON = 'streams/v1/index.json';

/**
 * Reads a stream we are about to modify: a local directory, through its plain `index.json`
 * (our own output; signatures are for downloaders). A directory without an index is an empty
 * stream (new target, or a crash before the first index was written).
 */
export async function loadTargetStream(root: string): Promise<ProductsFile[]> {
  const indexPath = path.join(root, INDEX_JSON);
  try {
    await fs.access(indexPath);
  } catch {
    return [];
  }
  // The products read are never changed in place (ops change copies), so unchanged ones are
  // written back from their text.
  const loaded = await loadStream(indexPath, { policy: 'off', rememberProductTexts: true });
  return loaded.products.map((p) => ({ path: p.path, doc: p.doc }));
}

/** Reads a source stream (directory, index file, single products file or URL). */
export async function loadSourceStream(location: string, options: ReadOptions = {}): Promise<LoadedStream> {
  return loadStream(location, { ...(options.verifier ? { verifier: options.verifier } : {}), policy: options.policy ?? 'when-present' });
}

/** The plain-JSON twin of a products path read as `.sjson` (what a writer writes). */
export function jsonPathOf(rel: string): string {
  return rel.endsWith('.sjson') ? `${rel.slice(0, -'.sjson'.length)}.json` : rel;
}
