import { constants as fsConstants, createReadStream, type Stats } from 'node:fs';
import { access, open, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { ConnectionError, defaultHttpClient, HttpStatusError, isNotFound as isHttpNotFound, type HttpClient } from '@meph/http';
import { DocumentLimitError, HttpError, MissingFileError, NetworkError, SignatureRequiredError } from '../errors.js';
import type { IndexDocument, ProductsDocument, SignaturePolicy, SignatureVerifier, VerifiedPayload } from '../model.js';
import { assertSafeRelativePath } from '../paths.js';
import { extractClearsignedPayload, isClearsigned } from './clearsign.js';
import { parseIndex, parseProducts } from './documents.js';
import { parseJsonDocument } from './json.js';
import { decodeUtf8Strict, MAX_DOCUMENT_BYTES_ENV, maxDocumentBytes } from './limits.js';
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
  /** The HTTP transport for http(s) roots (proxies, retries, timeouts, size caps); default: the process-wide client. */
  http?: HttpClient;
  /** Base for a relative local root (default process.cwd()). */
  cwd?: string;
  signal?: AbortSignal;
  /** Largest metadata document read from disk or over HTTP (default: $MEPH_MAX_DOCUMENT_BYTES, else 256 MiB); over HTTP a larger Content-Length is refused before reading. */
  maxDocumentBytes?: number;
}

export interface ReadOptions {
  /** Names the document that pointed here, for "missing file" errors. */
  referencedBy?: string;
  /** readDocument: give back the JSON text when it is a plain dump (`plainDump`). */
  keepPlainDump?: boolean;
}

export interface ReadDocumentResult {
  value: unknown;
  /** The path actually read (`.sjson` or `.json`). */
  path: string;
  signature?: VerifiedPayload;
  /** The JSON text parsed, with `keepPlainDump`, when it is a plain dump (see isPlainDump). */
  plainDump?: string;
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

function describeNonRegular(st: Stats): string {
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  if (st.isDirectory()) return 'a directory';
  return 'not a regular file';
}

function notRegular(label: string, st: Stats): DocumentLimitError {
  return new DocumentLimitError(label, `is ${describeNonRegular(st)}, not a regular file; refusing to read it`, 'metadata must be a regular file (a symlink to one is fine)');
}

/**
 * Reads a whole metadata file: symlinks are followed, the target must be a regular file (a
 * FIFO or device is refused before it is opened, and the open is non-blocking, so nothing
 * can hang), at most `maxBytes` long, and valid UTF-8.
 */
export async function readMetadataFile(file: string, label: string = file, maxBytes: number = maxDocumentBytes()): Promise<string> {
  const tooBig = (size: string): DocumentLimitError =>
    new DocumentLimitError(label, `is ${size}, over the ${maxBytes}-byte limit for a metadata document`, `raise the limit with ${MAX_DOCUMENT_BYTES_ENV}=BYTES if the file is genuine`);
  const before = await stat(file);
  if (!before.isFile()) throw notRegular(label, before);
  if (before.size > maxBytes) throw tooBig(`${before.size} bytes`);
  const fh = await open(file, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw notRegular(label, st);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      // One read for the whole file as stat saw it; small reads after that until EOF.
      const buf = Buffer.allocUnsafe(total === 0 ? Math.min(st.size + 1, maxBytes + 1) : Math.min(64 * 1024, maxBytes + 1 - total));
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > maxBytes) throw tooBig('larger than that');
      chunks.push(bytesRead === buf.length ? buf : buf.subarray(0, bytesRead));
    }
    return decodeUtf8Strict(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total), label);
  } finally {
    await fh.close();
  }
}

function fsTransport(rootDir: string, maxBytes: number): Transport {
  const abs = (relPath: string): string => path.join(rootDir, relPath);
  const missing = (err: unknown, label: string, referencedBy?: string): never => {
    if ((err as NodeJS.ErrnoException)?.code === 'ENOENT' || (err as NodeJS.ErrnoException)?.code === 'ENOTDIR') throw new MissingFileError(label, referencedBy);
    throw err;
  };
  return {
    readText: (relPath, label, referencedBy) => readMetadataFile(abs(relPath), label, maxBytes).catch((err: unknown) => missing(err, label, referencedBy)),
    openData: async (relPath, label, referencedBy) => {
      const st = await stat(abs(relPath)).catch((err: unknown) => missing(err, label, referencedBy));
      if (!st.isFile()) throw notRegular(label, st);
      return new Promise<Readable>((resolve, reject) => {
        const stream = createReadStream(abs(relPath));
        stream.once('open', () => resolve(stream));
        stream.once('error', (err) => {
          try {
            missing(err, label, referencedBy);
          } catch (e) {
            reject(e);
          }
        });
      });
    },
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
    readText: async (_relPath, url, referencedBy) => {
      const bytes = await client.getBytes(url, { ...o, ...(maxBytes !== undefined ? { maxBytes } : {}) }).catch((err: unknown) => translate(err, url, referencedBy));
      return decodeUtf8Strict(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), url);
    },
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
    ? httpTransport(options.http ?? defaultHttpClient(), options.signal, maxDocumentBytes(options.maxDocumentBytes))
    : fsTransport(path.resolve(options.cwd ?? process.cwd(), root === '' ? '.' : root), maxDocumentBytes(options.maxDocumentBytes));
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
        'give a keyring with --keyring FILE or $MEPH_KEYRING, or pass --no-verify to read it unverified',
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
        const { value, plainDump } = parseJsonDocument(payload, label);
        return { value, path: candidate, ...(signature ? { signature } : {}), ...(plainDump !== undefined && o?.keepPlainDump ? { plainDump } : {}) };
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
