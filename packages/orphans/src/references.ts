import { promises as fsp } from 'node:fs';
import path from 'node:path';
import {
  assertProductsPathsSafe,
  assertSafeRelativePath,
  INDEX_FORMAT,
  isHttpUrl,
  loadStream,
  openSource,
  parseDocument,
  PRODUCTS_FORMAT,
  signedSibling,
  type LoadStreamOptions,
  type ProductsDocument,
} from '@meph/simplestreams';
import { NoReferencesError } from './errors.js';

/** Options for reading streams (a verifier and signature policy from the CLI's keyring flags). */
export type StreamReadOptions = Pick<LoadStreamOptions, 'verifier' | 'policy' | 'http'>;

/**
 * Resolves directories to their real location one component at a time, remembering every
 * prefix, so that a stream reached through a symlink (`daily/data -> ../data`) maps onto the
 * real files of the pool. One lstat per distinct directory.
 */
export class RealDirResolver {
  private readonly memo = new Map<string, Promise<string>>();

  realDir(absDir: string): Promise<string> {
    let hit = this.memo.get(absDir);
    if (!hit) {
      hit = this.resolve(absDir);
      this.memo.set(absDir, hit);
    }
    return hit;
  }

  private async resolve(absDir: string): Promise<string> {
    const parent = path.dirname(absDir);
    if (parent === absDir) return absDir;
    const candidate = path.join(await this.realDir(parent), path.basename(absDir));
    try {
      const st = await fsp.lstat(candidate);
      return st.isSymbolicLink() ? await fsp.realpath(candidate) : candidate;
    } catch {
      return candidate; // missing (or dangling): keep the lexical path
    }
  }
}

export interface StreamReferences {
  /** The stream as given (absolute path or URL), or the root of one found inside the data directory. */
  stream: string;
  /** Found inside the data directory rather than given. */
  discovered: boolean;
  /** Distinct item paths of all its documents. */
  referenced: number;
  /** Those that name an existing file of the data directory (through either resolution). */
  present: number;
}

export interface References {
  /** Referenced paths relative to the real data directory (only those inside it). */
  paths: Set<string>;
  /** Item paths seen, summed over the streams, inside the data directory or not. */
  total: number;
  /** Of those, how many name an existing file of the data directory; `missing` the rest. */
  present: number;
  missing: number;
  perStream: StreamReferences[];
  /** The streams as loaded (absolute paths or URLs). */
  streams: string[];
  /** Local stream roots (for locking). */
  localRoots: string[];
}

/** Only the stream-reading options (drops everything else a caller's options carry). */
export function pickRead(o: StreamReadOptions): StreamReadOptions {
  const r: StreamReadOptions = {};
  if (o.verifier) r.verifier = o.verifier;
  if (o.policy) r.policy = o.policy;
  if (o.http) r.http = o.http;
  return r;
}

/** A stream argument as stored: URLs unchanged, local paths made absolute. */
export function normalizeStreamArg(stream: string, cwd = process.cwd()): string {
  return isHttpUrl(stream) ? stream : path.resolve(cwd, stream);
}

/**
 * Every products document of a stream that is present, signed or not: the documents read with
 * the caller's signature checks (which fail on a bad signature), then — unchecked, as they only
 * add references — both twins of the index (`index.json` and `index.sjson`, each followed) and
 * the twin of every products file read. A signed tree that lags behind its unsigned one (or
 * the reverse) thus never hides a file a reader of the other still uses.
 */
export async function loadEveryDocument(stream: string, options: StreamReadOptions = {}): Promise<{ root: string; isUrl: boolean; docs: ProductsDocument[] }> {
  const primary = await loadStream(stream, options);
  const root = primary.source.root;
  const docs = primary.products.map((p) => p.doc);
  const read = new Set(primary.products.map((p) => p.path));
  const unchecked = { policy: 'off' as const, ...(options.http ? { http: options.http } : {}) };
  const raw = openSource(root, unchecked);
  const add = (p: { path: string; doc: ProductsDocument }): void => {
    if (read.has(p.path)) return;
    read.add(p.path);
    docs.push(p.doc);
  };
  // the other twin of the index, followed without re-reading what the primary read
  const visited = new Set<string>();
  const visit = async (rel: string): Promise<void> => {
    if (read.has(rel) || visited.has(rel) || !(await raw.exists(rel))) return;
    visited.add(rel);
    const got = await raw.readDocument(rel);
    const label = raw.url(got.path);
    const doc = parseDocument(got.value, label, { checkPaths: true });
    if (doc.format === PRODUCTS_FORMAT) {
      add({ path: got.path, doc });
      return;
    }
    for (const entry of Object.values(doc.index)) {
      if (!entry.path || (entry.format !== PRODUCTS_FORMAT && entry.format !== INDEX_FORMAT)) continue;
      await visit(assertSafeRelativePath(entry.path, label));
    }
  };
  const twinIndex = primary.indexPath === undefined ? undefined : signedSibling(primary.indexPath);
  if (twinIndex !== undefined) await visit(twinIndex);
  for (const p of [...read]) {
    const twin = signedSibling(p);
    if (twin === undefined || read.has(twin) || !(await raw.exists(twin))) continue;
    const doc = await raw.readProducts(twin);
    assertProductsPathsSafe(doc, raw.url(twin));
    add({ path: twin, doc });
  }
  return { root, isUrl: isHttpUrl(root), docs };
}

