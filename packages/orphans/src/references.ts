import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { loadStream, type LoadStreamOptions } from '@meph/simplestreams';
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

export interface References {
  /** Referenced paths relative to the real data directory (only those inside it). */
  paths: Set<string>;
  /** Item paths seen in all streams, inside the data directory or not. */
  total: number;
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
  return /^https?:\/\//i.test(stream) ? stream : path.resolve(cwd, stream);
}

/**
 * Every item `path` of every products file reachable from `streams`, as paths relative to
 * the real data directory. Local streams are resolved through symlinks (`knownRealDirs`, the
 * directories a walk of the pool found, lets paths under them skip the lstat); paths of remote
 * streams are taken as relative to the data directory. Throws NoReferencesError when the
 * streams reference nothing at all.
 */
export async function collectReferences(
  streams: readonly string[],
  realDataDir: string,
  options: StreamReadOptions = {},
  knownRealDirs?: ReadonlySet<string>,
): Promise<References> {
  const resolver = new RealDirResolver();
  const paths = new Set<string>();
  const localRoots = new Set<string>();
  let total = 0;
  for (const stream of streams) {
    const loaded = await loadStream(stream, options);
    const isUrl = /^https?:\/\//i.test(loaded.source.root);
    const root = isUrl ? realDataDir : await fsp.realpath(path.resolve(loaded.source.root)).catch(() => path.resolve(loaded.source.root));
    if (!isUrl) localRoots.add(root);
    const seen = new Set<string>();
    for (const { doc } of loaded.products)
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
    total += seen.size;
    for (const p of seen) {
      const abs = path.join(root, p); // paths were checked safe by loadStream
      // fast path: the parent is a real directory the pool walk already saw (no symlink on the way)
      const lexical = path.relative(realDataDir, abs);
      if (knownRealDirs?.has(path.dirname(lexical) === '.' ? '' : path.dirname(lexical).split(path.sep).join('/'))) {
        paths.add(lexical.split(path.sep).join('/'));
        continue;
      }
      const real = path.join(await resolver.realDir(path.dirname(abs)), path.basename(abs));
      const rel = path.relative(realDataDir, real);
      if (rel !== '' && rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel)) paths.add(rel.split(path.sep).join('/'));
    }
  }
  if (total === 0) throw new NoReferencesError(streams);
  return { paths, total, streams: [...streams], localRoots: [...localRoots] };
}
