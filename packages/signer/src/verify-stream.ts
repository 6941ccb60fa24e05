import { assertDigest, Digester } from '@meph/http';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import pLimit from 'p-limit';
import {
  scalarText,
  assertSafeRelativePath,
  CHECKSUM_ALGORITHMS,
  extractClearsignedPayload,
  flattenItems,
  HttpError,
  INDEX_FORMAT,
  isClearsigned,
  MissingFileError,
  openSource,
  parseIndex,
  parseJson,
  parseProducts,
  PRODUCTS_FORMAT,
  resolveStreamLocation,
  verifyFile,
  type FlatItem,
  type IndexDocument,
  type Item,
  type LoadedStream,
  type ProductsDocument,
  type SignatureVerifier,
  type SourceOptions,
  type StreamSource,
  type VerifiedPayload,
} from '@meph/simplestreams';
import { VerificationError } from './errors.js';

export type StreamCheck = 'signature' | 'index' | 'data';

/** One problem found by {@link verifyStream}. `file` is relative to the mirror root. */
export interface StreamFinding {
  check: StreamCheck;
  severity: 'error' | 'warning';
  file: string;
  message: string;
  keyId?: string;
  contentId?: string;
  productId?: string;
  version?: string;
  item?: string;
}

export interface VerifyStreamOptions {
  /** Checks `.sjson` and `.json.gpg`; without it signatures are read unverified (and not reported). */
  verifier?: SignatureVerifier;
  /** Also check every item's file (size and every checksum), streamed, in parallel. */
  checkData?: boolean;
  /** Parallel data checks (default 4). */
  concurrency?: number;
  cwd?: string;
  signal?: AbortSignal;
  /** The HTTP transport for URL locations (default: the process-wide @meph/http client). */
  http?: SourceOptions['http'];
  onEvent?: (event: { type: 'progress'; step: string; done: number; total: number; unit: string }) => void;
}

export interface VerifyStreamResult {
  findings: StreamFinding[];
  /** The documents read (verified `.sjson` payloads preferred), shaped like the reader's LoadedStream. */
  stream: LoadedStream;
  stats: { documents: number; signaturesChecked: number; signaturesGood: number; itemsChecked: number; bytesChecked: number };
}

interface PairRead {
  /** The path whose content is used (`.sjson` when present). */
  path: string;
  value?: unknown;
  signature?: VerifiedPayload;
  hasSigned: boolean;
  hasPlain: boolean;
  hasDetached: boolean;
}

const stripExt = (p: string): string => p.replace(/\.s?json$/, '');

function isNotFound(err: unknown): boolean {
  return err instanceof MissingFileError || (err instanceof HttpError && (err.status === 404 || err.status === 410));
}

/** The one-line message of an error, with its hint (what to do) when it has one. */
function errorMessage(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const hint = (err as { hint?: unknown }).hint;
  return typeof hint === 'string' && hint ? `${err.message} (${hint})` : err.message;
}

/** An index as its unsigned twin would say it: signed paths (`.sjson`) back to `.json`. */
function unsignedView(value: unknown): unknown {
  const doc = value as Record<string, unknown> | null;
  if (!doc || typeof doc !== 'object' || doc['format'] !== INDEX_FORMAT || typeof doc['index'] !== 'object' || doc['index'] === null) return value;
  const index: Record<string, unknown> = {};
  for (const [cid, entry] of Object.entries(doc['index'] as Record<string, Record<string, unknown>>)) {
    const p = entry?.['path'];
    index[cid] = typeof p === 'string' && p.endsWith('.sjson') ? { ...entry, path: `${p.slice(0, -'.sjson'.length)}.json` } : entry;
  }
  return { ...doc, index };
}

/** First differing key path between two JSON values, for a useful message. */
function firstDifference(a: unknown, b: unknown, at = ''): string | undefined {
  if (a === b) return undefined;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || Array.isArray(a) !== Array.isArray(b)) return at || '(top level)';
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of [...keys].sort()) {
    const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], at ? `${at}.${k}` : k);
    if (d !== undefined) return d;
  }
  return undefined;
}

async function readBytes(source: StreamSource, rel: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await source.openData(rel)) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

