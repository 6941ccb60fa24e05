import { promises as fsp } from 'node:fs';
import path from 'node:path';
import * as openpgp from 'openpgp';
import { INDEX_FORMAT, parseJson, regenerateIndex, serializeJson, writeFileAtomic, type SignatureVerifier } from '@meph/simplestreams';
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
 * Signs a mirror: regenerates `streams/v1/index.json` from the products files present (the
 * file is left untouched when only its `updated` stamp would change), then writes
 * `<name>.json.gpg` (armored detached signature of the exact bytes) and `<name>.sjson`
 * (clearsigned) for every JSON under `streams/v1`, products files first and the index last,
 * each atomically. Signatures that are already valid for the current content and the same
 * key are kept, so a second run changes nothing. Does not take the stream lock: callers that
 * edit the stream call it while holding theirs.
 */
export async function signStream(rootDir: string, signer: Signer, options: SignStreamOptions = {}): Promise<void> {
  const emit = options.onEvent ?? (() => {});
  const streamsDir = path.join(rootDir, STREAMS_DIR);
  const stat = await fsp.stat(streamsDir).catch(() => undefined);
  if (!stat?.isDirectory()) throw new StreamDirError(rootDir, `has no ${STREAMS_DIR} directory`);

  const fingerprint = await signer.fingerprint();
  const ownKeys = await openpgp.readKeys({ armoredKeys: await signer.publicKey() });
  const verifier = verifierForKeys(ownKeys, `key ${fingerprint}`);

  // Index first, so the signatures below cover the index that matches the products files.
  const indexFile = path.join(rootDir, INDEX_REL);
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
  if (!keepOld) {
    await writeFileAtomic(indexFile, serializeJson(fresh));
    emit({ type: 'index-regenerated', path: INDEX_REL });
  }

  const files = await listJson(rootDir);
  // Products files first, indexes last: a reader never meets a signed index ahead of its products.
  const ordered = [...files.filter((f) => f !== INDEX_REL), ...files.filter((f) => f === INDEX_REL)];
  let written = 0;
  let unchanged = 0;
  for (const [i, rel] of ordered.entries()) {
    if (options.signal?.aborted) throw options.signal.reason;
    const file = path.join(rootDir, rel);
    const bytes = await fsp.readFile(file);
    const { text: signedText } = signedTextFor(bytes.toString('utf8'), file);
    const base = file.slice(0, -'.json'.length);

    const gpgFile = `${file}.gpg`;
    if (await detachedUpToDate(verifier, gpgFile, bytes, fingerprint)) unchanged++;
    else {
      await writeFileAtomic(gpgFile, await signer.detachSign(bytes));
      written++;
      emit({ type: 'file-signed', path: `${rel}.gpg`, form: 'json.gpg', fingerprint });
    }

    const sjsonFile = `${base}.sjson`;
    if (await sjsonUpToDate(verifier, sjsonFile, signedText, fingerprint)) unchanged++;
    else {
      await writeFileAtomic(sjsonFile, await signer.clearsign(signedText));
      written++;
      emit({ type: 'file-signed', path: `${rel.slice(0, -'.json'.length)}.sjson`, form: 'sjson', fingerprint });
    }
    emit({ type: 'progress', step: 'signing', done: i + 1, total: ordered.length, unit: 'files' });
  }
  emit({ type: 'stream-signed', root: rootDir, files: ordered.length, written, unchanged, fingerprint });
}