function itemPaths(docs: readonly ProductsDocument[]): Set<string> {
  const seen = new Set<string>();
  for (const doc of docs)
    for (const pname in doc.products) {
      const versions = doc.products[pname]!.versions;
      for (const vname in versions) {
        const items = versions[vname]!.items;
        for (const iname in items) {
          const p = items[iname]!.path;
          if (typeof p === 'string' && p !== '') seen.add(p);
        }
      }
    }
  return seen;
}

/** What the data directory holds, from a walk (saves an lstat per path). */
export interface PoolListing {
  /** Real directories (relative, `''` for the top). */
  dirs: ReadonlySet<string>;
  /** Files and file symlinks (relative). */
  files: ReadonlySet<string>;
}

/** A stream to collect references from. */
export interface StreamToRead {
  stream: string;
  /** Found inside the data directory: read without signature checks (it only adds references). */
  discovered?: boolean;
}

/**
 * Every item `path` of every document of `streams` (see loadEveryDocument), as paths relative
 * to the real data directory. Each path is resolved twice — against the stream's mirror root
 * (following its symlinks, e.g. `daily/data -> ../data`) and against the data directory itself
 * (pools whose streams live elsewhere) — and counts as referenced wherever either resolution
 * lands inside the data directory. Paths of remote streams are relative to the data directory.
 * Throws NoReferencesError when the streams reference nothing at all, or a stream given (not
 * found) references nothing (unless `force`).
 */
export async function collectReferences(
  streams: ReadonlyArray<string | StreamToRead>,
  realDataDir: string,
  options: StreamReadOptions & { force?: boolean } = {},
  pool?: PoolListing,
): Promise<References> {
  const resolver = new RealDirResolver();
  const paths = new Set<string>();
  const localRoots = new Set<string>();
  const perStream: StreamReferences[] = [];
  let total = 0;
  let present = 0;

  /** An absolute path → relative to the real data directory, through symlinks; undefined if outside. */
  const inPool = async (abs: string): Promise<string | undefined> => {
    const lexical = path.relative(realDataDir, abs);
    const lexDir = path.dirname(lexical);
    // fast path: the parent is a real directory the pool walk already saw (no symlink on the way)
    if (pool?.dirs.has(lexDir === '.' ? '' : lexDir.split(path.sep).join('/'))) return lexical.split(path.sep).join('/');
    const real = path.join(await resolver.realDir(path.dirname(abs)), path.basename(abs));
    const rel = path.relative(realDataDir, real);
    return rel !== '' && rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel) ? rel.split(path.sep).join('/') : undefined;
  };
  const exists = async (rel: string): Promise<boolean> =>
    pool ? pool.files.has(rel) : (await fsp.lstat(path.join(realDataDir, rel)).catch(() => undefined))?.isFile() === true;

  for (const s of streams) {
    const { stream, discovered = false } = typeof s === 'string' ? { stream: s } : s;
    const loaded = await loadEveryDocument(stream, discovered ? { ...(options.http ? { http: options.http } : {}), policy: 'off' } : pickRead(options));
    const root = loaded.isUrl ? undefined : await fsp.realpath(path.resolve(loaded.root)).catch(() => path.resolve(loaded.root));
    if (root !== undefined) localRoots.add(root);
    const seen = itemPaths(loaded.docs);
    let here = 0;
    for (const p of seen) {
      // paths were checked safe (relative, no "..") by the reader
      const viaRoot = root === undefined ? undefined : await inPool(path.join(root, p));
      const viaData = root === realDataDir ? viaRoot : await inPool(path.join(realDataDir, p));
      let found = false;
      for (const rel of [viaRoot, viaData]) {
        if (rel === undefined) continue;
        paths.add(rel);
        if (!found && (await exists(rel))) found = true;
      }
      if (found) here++;
    }
    perStream.push({ stream, discovered, referenced: seen.size, present: here });
    total += seen.size;
    present += here;
  }
  const names = streams.map((s) => (typeof s === 'string' ? s : s.stream));
  if (!options.force) {
    // a stream given that references nothing is as suspicious as no references at all
    const empty = perStream.filter((s) => s.referenced === 0 && !s.discovered).map((s) => s.stream);
    if (total === 0 || empty.length > 0) throw new NoReferencesError(total === 0 ? names : empty);
  }
  return { paths, total, present, missing: total - present, perStream, streams: names, localRoots: [...localRoots] };
}