/**
 * Checks a whole stream (mirror root directory or URL, an index, or one products file):
 * - every `.sjson` and `.json.gpg` verifies with the verifier (each failure is a finding);
 * - `.sjson` and `.json` twins say the same thing; a signed stream has no unsigned products file;
 * - the index and the products files agree (content ids, product lists, format, datatype,
 *   paths; on a local mirror also that every products file is listed);
 * - with `checkData`, every item's file has its size and checksums (streamed, in parallel).
 * Never throws for a problem in the stream: it returns findings. Throws only when the
 * location cannot be read at all.
 */
export async function verifyStream(location: string, options: VerifyStreamOptions = {}): Promise<VerifyStreamResult> {
  const findings: StreamFinding[] = [];
  const stats = { documents: 0, signaturesChecked: 0, signaturesGood: 0, itemsChecked: 0, bytesChecked: 0 };
  const report = (f: StreamFinding): void => void findings.push(f);
  const verifier = options.verifier;
  const cwd = options.cwd ?? process.cwd();
  const loc = await resolveStreamLocation(location, { cwd });
  const source = openSource(loc.root, {
    policy: 'off',
    cwd,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.http ? { http: options.http } : {}),
  });

  const tryRead = async (rel: string): Promise<string | undefined> => {
    try {
      return await source.readText(rel);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  };

  /** Reads X.sjson, X.json and X.json.gpg, checking each signature and that the twins agree. */
  const readPair = async (rel: string, contentId?: string): Promise<PairRead> => {
    const base = stripExt(rel);
    const signedPath = `${base}.sjson`;
    const plainPath = `${base}.json`;
    const detachedPath = `${plainPath}.gpg`;
    const [signedText, plainText] = await Promise.all([tryRead(signedPath), tryRead(plainPath)]);
    const ctx = contentId ? { contentId } : {};
    const result: PairRead = { path: signedText !== undefined ? signedPath : plainPath, hasSigned: signedText !== undefined, hasPlain: plainText !== undefined, hasDetached: false };
    stats.documents++;

    let signedValue: unknown;
    if (signedText !== undefined) {
      try {
        let payload: string;
        if (verifier) {
          stats.signaturesChecked++;
          const v = await verifier.verifyClearsigned(signedText, signedPath);
          stats.signaturesGood++;
          result.signature = v;
          payload = v.payload;
        } else {
          payload = isClearsigned(signedText) ? extractClearsignedPayload(signedText, signedPath) : signedText;
        }
        signedValue = parseJson(payload, signedPath);
      } catch (err) {
        report({ check: 'signature', severity: 'error', file: signedPath, message: errorMessage(err), ...(err instanceof VerificationError && err.keyId ? { keyId: err.keyId } : {}), ...ctx });
      }
    }

    let plainValue: unknown;
    if (plainText !== undefined) {
      try {
        plainValue = parseJson(plainText, plainPath);
      } catch (err) {
        report({ check: 'index', severity: 'error', file: plainPath, message: errorMessage(err), ...ctx });
      }
      let detached: Buffer | undefined;
      try {
        detached = (await source.exists(detachedPath)) ? await readBytes(source, detachedPath) : undefined;
      } catch (err) {
        report({ check: 'signature', severity: 'error', file: detachedPath, message: errorMessage(err), ...ctx });
      }
      if (detached) {
        result.hasDetached = true;
        if (verifier) {
          stats.signaturesChecked++;
          try {
            await verifier.verifyDetached(plainText, detached, detachedPath);
            stats.signaturesGood++;
          } catch (err) {
            report({ check: 'signature', severity: 'error', file: detachedPath, message: errorMessage(err), ...(err instanceof VerificationError && err.keyId ? { keyId: err.keyId } : {}), ...ctx });
          }
        }
      }
    }

    if (signedValue !== undefined && plainValue !== undefined) {
      const diff = firstDifference(unsignedView(signedValue), plainValue);
      if (diff !== undefined) report({ check: 'index', severity: 'error', file: signedPath, message: `says something else than ${plainPath} (first difference at ${diff})`, ...ctx });
    }
    if (signedText === undefined && plainText === undefined) {
      report({ check: 'index', severity: 'error', file: rel, message: `no such file (nor ${rel === signedPath ? plainPath : signedPath})`, ...ctx });
    }
    result.value = signedValue ?? plainValue;
    return result;
  };

  const stream: LoadedStream = { source, products: [] };
  const start = loc.path ?? 'streams/v1/index.json';
  const first = await readPair(start);
  const streamSigned = first.hasSigned;
  if (verifier && !streamSigned && first.hasPlain) {
    report({ check: 'signature', severity: 'error', file: `${stripExt(start)}.sjson`, message: 'missing: the stream is not signed (clients starting at index.sjson, like MAAS, cannot use it)' });
  }
  if (first.value === undefined) return { findings, stream, stats };

  const checkSignedTwins = (pair: PairRead, contentId?: string): void => {
    const ctx = contentId ? { contentId } : {};
    if (streamSigned && !pair.hasSigned && pair.hasPlain)
      report({ check: 'signature', severity: 'error', file: `${stripExt(pair.path)}.sjson`, message: 'missing: the index is signed but this products file is not', ...ctx });
    if (first.hasDetached && pair.hasPlain && !pair.hasDetached)
      report({ check: 'signature', severity: 'warning', file: `${stripExt(pair.path)}.json.gpg`, message: 'missing: other files have a detached signature, this one has none', ...ctx });
  };

  const addProducts = (pair: PairRead, label: string): ProductsDocument | undefined => {
    try {
      const doc = parseProducts(pair.value, label, { checkPaths: true });
      stream.products.push({ path: pair.path, doc, ...(pair.signature ? { signature: pair.signature } : {}) });
      return doc;
    } catch (err) {
      report({ check: 'index', severity: 'error', file: pair.path, message: errorMessage(err) });
      return undefined;
    }
  };

  const visitedIndexes = new Set<string>();
  const listed = new Set<string>();
  const visitIndex = async (pair: PairRead): Promise<void> => {
    let index: IndexDocument;
    try {
      index = parseIndex(pair.value, pair.path);
    } catch (err) {
      report({ check: 'index', severity: 'error', file: pair.path, message: errorMessage(err) });
      return;
    }
    visitedIndexes.add(stripExt(pair.path));
    if (!stream.index) {
      stream.index = index;
      stream.indexPath = pair.path;
    }
    for (const [contentId, entry] of Object.entries(index.index)) {
      const at = { file: pair.path, contentId };
      if (!entry.path) continue;
      try {
        assertSafeRelativePath(entry.path, pair.path);
      } catch (err) {
        report({ check: 'index', severity: 'error', ...at, message: errorMessage(err) });
        continue;
      }
      if (entry.format === INDEX_FORMAT) {
        if (visitedIndexes.has(stripExt(entry.path))) {
          report({ check: 'index', severity: 'error', ...at, message: `nested index ${entry.path} is referenced in a loop` });
          continue;
        }
        const nested = await readPair(entry.path, contentId);
        checkSignedTwins(nested, contentId);
        if (nested.value !== undefined) await visitIndex(nested);
        continue;
      }
      if (entry.format !== undefined && entry.format !== PRODUCTS_FORMAT) continue;
      listed.add(stripExt(entry.path));
      const pair2 = await readPair(entry.path, contentId);
      checkSignedTwins(pair2, contentId);
      if (pair2.value === undefined) continue;
      const doc = addProducts(pair2, pair2.path);
      if (!doc) continue;
      const there = { file: pair2.path, contentId };
      if (doc.content_id !== contentId)
        report({ check: 'index', severity: 'error', ...there, message: `content_id is "${doc.content_id}" but ${pair.path} lists it as "${contentId}"` });
      const inIndex = [...(entry.products ?? [])].sort();
      const inFile = Object.keys(doc.products).sort();
      const missing = inIndex.filter((p) => !inFile.includes(p));
      const extra = inFile.filter((p) => !inIndex.includes(p));
      if (missing.length) report({ check: 'index', severity: 'error', ...there, message: `${pair.path} lists product(s) the file does not have: ${missing.join(', ')}` });
      if (extra.length) report({ check: 'index', severity: 'error', ...there, message: `product(s) missing from the product list in ${pair.path}: ${extra.join(', ')}` });
      for (const field of ['format', 'datatype'] as const) {
        const a = entry[field];
        const b = doc[field];
        if (a !== undefined && b !== undefined && a !== b) report({ check: 'index', severity: 'error', ...there, message: `${field} is "${String(b)}" but ${pair.path} says "${String(a)}"` });
      }
    }
  };

  const startValue = first.value as Record<string, unknown>;
  if (startValue && typeof startValue === 'object' && startValue['format'] === PRODUCTS_FORMAT) {
    addProducts(first, first.path);
  } else {
    await visitIndex(first);
    // On disk we can also see products files the index forgot.
    if (!loc.isUrl && stream.index) {
      const dir = path.resolve(cwd, loc.root, 'streams/v1');
      const names = await readdir(dir).catch(() => [] as string[]);
      for (const name of names.filter((n) => n.endsWith('.json') && !n.startsWith('.')).sort()) {
        const rel = `streams/v1/${name}`;
        if (visitedIndexes.has(stripExt(rel)) || listed.has(stripExt(rel))) continue;
        let value: unknown;
        try {
          value = parseJson(await source.readText(rel), rel);
        } catch {
          continue; // not a stream document
        }
        const v = value as Record<string, unknown>;
        if (v && typeof v === 'object' && v['format'] === PRODUCTS_FORMAT && v['content_id'])
          report({ check: 'index', severity: 'error', file: rel, contentId: scalarText(v['content_id']), message: `products file is not listed in ${stream.indexPath ?? 'the index'} (run meph2-util sign to regenerate it)` });
      }
    }
  }

  if (options.checkData) await checkData(stream, source, loc.isUrl, cwd, options, report, stats);
  return { findings, stream, stats };
}

