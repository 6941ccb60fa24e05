import { createReadStream } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { HttpError, MissingFileError, NetworkError, SignatureRequiredError } from '../errors.js';
import type { IndexDocument, ProductsDocument, SignaturePolicy, SignatureVerifier, VerifiedPayload } from '../model.js';
import { assertSafeRelativePath } from '../paths.js';
import { extractClearsignedPayload, isClearsigned } from './clearsign.js';
import { parseIndex, parseProducts } from './documents.js';
import { parseJson } from './json.js';
import { DEFAULT_INDEX_PATH, isHttpUrl, signedSibling } from './location.js';

export interface SourceOptions {
  /** Checks clearsigned documents; without one, `required` refuses every document. */
  verifier?: SignatureVerifier;
  /**
   * `required`: every document must be clearsigned and verify; `when-present` (default):
   * unsigned documents are read as they are, signed ones must verify (no verifier → refused);
   * `off`: signatures are stripped unchecked.
   */
  policy?: SignaturePolicy;
  fetch?: typeof fetch;
  /** Base for a relative local root (default process.cwd()). */
  cwd?: string;
  signal?: AbortSignal;
}

export interface ReadOptions {
  /** Names the document that pointed here, for "missing file" errors. */
  referencedBy?: string;
}

export interface ReadDocumentResult {
  value: unknown;
  /** The path actually read (`.sjson` or `.json`). */
  path: string;
  signature?: VerifiedPayload;
}

/** A mirror root on disk or over HTTP(S). Every relPath must be relative to the root. */
export interface StreamSource {
  readonly root: string;
  /** root + relPath, the way simplestreams joins them (item_url). */
  url(relPath: string): string;
  readText(relPath: string, options?: ReadOptions): Promise<string>;
  readDocument(relPath: string, options?: ReadOptions): Promise<ReadDocumentResult>;
  readIndex(relPath?: string, options?: ReadOptions): Promise<IndexDocument>;
  readProducts(relPath: string, options?: ReadOptions): Promise<ProductsDocument>;
  openData(relPath: string, options?: ReadOptions): Promise<Readable>;
  exists(relPath: string): Promise<boolean>;
}

function isNotFound(err: unknown): boolean {
  return err instanceof MissingFileError || (err instanceof HttpError && (err.status === 404 || err.status === 410));
}

interface Transport {
  readText(relPath: string, label: string, referencedBy?: string): Promise<string>;
  openData(relPath: string, label: string, referencedBy?: string): Promise<Readable>;
  exists(relPath: string, label: string): Promise<boolean>;
}

function fsTransport(rootDir: string): Transport {
  const abs = (relPath: string): string => path.join(rootDir, relPath);
  const missing = (err: unknown, label: string, referencedBy?: string): never => {
    if ((err as NodeJS.ErrnoException)?.code === 'ENOENT' || (err as NodeJS.ErrnoException)?.code === 'ENOTDIR') throw new MissingFileError(label, referencedBy);
    throw err;
  };
  return {
    readText: (relPath, label, referencedBy) => readFile(abs(relPath), 'utf8').catch((err: unknown) => missing(err, label, referencedBy)),
    openData: (relPath, label, referencedBy) =>
      new Promise<Readable>((resolve, reject) => {
        const stream = createReadStream(abs(relPath));
        stream.once('open', () => resolve(stream));
        stream.once('error', (err) => {
          try {
            missing(err, label, referencedBy);
          } catch (e) {
            reject(e);
          }
        });
      }),
    exists: (relPath) => access(abs(relPath)).then(() => true, () => false),
  };
}

function httpTransport(doFetch: typeof fetch, signal?: AbortSignal): Transport {
  const get = async (url: string, method: 'GET' | 'HEAD' = 'GET'): Promise<Response> => {
    try {
      return await doFetch(url, { method, redirect: 'follow', ...(signal ? { signal } : {}) });
    } catch (err) {
      if (signal?.aborted) throw signal.reason ?? err;
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new NetworkError(url, cause?.code ?? cause?.message ?? (err as Error).message, err);
    }
  };
  const ok = async (url: string, referencedBy?: string): Promise<Response> => {
    const res = await get(url);
    if (!res.ok) {
      await res.body?.cancel().catch(() => {});
      throw new HttpError(url, res.status, res.statusText, referencedBy);
    }
    return res;
  };
  return {
    readText: async (_relPath, url, referencedBy) => (await ok(url, referencedBy)).text(),
    openData: async (_relPath, url, referencedBy) => {
      const res = await ok(url, referencedBy);
      if (!res.body) return Readable.from([]);
      return Readable.fromWeb(res.body as unknown as WebReadableStream<Uint8Array>);
    },
    exists: async (_relPath, url) => {
      let res = await get(url, 'HEAD');
      if (res.status === 405 || res.status === 501) {
        res = await get(url);
        await res.body?.cancel().catch(() => {});
      }
      if (res.ok) return true;
      if (res.status === 404 || res.status === 410) return false;
      throw new HttpError(url, res.status, res.statusText);
    },
  };
}

