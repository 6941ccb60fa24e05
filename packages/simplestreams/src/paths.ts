import path from 'node:path';
import { UnsafePathError } from './errors.js';

/**
 * Checks a relative path taken from metadata (item `path`, index `path`) before anything is
 * read or written with it: no absolute path, no `..` segment, no NUL, no backslash.
 * Returns the path unchanged so it can be used inline.
 */
export function assertSafeRelativePath(p: unknown, source?: string): string {
  if (typeof p !== 'string' || p === '') throw new UnsafePathError(String(p), 'not a non-empty string', source);
  // Fast path for the common case (called once per item of large streams).
  if (p.charCodeAt(0) !== 0x2f && !p.includes('..') && !p.includes('\\') && !p.includes('\0') && !p.includes('://')) return p;
  if (p.includes('\0')) throw new UnsafePathError(p, 'contains a NUL byte', source);
  if (p.includes('\\')) throw new UnsafePathError(p, 'contains a backslash', source);
  if (p.startsWith('/') || /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(p)) throw new UnsafePathError(p, 'is absolute', source);
  if (p.split('/').some((seg) => seg === '..')) throw new UnsafePathError(p, 'contains a ".." segment', source);
  return p;
}

/** A relative path path.resolve would leave as it is: no empty segment, no trailing slash (and no "." segment, DOT_SEGMENT). */
const NORMAL_RELATIVE = /^(?:[^/]+\/)*[^/]+$/;
const DOT_SEGMENT = /(?:^|\/)\.(?:\/|$)/;

/** Joins a checked relative path under root; the result is guaranteed to stay inside root. */
export function resolveInside(root: string, rel: string, source?: string): string {
  assertSafeRelativePath(rel, source);
  const base = path.resolve(root);
  // A normal relative path is appended as it is, not normalised again with the root.
  const abs = NORMAL_RELATIVE.test(rel) && !DOT_SEGMENT.test(rel) ? `${base === '/' ? '' : base}/${rel}` : path.resolve(base, rel);
  if (abs !== base && !abs.startsWith(base === path.sep ? base : base + path.sep)) throw new UnsafePathError(rel, `escapes ${base}`, source);
  return abs;
}