function itemChecks(item: FlatItem): boolean {
  return item['size'] !== undefined || CHECKSUM_ALGORITHMS.some((a) => typeof item[a] === 'string' && item[a] !== '');
}

async function checkData(
  stream: LoadedStream,
  source: StreamSource,
  remote: boolean,
  cwd: string,
  options: VerifyStreamOptions,
  report: (f: StreamFinding) => void,
  stats: VerifyStreamResult['stats'],
): Promise<void> {
  // One check per distinct file: kernel products of one version share their squashfs.
  const byPath = new Map<string, { item: FlatItem; file: string }>();
  for (const { path: file, doc } of stream.products) {
    for (const item of flattenItems(doc)) {
      const p = item['path'];
      if (p === undefined) continue; // image-ids items carry no file
      const at = { file, productId: item.product_name, version: item.version_name, item: item.item_name };
      if (typeof p !== 'string' || p === '') {
        report({ check: 'data', severity: 'error', ...at, message: `the item has an empty "path" (${JSON.stringify(p)}): there is no file to check` });
        continue;
      }
      if (!itemChecks(item)) {
        report({ check: 'data', severity: 'warning', ...at, message: `${p}: the item has neither a size nor a checksum to check` });
        continue;
      }
      const seen = byPath.get(p);
      if (seen) {
        const differs = ['size', ...CHECKSUM_ALGORITHMS].some((k) => seen.item[k] !== undefined && item[k] !== undefined && scalarText(seen.item[k]) !== scalarText(item[k]));
        if (differs) report({ check: 'data', severity: 'error', ...at, message: `${p}: size/checksums differ from ${seen.item.product_name} ${seen.item.version_name} ${seen.item.item_name}, which names the same file` });
        continue;
      }
      byPath.set(p, { item, file });
    }
  }
  const total = byPath.size;
  let done = 0;
  const limit = pLimit(Math.max(1, options.concurrency ?? 4));
  const root = remote ? '' : path.resolve(cwd, source.root);
  await Promise.all(
    [...byPath.entries()].map(([rel, { item, file }]) =>
      limit(async () => {
        if (options.signal?.aborted) return;
        const at = { file, productId: item.product_name, version: item.version_name, item: item.item_name };
        try {
          const expected = item as unknown as Item;
          if (!remote) {
            await verifyFile(path.join(root, rel), expected);
          } else {
            const algorithms = CHECKSUM_ALGORITHMS.filter((a) => typeof expected[a] === 'string');
            const d = await new Digester(algorithms).updateFrom(await source.openData(rel));
            const checksums = Object.fromEntries(algorithms.map((a) => [a, String(expected[a])]));
            assertDigest(source.url(rel), d.digest(), { ...(expected.size !== undefined ? { size: Number(expected.size) } : {}), checksums });
          }
          stats.itemsChecked++;
          stats.bytesChecked += Number(item['size'] ?? 0);
        } catch (err) {
          report({ check: 'data', severity: 'error', ...at, message: errorMessage(err) });
        } finally {
          done++;
          options.onEvent?.({ type: 'progress', step: 'checking files', done, total, unit: 'files' });
        }
      }),
    ),
  );
  if (options.signal?.aborted) throw options.signal.reason;
}