/**
 * Opens a mirror root: a directory (relative to `cwd`) or an http(s) URL. Relative paths
 * given to the source are checked with assertSafeRelativePath before any I/O.
 */
export function openSource(location: string, options: SourceOptions = {}): StreamSource {
  const root = location === '' || location.endsWith('/') ? location : `${location}/`;
  const policy: SignaturePolicy = options.policy ?? 'when-present';
  const verifier = options.verifier;
  const transport = isHttpUrl(root)
    ? httpTransport(options.fetch ?? globalThis.fetch, options.signal)
    : fsTransport(path.resolve(options.cwd ?? process.cwd(), root === '' ? '.' : root));
  const url = (relPath: string): string => root + relPath;
  const checked = (relPath: string, referencedBy?: string): string => assertSafeRelativePath(relPath, referencedBy);

  /**
   * Which files to try for relPath (spec §9.2): the file named, then its twin when it is
   * missing. With `required` a `.sjson` has no unsigned fallback, and a `.json` is looked up
   * as its signed twin first.
   */
  const candidates = (relPath: string): string[] => {
    const sibling = signedSibling(relPath);
    if (sibling === undefined) return [relPath];
    if (policy === 'required') return relPath.endsWith('.sjson') ? [relPath] : [sibling, relPath];
    return [relPath, sibling];
  };

  /**
   * The JSON text of a document. Unsigned text is used as is (unless signatures are
   * required); signed text is verified, or stripped unchecked only with policy `off`. A
   * signed document with no verifier to check it is refused, never read unchecked.
   */
  const payloadOf = async (text: string, label: string): Promise<{ payload: string; signature?: VerifiedPayload }> => {
    const signed = isClearsigned(text);
    if (!signed) {
      if (policy !== 'required') return { payload: text };
      throw new SignatureRequiredError(
        label,
        'is not signed, and signatures are required (the stream was opened at a .sjson, or with --keyring)',
        'open an unsigned stream through its streams/v1/index.json, or pass --no-verify to read it unverified',
      );
    }
    if (policy === 'off') return { payload: extractClearsignedPayload(text, label) };
    if (!verifier) {
      throw new SignatureRequiredError(
        label,
        'is signed, and no keyring is configured to check it',
        'give a keyring with --keyring FILE (or set MEPH_KEYRING), or pass --no-verify to read it unverified',
      );
    }
    const signature = await verifier.verifyClearsigned(text, label);
    return { payload: signature.payload, signature };
  };

  const source: StreamSource = {
    root,
    url,
    readText: async (relPath, o) => transport.readText(checked(relPath, o?.referencedBy), url(relPath), o?.referencedBy),
    async readDocument(relPath, o) {
      checked(relPath, o?.referencedBy);
      let requestedError: unknown;
      let fallbackError: unknown;
      for (const candidate of candidates(relPath)) {
        let text: string;
        try {
          text = await transport.readText(candidate, url(candidate), o?.referencedBy);
        } catch (err) {
          if (!isNotFound(err)) throw err;
          if (candidate === relPath) requestedError = err;
          else fallbackError = err;
          continue;
        }
        const label = url(candidate);
        const { payload, signature } = await payloadOf(text, label);
        return { value: parseJson(payload, label), path: candidate, ...(signature ? { signature } : {}) };
      }
      // Name the path that was asked for, not the sibling tried as a fallback.
      throw requestedError ?? fallbackError;
    },
    async readIndex(relPath = DEFAULT_INDEX_PATH, o) {
      const doc = await source.readDocument(relPath, o);
      return parseIndex(doc.value, url(doc.path));
    },
    async readProducts(relPath, o) {
      const doc = await source.readDocument(relPath, o);
      return parseProducts(doc.value, url(doc.path));
    },
    openData: async (relPath, o) => transport.openData(checked(relPath, o?.referencedBy), url(relPath), o?.referencedBy),
    exists: async (relPath) => transport.exists(checked(relPath), url(relPath)),
  };
  return source;
}
