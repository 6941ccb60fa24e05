import { createReadStream } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { ConnectionError, defaultHttpClient, HttpStatusError, isNotFound as isHttpNotFound, type HttpClient } from '@meph/http';
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
  /** `required`: every document must be clearsigned and verify; `when-present` (default): verify `.sjson` when a verifier is given; `off`: strip signatures unchecked. */
  policy?: SignaturePolicy;
  /** The HTTP transport for http(s) roots (proxies, retries, timeouts, size caps); default: the process-wide client. */
  http?: HttpClient;
  /** Refuse metadata documents larger than this over HTTP (default: the client's cap, 128 MiB). */
  maxDocumentBytes?: number;
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

function httpTransport(client: HttpClient, signal?: AbortSignal, maxBytes?: number): Transport {
  // Status and connection failures keep this package's error types (HttpError carries
  // referencedBy); timeouts, truncation and size errors pass through as @meph/http's.
  const translate = (err: unknown, url: string, referencedBy?: string): never => {
    if (err instanceof HttpStatusError) throw new HttpError(url, err.status, err.statusText, referencedBy);
    if (err instanceof ConnectionError) throw new NetworkError(url, `${err.detail}${err.attempts > 1 ? ` (gave up after ${err.attempts} attempts)` : ''}`, err);
    throw err;
  };
  const o = { ...(signal ? { signal } : {}) };
  return {
    readText: (_relPath, url, referencedBy) =>
      client.getText(url, { ...o, ...(maxBytes !== undefined ? { maxBytes } : {}) }).catch((err: unknown) => translate(err, url, referencedBy)),
    openData: async (_relPath, url, referencedBy) => {
      const res = await client.open(url, { ...o, resume: true }).catch((err: unknown) => translate(err, url, referencedBy));
      return res.body;
    },
    exists: async (_relPath, url) => {
      try {
        await client.head(url, o);
        return true;
      } catch (err) {
        if (isHttpNotFound(err)) return false;
        if (!(err instanceof HttpStatusError && (err.status === 405 || err.status === 501))) return translate(err, url);
      }
      try {
        (await client.open(url, o)).body.destroy();
        return true;
      } catch (err) {
        if (isHttpNotFound(err)) return false;
        return translate(err, url);
      }
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
    ? httpTransport(options.http ?? defaultHttpClient(), options.signal, options.maxDocumentBytes)
    : fsTransport(path.resolve(options.cwd ?? process.cwd(), root === '' ? '.' : root));
  const url = (relPath: string): string => root + relPath;
  const checked = (relPath: string, referencedBy?: string): string => assertSafeRelativePath(relPath, referencedBy);

  /** Which files to try for relPath, in order, per the signature policy (spec §9.2). */
  const candidates = (relPath: string): string[] => {
    const sibling = signedSibling(relPath);
    if (sibling === undefined) return [relPath];
    const preferSigned = policy === 'required' || (policy === 'when-present' && verifier !== undefined);
    if (relPath.endsWith('.sjson')) return policy === 'required' ? [relPath] : [relPath, sibling];
    return preferSigned ? [sibling, relPath] : [relPath, sibling];
  };

  const payloadOf = async (text: string, label: string): Promise<{ payload: string; signature?: VerifiedPayload }> => {
    const signed = isClearsigned(text);
    if (policy === 'off') return { payload: signed ? extractClearsignedPayload(text, label) : text };
    if (policy === 'required') {
      if (!signed) throw new SignatureRequiredError(label);
      if (!verifier) throw new SignatureRequiredError(label, 'cannot be verified without a keyring');
    }
    if (!signed) return { payload: text };
    if (!verifier) return { payload: extractClearsignedPayload(text, label) };
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
