import { FormatError, MissingFileError } from '../errors.js';
import { INDEX_FORMAT, PRODUCTS_FORMAT, type IndexDocument, type ProductsDocument, type SignaturePolicy, type VerifiedPayload } from '../model.js';
import { assertSafeRelativePath } from '../paths.js';
import { parseDocument } from './documents.js';
import { rememberProductTexts } from './dump-format.js';
import { DEFAULT_INDEX_PATH, DEFAULT_SIGNED_INDEX_PATH, resolveStreamLocation } from './location.js';
import { openSource, type SourceOptions, type StreamSource } from './source.js';

export interface LoadedProducts {
  /** Path relative to the mirror root of the file actually read. */
  path: string;
  doc: ProductsDocument;
  signature?: VerifiedPayload;
}

export interface LoadedStream {
  source: StreamSource;
  /** Set when the stream was reached through an index. */
  indexPath?: string;
  index?: IndexDocument;
  indexSignature?: VerifiedPayload;
  /** Products files in index order (or the one file given). */
  products: LoadedProducts[];
}

export interface LoadStreamOptions extends SourceOptions {
  /** First document relative to the root (like `sstream-query --path`). */
  path?: string;
  /** Called when an index entry is skipped because its format is not readable. */
  onEvent?: (event: { type: 'index-entry-skipped'; contentId: string; reason: string }) => void;
  /**
   * Remember each product's text (rememberProductTexts) so that writing the stream back
   * reuses the text of the products left unchanged: for a caller that will rewrite these
   * products files and treats the documents as read-only.
   */
  rememberProductTexts?: boolean;
}

/** Every `path` in a products tree must be safe before anything uses it (reference: check_tree_paths). */
export function assertProductsPathsSafe(doc: ProductsDocument, source: string): void {
  const check = (p: unknown): void => {
    if (p !== undefined && p !== '') assertSafeRelativePath(p, source);
  };
  for (const pname in doc.products) {
    const product = doc.products[pname]!;
    check(product['path']);
    const versions = product.versions;
    for (const vname in versions) {
      const version = versions[vname]!;
      check(version['path']);
      const items = version.items;
      for (const iname in items) check(items[iname]!.path);
    }
  }
}

/**
 * The one signature rule of every reader (spec §9.2, as the original's `endswith_policy`):
 * a stream opened at a `.sjson` needs every document signed and verified; a `.json` named
 * explicitly is read as it is, even when a keyring was given (`required` then means "verify
 * what is signed"); a mirror root starts at `streams/v1/index.sjson` when there is a verifier
 * (with `required` it must exist), else at `streams/v1/index.json`.
 * In every policy but `off`, a signed document is verified or refused.
 */
export function effectivePolicy(policy: SignaturePolicy, namedPath: string | undefined): SignaturePolicy {
  if (namedPath === undefined || policy === 'off') return policy;
  if (namedPath.endsWith('.sjson')) return 'required';
  return policy === 'required' ? 'when-present' : policy;
}

/**
 * Loads a stream from a mirror root (directory or URL), a `…/streams/v1/index.(s)json`, or a
 * single products file, and reads every products file the index lists (in index order;
 * nested indexes are followed). Fails on the first missing or invalid file, naming it and the
 * index that referenced it.
 */
export async function loadStream(pathOrUrl: string, options: LoadStreamOptions = {}): Promise<LoadedStream> {
  const location = await resolveStreamLocation(pathOrUrl, { ...(options.path !== undefined ? { path: options.path } : {}), ...(options.cwd ? { cwd: options.cwd } : {}) });
  const policy = effectivePolicy(options.policy ?? 'when-present', location.path);
  const source = openSource(location.root, { ...options, policy });
  // A mirror root: its signed index whenever it can be checked (falling back to index.json
  // only when signatures are not required), else its plain index.json.
  const first = location.path ?? (policy === 'required' || (policy === 'when-present' && options.verifier) ? DEFAULT_SIGNED_INDEX_PATH : DEFAULT_INDEX_PATH);
  const result: LoadedStream = { source, products: [] };
  const visited = new Set<string>();

  const visit = async (relPath: string, referencedBy: string | undefined): Promise<void> => {
    const read = await source.readDocument(relPath, { ...(referencedBy ? { referencedBy } : {}), keepPlainDump: Boolean(options.rememberProductTexts) });
    const label = source.url(read.path);
    if (visited.has(read.path)) throw new FormatError(label, 'is referenced in a loop of nested indexes');
    visited.add(read.path);
    const doc = parseDocument(read.value, label, { checkPaths: true });
    if (doc.format === PRODUCTS_FORMAT) {
      if (read.plainDump !== undefined) rememberProductTexts(doc.products, read.plainDump);
      result.products.push({ path: read.path, doc, ...(read.signature ? { signature: read.signature } : {}) });
      return;
    }
    if (result.index === undefined) {
      result.index = doc;
      result.indexPath = read.path;
      if (read.signature) result.indexSignature = read.signature;
    }
    const entries = Object.entries(doc.index);
    // Check every entry path before reading any of them.
    for (const [, entry] of entries) if (entry.path !== undefined && entry.path !== '') assertSafeRelativePath(entry.path, label);
    for (const [contentId, entry] of entries) {
      if (!entry.path) {
        options.onEvent?.({ type: 'index-entry-skipped', contentId, reason: 'no path' });
        continue;
      }
      if (entry.format !== PRODUCTS_FORMAT && entry.format !== INDEX_FORMAT) {
        options.onEvent?.({ type: 'index-entry-skipped', contentId, reason: `format ${JSON.stringify(entry.format)}` });
        continue;
      }
      await visit(entry.path, label);
    }
  };

  try {
    await visit(first, undefined);
  } catch (err) {
    if (err instanceof MissingFileError && location.path === undefined && policy === 'required' && err.source === source.url(first)) {
      throw new MissingFileError(err.source, undefined, 'signatures are required (a keyring was given), so the signed index is read; name .../streams/v1/index.json to read an unsigned stream as it is');
    }
    throw err;
  }
  return result;
}
