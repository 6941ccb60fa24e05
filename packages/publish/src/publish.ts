import { promises as fsp } from 'node:fs';
import path from 'node:path';
import pLimit from 'p-limit';
import type { ProductsDocument, SignatureVerifier } from '@meph/simplestreams';
import { verifyStream, type Signer } from '@meph/signer';
import { ObjectConflictError, ReadBackError, SigningNeededError, StoreAheadError, StreamInvalidError } from './errors.js';
import { md5File, md5Hex } from './hash.js';
import { acquireLease, DEFAULT_SETTLE_MS, type Lease, type LeaseOptions } from './lease.js';
import { stageMerge, type StagedMerge } from './merge.js';
import { planPrune, type PrunePlan } from './prune.js';
import { dataRefs, localMetadataFiles, metadataRank, readStoreStream, versionsMissingFrom, type DataRef } from './stream-files.js';
import type { ObjectStore, StoredObject } from './store.js';

export type PublishEvent =
  | { type: 'stream-verified'; stream: string; documents: number; files: number }
  | { type: 'object-uploaded'; key: string; bytes: number; kind: 'data' | 'metadata'; dryRun: boolean }
  | { type: 'object-skipped'; key: string; reason: 'identical' | 'same-size-no-md5' }
  | { type: 'object-pruned'; key: string; bytes: number; lastModified: string; dryRun: boolean }
  | { type: 'object-kept'; key: string; reason: 'too-recent' | 'signature-of-live-file' }
  | { type: 'lease-wait'; holder: string }
  | { type: 'lease-broken'; holder: string; reason: string }
  | { type: 'lease-acquired'; key: string }
  | { type: 'merged'; versions: number; examples: string[] }
  | { type: 'progress'; step: string; done: number; total: number; unit: 'files' | 'bytes' }
  | { type: 'published'; store: string; readUrl?: string; uploaded: number; skipped: number; bytes: number; metadata: number; pruned: number; dryRun: boolean };

export interface PublishOptions {
  store: ObjectStore;
  /** Local stream directory (its root: streams/v1/index.json below it). */
  streamDir: string;
  /** Parallel uploads (default 8). */
  jobs?: number;
  dryRun?: boolean;
  /** Checks the local stream's signatures before anything is uploaded; without one they are read unchecked. */
  verifier?: SignatureVerifier;
  /** Replace the store's metadata even when it has versions the local stream lacks (the original ss-swift's behaviour). */
  replace?: boolean;
  /**
   * Re-signs merged metadata. When the store has versions the local stream lacks (another
   * publisher's, landed while we uploaded or waited for the lease), they are merged into the
   * metadata we write; a signed stream can only be merged with a signer, otherwise the publish
   * fails with StoreAheadError and changes nothing.
   */
  signer?: Signer;
  /** Remove objects no published index references and last modified longer than this ago. */
  pruneOlderThanMs?: number;
  /** Make a Swift container world-readable (X-Container-Read: .r:*,.rlistings). */
  publicRead?: boolean;
  lease?: Omit<LeaseOptions, 'onEvent'>;
  signal?: AbortSignal;
  onEvent?: (e: PublishEvent) => void;
  /** Called after each object written (crash tests kill the process here). */
  onCommit?: (kind: 'data' | 'metadata', key: string, count: number) => void;
  now?: () => number;
}

export interface PublishResult {
  uploaded: string[];
  skipped: string[];
  metadata: string[];
  pruned: string[];
  bytes: number;
  readUrl: string | undefined;
  dryRun: boolean;
}

interface LocalObject {
  key: string;
  file: string;
  size: number;
  md5: string;
}

/** Compares a local file with what the store has under the same key. */
async function sameContent(store: ObjectStore, have: StoredObject, want: LocalObject): Promise<{ same: 'identical' | 'same-size-no-md5' } | { differs: string }> {
  if (have.size !== want.size) return { differs: `${have.size} bytes in the store, ${want.size} here` };
  const md5 = have.md5 ?? (await store.md5?.(have.key));
  if (md5 === undefined) return { same: 'same-size-no-md5' };
  return md5 === want.md5 ? { same: 'identical' } : { differs: `MD5 ${md5} in the store, ${want.md5} here` };
}

const isIdentical = (cmp: Awaited<ReturnType<typeof sameContent>>): boolean => 'same' in cmp && cmp.same === 'identical';

async function localObject(streamDir: string, ref: DataRef | string): Promise<LocalObject> {
  const key = typeof ref === 'string' ? ref : ref.path;
  const file = path.join(streamDir, key);
  if (typeof ref !== 'string' && ref.md5 && ref.size !== undefined) {
    // verifyStream --data has just checked size and every checksum of this file.
    return { key, file, size: ref.size, md5: ref.md5 };
  }
  const { md5, size } = await md5File(file);
  return { key, file, size, md5 };
}

