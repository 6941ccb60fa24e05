import { promises as fsp } from 'node:fs';
import path from 'node:path';
import * as openpgp from 'openpgp';
import {
  assertSafeRelativePath,
  FormatError,
  INDEX_FORMAT,
  MissingFileError,
  parseIndex,
  parseJson,
  parseProducts,
  prepareFiles,
  recoverInterruptedWrites,
  regenerateIndex,
  serializeJson,
  TargetConfinement,
  type DocumentSigner,
  type FileReplacement,
  type SignatureVerifier,
} from '@meph/simplestreams';
import { StreamDirError } from './errors.js';
import { verifierForKeys } from './verifier.js';
import type { Signer } from './types.js';

/** Events signStream reports (rendered by the CLI; `path` is relative to the mirror root). */
export type SignStreamEvent =
  | { type: 'index-regenerated'; path: string }
  | { type: 'file-signed'; path: string; form: 'sjson' | 'json.gpg'; fingerprint: string }
  | { type: 'progress'; step: string; done: number; total: number; unit: 'files' }
  | { type: 'stream-signed'; root: string; files: number; written: number; unchanged: number; fingerprint: string };

export interface SignStreamOptions {
  onEvent?: (event: SignStreamEvent) => void;
  /** Checked between files; a signed file is never left half-written either way. */
  signal?: AbortSignal;
}

const STREAMS_DIR = 'streams/v1';
const INDEX_REL = `${STREAMS_DIR}/index.json`;

/** Every `*.json` under `streams/v1` (recursively; hidden and temp files skipped), sorted. */
async function listJson(rootDir: string, rel = STREAMS_DIR): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await fsp.readdir(path.join(rootDir, rel), { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue;
    const child = `${rel}/${entry.name}`;
    if (entry.isDirectory()) out.push(...(await listJson(rootDir, child)));
    else if (entry.isFile() && entry.name.endsWith('.json')) out.push(child);
  }
  return out.sort();
}

function withoutUpdated(doc: unknown): string {
  const { updated: _ignored, ...rest } = doc as Record<string, unknown>;
  return serializeJson(rest);
}

/**
 * The text clearsigned for a document: products files verbatim; an index re-serialised with
 * every entry `path` ending `.json` pointing at the `.sjson` (upstream §3.8, spec §9.1), so a
 * client starting at `index.sjson` stays on signed files. Item paths are never touched.
 */
export function signedTextFor(text: string, source: string): { text: string; isIndex: boolean } {
  const doc = parseJson(text, source) as Record<string, unknown>;
  if (doc === null || typeof doc !== 'object' || doc['format'] !== INDEX_FORMAT) return { text, isIndex: false };
  const index = (doc['index'] ?? {}) as Record<string, Record<string, unknown>>;
  const rewritten: Record<string, unknown> = {};
  for (const [cid, entry] of Object.entries(index)) {
    const p = entry?.['path'];
    rewritten[cid] = typeof p === 'string' && p.endsWith('.json') ? { ...entry, path: `${p.slice(0, -'.json'.length)}.sjson` } : entry;
  }
  return { text: serializeJson({ ...doc, index: rewritten }), isIndex: true };
}

/** Cleartext signatures ignore trailing whitespace and the final line break; compare the same way. */
function canonical(text: string): string {
  return text.replace(/\r\n/g, '\n').replace(/[ \t]+$/gm, '').replace(/\n+$/, '');
}

