import type { MaasVersion } from './types.js';
import { BOTH, NEW } from './rules.js';

/** RFC 3986 unreserved, sub-delims, ':', '@' and '/': characters that survive URL joining as is. */
const URL_SAFE = /^[A-Za-z0-9._~!$&'()*+,;=:@/-]*$/;

export interface PathProblem {
  reason: string;
  maas: readonly MaasVersion[];
}

/**
 * How a metadata path breaks MAAS (R-URL): the 3.7 importer refuses absolute and `..` paths
 * outright; 3.8 joins with Python's urljoin, where a `:` in the first segment reads as a URL
 * scheme.
 */
export function maasPathProblem(p: string): PathProblem | undefined {
  if (p === '') return { reason: 'is empty', maas: BOTH };
  if (p.startsWith('/')) return { reason: 'is absolute (starts with "/")', maas: BOTH };
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(p)) return { reason: 'is a URL, not a path relative to the mirror root', maas: BOTH };
  if (/(^|\/)\.\.(\/|$)/.test(p)) return { reason: 'contains a ".." segment', maas: BOTH };
  const bad = URL_SAFE.test(p) ? [] : [...p].filter((c) => !URL_SAFE.test(c));
  if (bad.length > 0) {
    const shown = [...new Set(bad)].map((c) => JSON.stringify(c)).join(', ');
    return { reason: `contains characters that are not URL-safe (${shown})`, maas: BOTH };
  }
  const slash = p.indexOf('/');
  const first = slash < 0 ? p : p.slice(0, slash);
  if (first.includes(':')) {
    return { reason: `has ":" in its first segment ("${first}"), which MAAS 3.8 takes for a URL scheme`, maas: NEW };
  }
  return undefined;
}

export function basename(p: string): string {
  const i = p.lastIndexOf('/');
  return i < 0 ? p : p.slice(i + 1);
}
