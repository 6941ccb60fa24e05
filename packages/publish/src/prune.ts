import { LEASE_KEY } from './lease.js';
import { dataRefs, INDEX_JSON, metadataForms, signedBy, type StoreStream } from './stream-files.js';
import type { StoredObject } from './store.js';

export interface PrunePlan {
  delete: StoredObject[];
  /** Unreferenced but younger than the grace period. */
  tooRecent: StoredObject[];
  /** Signatures kept because the file they sign is live. */
  liveSignatures: StoredObject[];
}

/** Every key the published stream needs: its metadata (all signature forms) and every item path. */
export function referencedKeys(stream: StoreStream): Set<string> {
  const keys = new Set<string>([LEASE_KEY, ...metadataForms(INDEX_JSON)]);
  for (const { key, doc } of stream.products.values()) {
    for (const k of metadataForms(key)) keys.add(k);
    for (const ref of dataRefs([doc])) keys.add(ref.path);
  }
  return keys;
}

/**
 * Which objects `--prune` removes: those no published index references, last modified before
 * `now - olderThanMs`. A signature (`.sjson`, `.gpg`, `.asc`, `.sig`) of a live file is never
 * removed, whatever its age (the original's ss-swift deleted every .sjson/.gpg it had not uploaded).
 */
export function planPrune(listing: readonly StoredObject[], stream: StoreStream, olderThanMs: number, now: number): PrunePlan {
  const live = referencedKeys(stream);
  const plan: PrunePlan = { delete: [], tooRecent: [], liveSignatures: [] };
  const cutoff = now - olderThanMs;
  for (const o of listing) {
    if (live.has(o.key)) continue;
    const signs = signedBy(o.key);
    if (signs !== undefined && live.has(signs)) {
      plan.liveSignatures.push(o);
      continue;
    }
    if (o.lastModified.getTime() > cutoff) plan.tooRecent.push(o);
    else plan.delete.push(o);
  }
  return plan;
}
