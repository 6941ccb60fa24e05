import { stat } from 'node:fs/promises';
import path from 'node:path';
import { FormatError, StreamLocationError } from '../errors.js';

/** Default first document of a mirror when the location names only its root. */
export const DEFAULT_INDEX_PATH = 'streams/v1/index.json';
export const DEFAULT_SIGNED_INDEX_PATH = 'streams/v1/index.sjson';

const STREAMS_PATH = /streams\/v1\/.*[.](sjson|json)$/;
const URL_SCHEME = /^https?:\/\//i;

export function isHttpUrl(location: string): boolean {
  return URL_SCHEME.test(location);
}

/** A location split into the mirror root (every metadata `path` is relative to it) and the first document. */
export interface StreamLocation {
  /** Mirror root exactly as the user wrote it, with a trailing `/` added when missing. */
  root: string;
  /** First document to read, relative to root; undefined when only a root was given. */
  path: string | undefined;
  isUrl: boolean;
}

function withSlash(root: string): string {
  return root === '' || root.endsWith('/') ? root : `${root}/`;
}

/**
 * Splits a mirror URL the way the reference client does: an explicit `path` wins; otherwise a
 * trailing `streams/v1/….json|sjson` is the first document and everything before it the root;
 * otherwise the whole string is the root. Pure string work, no I/O.
 */
export function splitMirrorUrl(location: string, explicitPath?: string): StreamLocation {
  const isUrl = isHttpUrl(location);
  if (explicitPath !== undefined) return { root: withSlash(location), path: explicitPath, isUrl };
  const m = STREAMS_PATH.exec(location);
  if (m) return { root: location.slice(0, m.index), path: m[0], isUrl };
  return { root: withSlash(location), path: undefined, isUrl };
}

/**
 * Like splitMirrorUrl, and additionally accepts a single products/index file anywhere (a
 * local file, or a URL ending in .json/.sjson): its directory becomes the root.
 */
export async function resolveStreamLocation(location: string, options: { path?: string; cwd?: string } = {}): Promise<StreamLocation> {
  const split = splitMirrorUrl(location, options.path);
  if (split.path !== undefined) return split;
  let isFile: boolean;
  if (split.isUrl) {
    let url: URL;
    try {
      url = new URL(location);
    } catch {
      throw new FormatError(location, 'is not a valid URL');
    }
    isFile = /\.s?json$/i.test(url.pathname);
  } else {
    const st = await stat(path.resolve(options.cwd ?? process.cwd(), location)).catch(() => undefined);
    isFile = st?.isFile() ?? false;
  }
  if (!isFile) return split;
  const slash = location.lastIndexOf('/');
  return { root: location.slice(0, slash + 1), path: location.slice(slash + 1), isUrl: split.isUrl };
}

/** The signed/unsigned sibling of a `.json`/`.sjson` path, or undefined for other names. */
export function signedSibling(relPath: string): string | undefined {
  if (relPath.endsWith('.sjson')) return `${relPath.slice(0, -'.sjson'.length)}.json`;
  if (relPath.endsWith('.json')) return `${relPath.slice(0, -'.json'.length)}.sjson`;
  return undefined;
}

/** A local stream that a command writes to, as the user named it. */
export interface WriteTarget {
  /** Absolute mirror root: where streams/v1/ and the data files live. */
  root: string;
  /**
   * The products file the user named (`…/streams/v1/<name>.json|.sjson`, as its `.json` path
   * relative to root), when it is not an index: the original then worked on that file only.
   */
  productsPath?: string;
}

const INDEX_NAME = /^index\.s?json$/;

/**
 * Decides where a command writes when given `location` (the original's path_from_mirror_url
 * rule, for write targets): a mirror root directory, or a path ending in
 * `streams/v1/<name>.json|.sjson` whose mirror root is everything before `streams/v1/`.
 * URLs and other files cannot be written to and fail with one clear line; with `mustExist`
 * (commands that edit an existing stream) so does a directory without streams/v1/index.json.
 */
export async function resolveWriteTarget(location: string, options: { cwd?: string; command?: string; mustExist?: boolean } = {}): Promise<WriteTarget> {
  const what = options.command ? `${options.command} writes to this stream` : 'this stream is written to';
  if (isHttpUrl(location)) {
    throw new StreamLocationError(location, `${what}, so it must be a local directory, not a URL`, 'give the mirror root directory (or its streams/v1/index.json) on this machine');
  }
  const cwd = options.cwd ?? process.cwd();
  const split = splitMirrorUrl(location);
  const root = path.resolve(cwd, split.root === '' ? '.' : split.root);
  const rootStat = await stat(root).catch(() => undefined);
  if (rootStat && !rootStat.isDirectory()) {
    throw new StreamLocationError(location, `is a file, not a stream directory`, 'give the mirror root (the directory holding streams/v1/) or its streams/v1/index.json');
  }
  if (options.mustExist && !(await stat(path.join(root, DEFAULT_INDEX_PATH)).catch(() => undefined))?.isFile()) {
    throw new StreamLocationError(location, rootStat ? `is not a stream: ${DEFAULT_INDEX_PATH} is missing` : 'no such stream directory', 'give the mirror root (the directory holding streams/v1/index.json) or its streams/v1/index.json');
  }
  if (split.path === undefined) return { root };
  const name = path.posix.basename(split.path);
  if (INDEX_NAME.test(name)) return { root };
  const productsPath = split.path.endsWith('.sjson') ? `${split.path.slice(0, -'.sjson'.length)}.json` : split.path;
  return { root, productsPath };
}