function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw signal.reason ?? new Error('aborted');
}

/**
 * Publishes a local stream to a store: verify it, upload data create-only (identical objects
 * skipped, different bytes a conflict), then, holding the store's lease, check the store has
 * nothing the stream lacks, write products, their signatures, the index and its signatures,
 * read them back, and optionally prune. A crash at any point leaves the previous stream readable:
 * new data is unreferenced until metadata points at it, and metadata is written last.
 */
export async function publishStream(options: PublishOptions): Promise<PublishResult> {
  const { store, streamDir } = options;
  const jobs = options.jobs ?? 8;
  const dryRun = options.dryRun ?? false;
  const emit = options.onEvent ?? (() => {});
  const now = options.now ?? Date.now;
  const result: PublishResult = { uploaded: [], skipped: [], metadata: [], pruned: [], bytes: 0, readUrl: undefined, dryRun };
  let commits = 0;
  const committed = (kind: 'data' | 'metadata', key: string): void => {
    commits++;
    options.onCommit?.(kind, key, commits);
  };

  // 1. The local stream must verify, every file included.
  const verified = await verifyStream(streamDir, {
    checkData: true,
    concurrency: jobs,
    ...(options.verifier ? { verifier: options.verifier } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const problems = verified.findings.filter((f) => f.severity === 'error').map((f) => (f.message.startsWith(f.file) ? f.message : `${f.file}: ${f.message}`));
  if (problems.length) throw new StreamInvalidError(streamDir, problems);
  const localDocs = new Map<string, ProductsDocument>(verified.stream.products.map((p) => [p.doc.content_id, p.doc]));
  const localPaths = new Map(verified.stream.products.map((p) => [p.doc.content_id, { path: p.path, doc: p.doc }]));
  const refs = dataRefs([...localDocs.values()]);
  const metaFiles = await localMetadataFiles(streamDir);
  emit({ type: 'stream-verified', stream: streamDir, documents: verified.stats.documents, files: refs.length });
  throwIfAborted(options.signal);

  // 2. Data, create-only, in parallel; nothing here needs the lease: unreferenced until the index says so.
  await store.open(dryRun ? {} : { create: true, ...(options.publicRead ? { publicRead: true } : {}) }).catch((err: unknown) => {
    if (!dryRun) throw err;
  });
  const listing = new Map((await store.list()).map((o) => [o.key, o]));
  result.readUrl = store.readUrl;
  const limit = pLimit(jobs);
  let done = 0;
  const conflicts: ObjectConflictError[] = [];
  const total = refs.length;

  // The lease is taken while the last data objects upload, timed so that its settle pause (write,
  // wait, read back) ends about when the data does instead of after it. It guards only the
  // metadata: data is create-only and unreferenced until the index is written.
  let leasing: Promise<Lease> | undefined;
  const startLease = (): void => {
    if (dryRun || leasing) return;
    leasing = acquireLease(store, { ...options.lease, now, onEvent: emit });
    leasing.catch(() => {}); // awaited (or released) below
  };
  const dropEarlyLease = async (): Promise<void> => {
    await leasing?.then((l) => l.release(), () => {});
  };
  const toUpload = refs.filter((r) => !listing.has(r.path));
  const uploadBytes = toUpload.reduce((n, r) => n + (r.size ?? 0), 0);
  const settleMs = options.lease?.settleMs ?? DEFAULT_SETTLE_MS;
  const uploadStats = { start: performance.now(), objects: 0, bytes: 0 };
  const uploaded = (bytes: number): void => {
    const t = performance.now();
    uploadStats.objects++;
    uploadStats.bytes += bytes;
    if (leasing || uploadStats.objects < Math.min(jobs, toUpload.length)) return;
    // time left at the rate so far, by objects and by bytes (whichever says longer)
    const elapsed = t - uploadStats.start;
    const perObject = elapsed / uploadStats.objects;
    const left = Math.max(perObject * (toUpload.length - uploadStats.objects), uploadStats.bytes > 0 ? (elapsed * (uploadBytes - uploadStats.bytes)) / uploadStats.bytes : 0);
    // the lease is a write and a read around the pause: about two requests' time
    const perRequest = perObject * Math.min(jobs, toUpload.length);
    if (left <= settleMs + 2 * perRequest) startLease();
  };
  const tick = (): void => {
    done++;
    if (done === total || done % 25 === 0) emit({ type: 'progress', step: 'data', done, total, unit: 'files' });
  };
  const localMd5 = new Map<string, string>();
  const uploadOne = async (ref: DataRef): Promise<void> => {
    throwIfAborted(options.signal);
    const local = await localObject(streamDir, ref);
    localMd5.set(local.key, local.md5);
    const have = listing.get(local.key);
    if (have) {
      const cmp = await sameContent(store, have, local);
      if ('same' in cmp) {
        result.skipped.push(local.key);
        emit({ type: 'object-skipped', key: local.key, reason: cmp.same });
      } else conflicts.push(new ObjectConflictError(store.label, local.key, cmp.differs));
      return tick();
    }
    if (dryRun) {
      result.uploaded.push(local.key);
      result.bytes += local.size;
      emit({ type: 'object-uploaded', key: local.key, bytes: local.size, kind: 'data', dryRun });
      return tick();
    }
    const outcome = await store.putNew(local.key, { file: local.file, size: local.size, md5: local.md5 }, { listedAbsent: true });
    if (outcome === 'exists') {
      // Someone created it between our listing and our PUT: same rule as above.
      const now2 = await store.head(local.key);
      const cmp = now2 ? await sameContent(store, now2, local) : { differs: 'vanished' };
      if ('same' in cmp) {
        result.skipped.push(local.key);
        emit({ type: 'object-skipped', key: local.key, reason: cmp.same });
      } else conflicts.push(new ObjectConflictError(store.label, local.key, cmp.differs));
      return tick();
    }
    result.uploaded.push(local.key);
    result.bytes += local.size;
    emit({ type: 'object-uploaded', key: local.key, bytes: local.size, kind: 'data', dryRun });
    committed('data', local.key);
    uploaded(local.size);
    tick();
  };
  try {
    uploadStats.start = performance.now();
    await Promise.all(refs.map((r) => limit(() => uploadOne(r))));
    if (conflicts.length) throw conflicts[0]!;
    throwIfAborted(options.signal);
  } catch (err) {
    await dropEarlyLease();
    throw err;
  }

  // 3. Metadata, under the lease.
  const localSigned = metaFiles.includes('streams/v1/index.sjson');
  let lease: Lease | undefined;
  let staged: StagedMerge | undefined;
  try {
    const meta = await Promise.all(metaFiles.map((k) => localObject(streamDir, k)));
    meta.sort((a, b) => metadataRank(a.key) - metadataRank(b.key) || (a.key < b.key ? -1 : 1));
    startLease();
    lease = await leasing;
    const [current, metaObjects] = await Promise.all([readStoreStream((k) => store.get(k), store.label), store.list('streams/')]);
    if (current.signed && !localSigned) throw new SigningNeededError(`${store.label} serves a signed stream (streams/v1/index.sjson) and ${streamDir} is not signed: publishing it would leave the old signed files in place`);
    const missing = versionsMissingFrom(localDocs, current);
    let publishing = localDocs;
    if (missing.length && !options.replace) {
      // Another publisher landed versions we lack: merge them in (theirs are never dropped),
      // which for a signed stream needs a signer; without one nothing is changed.
      if (localSigned && !options.signer) throw new StoreAheadError(store.label, missing, store.readUrl);
      staged = await stageMerge(localPaths, current, options.signer);
      publishing = staged.docs;
      const stagedDir = staged.dir;
      meta.splice(0, meta.length, ...(await Promise.all((await localMetadataFiles(stagedDir)).map((k) => localObject(stagedDir, k)))));
      meta.sort((a, b) => metadataRank(a.key) - metadataRank(b.key) || (a.key < b.key ? -1 : 1));
      emit({ type: 'merged', versions: missing.length, examples: missing.slice(0, 3) });
    }

    const metaListing = new Map(metaObjects.map((o) => [o.key, o]));
    const toWrite: LocalObject[] = [];
    for (const m of meta) {
      const have = metaListing.get(m.key);
      if (have && isIdentical(await sameContent(store, have, m))) {
        result.skipped.push(m.key);
        emit({ type: 'object-skipped', key: m.key, reason: 'identical' });
      } else toWrite.push(m);
    }
    let indexChecked = false;
    for (const m of toWrite) {
      throwIfAborted(options.signal);
      if (lease && (!indexChecked || metadataRank(m.key) >= 2)) {
        await lease.check(now());
        indexChecked = true;
      }
      if (!dryRun) {
        const bytes = await fsp.readFile(m.file);
        await store.put(m.key, { bytes, size: bytes.length, md5: md5Hex(bytes), contentType: m.key.endsWith('.gpg') ? 'application/pgp-signature' : 'application/json' });
        committed('metadata', m.key);
      }
      result.metadata.push(m.key);
      emit({ type: 'object-uploaded', key: m.key, bytes: m.size, kind: 'metadata', dryRun });
    }

    // A signature form the store has and this stream does not (say an old .json.gpg): remove it,
    // so no reader checks new text against it and the store keeps the local stream's forms
    // (also when the document itself was identical and not rewritten).
    const localKeys = new Set(meta.map((m) => m.key));
    for (const m of meta) {
      if (!m.key.endsWith('.json')) continue;
      for (const form of [`${m.key}.gpg`, `${m.key.slice(0, -'.json'.length)}.sjson`]) {
        if (localKeys.has(form) || !metaListing.has(form)) continue;
        if (!dryRun) await store.delete(form);
        emit({ type: 'object-pruned', key: form, bytes: metaListing.get(form)!.size, lastModified: metaListing.get(form)!.lastModified.toISOString(), dryRun });
      }
    }

    // 4. Read back what we wrote: a writer that ignored (or raced) the lease shows up here.
    if (!dryRun) {
      // the metadata read back together, the data listing meanwhile
      const [backs, listed] = await Promise.all([Promise.all(toWrite.map((m) => store.get(m.key))), store.list()]);
      const readBack = new Map<string, Buffer>();
      toWrite.forEach((m, i) => {
        const back = backs[i];
        if (!back || md5Hex(back) !== m.md5) throw new ReadBackError(store.label, `${m.key} ${back ? 'holds other content' : 'is missing'} right after it was written`);
        readBack.set(m.key, back);
      });
      // (what was just read back is not fetched a second time)
      const after = await readStoreStream((k) => (readBack.has(k) ? Promise.resolve(readBack.get(k)) : store.get(k)), store.label);
      const published = new Map([...after.products].map(([c, p]) => [c, p.doc]));
      const lost = versionsMissingFrom(published, { products: new Map([...publishing].map(([c, d]) => [c, { key: '', doc: d }])), signed: false });
      if (lost.length) throw new ReadBackError(store.label, `the published index lacks ${lost.slice(0, 3).join(', ')}`);
      // and nothing that was published before we wrote is gone (unless --replace asked for it)
      const dropped = options.replace ? [] : versionsMissingFrom(published, current);
      if (dropped.length) throw new ReadBackError(store.label, `the published index lost ${dropped.slice(0, 3).join(', ')}`);
      // Every data object is there with our bytes (where the store lists an MD5): on stores without an
      // exclusive create this is what catches a concurrent publisher that wrote other bytes under our key.
      const present = new Map(listed.map((o) => [o.key, o]));
      const absent = refs.filter((r) => !present.has(r.path));
      if (absent.length) throw new ReadBackError(store.label, `${absent.length} referenced data object(s) are missing, e.g. ${absent[0]!.path}`);
      const changed = refs.filter((r) => {
        const md5 = present.get(r.path)?.md5;
        return md5 !== undefined && md5 !== localMd5.get(r.path);
      });
      if (changed.length) throw new ReadBackError(store.label, `${changed.length} data object(s) hold other bytes than this stream's, e.g. ${changed[0]!.path}`);
    }

    // 5. Prune, still under the lease so no index changes underneath.
    if (options.pruneOlderThanMs !== undefined) {
      const published = dryRun ? { ...current, products: new Map([...current.products, ...[...localDocs].map(([c, d]) => [c, { key: `streams/v1/${c}.json`, doc: d }] as const)]) } : await readStoreStream((k) => store.get(k), store.label);
      // Never prune against a store that references nothing: a wrong prefix must not empty a container.
      if (published.products.size === 0) throw new ReadBackError(store.label, 'the published index references no products; refusing to prune');
      const plan: PrunePlan = planPrune(await store.list(), published, options.pruneOlderThanMs, now());
      for (const o of plan.tooRecent) emit({ type: 'object-kept', key: o.key, reason: 'too-recent' });
      for (const o of plan.liveSignatures) emit({ type: 'object-kept', key: o.key, reason: 'signature-of-live-file' });
      for (const o of plan.delete) {
        if (!dryRun) {
          if (lease) await lease.check(now());
          await store.delete(o.key);
        }
        result.pruned.push(o.key);
        emit({ type: 'object-pruned', key: o.key, bytes: o.size, lastModified: o.lastModified.toISOString(), dryRun });
      }
    }
  } finally {
    await (lease ? lease.release() : dropEarlyLease());
    await staged?.cleanup();
  }
  emit({
    type: 'published',
    store: store.label,
    ...(result.readUrl ? { readUrl: result.readUrl } : {}),
    uploaded: result.uploaded.length,
    skipped: result.skipped.length,
    bytes: result.bytes,
    metadata: result.metadata.length,
    pruned: result.pruned.length,
    dryRun,
  });
  return result;
}