async function readIfExists(file: string): Promise<Buffer | undefined> {
  try {
    return await fsp.readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

async function sjsonUpToDate(verifier: SignatureVerifier, file: string, wanted: string, fingerprint: string): Promise<boolean> {
  const existing = await readIfExists(file);
  if (!existing) return false;
  try {
    const v = await verifier.verifyClearsigned(existing.toString('utf8'), file);
    return v.fingerprint === fingerprint && canonical(v.payload) === canonical(wanted);
  } catch {
    return false; // unsigned, other key, stale content: re-sign
  }
}

async function detachedUpToDate(verifier: SignatureVerifier, file: string, data: Uint8Array, fingerprint: string): Promise<boolean> {
  const existing = await readIfExists(file);
  if (!existing) return false;
  try {
    const v = await verifier.verifyDetached(data, existing, file);
    return v.fingerprint === fingerprint;
  } catch {
    return false;
  }
}

/**
 * What commitStreamUpdate needs to sign each document it writes: the `.sjson` of
 * {@link signedTextFor} and the detached signature of the exact bytes.
 */
export function documentSignerFor(signer: Signer): DocumentSigner {
  return {
    async signDocument(rel, text) {
      const { text: signedText } = signedTextFor(text, rel);
      return { clearsigned: await signer.clearsign(signedText), detached: await signer.detachSign(text) };
    },
  };
}

/**
 * Refuses to sign what `verify` would reject: every JSON under `streams/v1` must be an index
 * or a valid products:1.0 document with safe item paths, and every products file the current
 * index lists must exist (else regenerating would silently drop it from the signed index).
 */
async function assertSignable(rootDir: string, files: readonly string[]): Promise<void> {
  for (const rel of files) {
    const text = await fsp.readFile(path.join(rootDir, rel), 'utf8');
    const value = parseJson(text, rel) as Record<string, unknown> | null;
    if (value && typeof value === 'object' && value['format'] === INDEX_FORMAT) {
      const index = parseIndex(value, rel);
      for (const [cid, entry] of Object.entries(index.index)) {
        if (typeof entry.path !== 'string') continue;
        const listed = assertSafeRelativePath(entry.path, rel).replace(/\.sjson$/, '.json');
        if (!(await readIfExists(path.join(rootDir, listed)))) throw new MissingFileError(listed, `${rel} (content id ${cid}); restore it, or remove its entry from ${rel} if it was meant to go`);
      }
      continue;
    }
    const doc = parseProducts(value, rel, { checkPaths: true });
    for (const [pid, product] of Object.entries(doc.products)) {
      for (const [vname, version] of Object.entries(product.versions ?? {})) {
        for (const [iname, item] of Object.entries(version.items ?? {})) {
          if (item.path === '') throw new FormatError(rel, `item ${pid} ${vname} ${iname} has an empty "path"`);
        }
      }
    }
  }
}

/**
 * Signs a mirror: regenerates `streams/v1/index.json` from the products files present (the
 * file is left untouched when only its `updated` stamp would change), then writes
 * `<name>.json.gpg` (armored detached signature of the exact bytes) and `<name>.sjson`
 * (clearsigned) for every JSON under `streams/v1`. Every signature is made before anything is
 * written; then each document's files land together, products files first and the index
 * last (a crash in between is finished by the next writer). Signatures that are already valid
 * for the current content and the same key are kept, so a second run changes nothing. A
 * stream `verify` would reject (unknown format, unsafe or empty item paths, an index naming a
 * missing products file) is refused before anything is signed. Does not take the stream lock:
 * callers hold it.
 */
export async function signStream(rootDir: string, signer: Signer, options: SignStreamOptions = {}): Promise<void> {
  const emit = options.onEvent ?? (() => {});
  const streamsDir = path.join(rootDir, STREAMS_DIR);
  const stat = await fsp.stat(streamsDir).catch(() => undefined);
  if (!stat?.isDirectory()) throw new StreamDirError(rootDir, `has no ${STREAMS_DIR} directory`);
  const indexFile = path.join(rootDir, INDEX_REL);
  await new TargetConfinement(rootDir).check(indexFile, INDEX_REL);
  await recoverInterruptedWrites([streamsDir]);

  const present = await listJson(rootDir);
  await assertSignable(rootDir, present);

  const fingerprint = await signer.fingerprint();
  const ownKeys = await openpgp.readKeys({ armoredKeys: await signer.publicKey() });
  const verifier = verifierForKeys(ownKeys, `key ${fingerprint}`);

  // The index that matches the products files, signed and committed with them.
  const fresh = await regenerateIndex(rootDir, { dryRun: true });
  const oldText = await readIfExists(indexFile);
  let keepOld = false;
  if (oldText) {
    try {
      keepOld = withoutUpdated(parseJson(oldText.toString('utf8'), indexFile)) === withoutUpdated(fresh);
    } catch {
      keepOld = false; // an unparsable index is simply rebuilt
    }
  }
  const files = present.includes(INDEX_REL) ? present : [...present, INDEX_REL];
  // Products files first, indexes last: a reader never meets a signed index ahead of its products.
  const ordered = [...files.filter((f) => f !== INDEX_REL), INDEX_REL];
  const groups: FileReplacement[][] = [];
  const groupEvents: SignStreamEvent[][] = [];
  let written = 0;
  let unchanged = 0;
  for (const [i, rel] of ordered.entries()) {
    if (options.signal?.aborted) throw options.signal.reason;
    const file = path.join(rootDir, rel);
    const rewriteIndex = rel === INDEX_REL && !keepOld;
    const bytes = rewriteIndex ? Buffer.from(serializeJson(fresh)) : await fsp.readFile(file);
    const { text: signedText } = signedTextFor(bytes.toString('utf8'), file);
    const base = file.slice(0, -'.json'.length);
    const group: FileReplacement[] = [];
    const events: SignStreamEvent[] = [];

    const gpgFile = `${file}.gpg`;
    if (!rewriteIndex && (await detachedUpToDate(verifier, gpgFile, bytes, fingerprint))) unchanged++;
    else {
      group.push({ path: gpgFile, data: await signer.detachSign(bytes) });
      written++;
      events.push({ type: 'file-signed', path: `${rel}.gpg`, form: 'json.gpg', fingerprint });
    }
    const sjsonFile = `${base}.sjson`;
    if (!rewriteIndex && (await sjsonUpToDate(verifier, sjsonFile, signedText, fingerprint))) unchanged++;
    else {
      group.push({ path: sjsonFile, data: await signer.clearsign(signedText) });
      written++;
      events.push({ type: 'file-signed', path: `${rel.slice(0, -'.json'.length)}.sjson`, form: 'sjson', fingerprint });
    }
    if (rewriteIndex) {
      group.push({ path: file, data: bytes });
      events.unshift({ type: 'index-regenerated', path: INDEX_REL });
    }
    if (group.length) {
      groups.push(group);
      groupEvents.push(events);
    }
    emit({ type: 'progress', step: 'signing', done: i + 1, total: ordered.length, unit: 'files' });
  }
  const prepared = await prepareFiles(groups);
  await prepared.commit((g) => {
    for (const e of groupEvents[g]!) emit(e);
  });
  emit({ type: 'stream-signed', root: rootDir, files: ordered.length, written, unchanged, fingerprint });
}
