/**
 * Orders version names the way simplestreams does: plain C-locale (byte) string comparison,
 * never numeric or date parsing (`9` > `20161020`, `samepaths` > `20121026.1`). Returns a
 * negative number, zero or a positive number, so `names.sort(compareVersions)` is oldest
 * first.
 */
export function compareVersions(a: string, b: string): number {
  if (a === b) return 0;
  // UTF-16 code-unit order equals UTF-8 byte order except around surrogate pairs.
  if (!hasSurrogates(a) && !hasSurrogates(b)) return a < b ? -1 : 1;
  const ca = Array.from(a, (c) => c.codePointAt(0)!);
  const cb = Array.from(b, (c) => c.codePointAt(0)!);
  for (let i = 0; i < Math.min(ca.length, cb.length); i++) if (ca[i] !== cb[i]) return ca[i]! - cb[i]!;
  return ca.length - cb.length;
}

function hasSurrogates(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdfff) return true;
  }
  return false;
}

const byCodeUnitDescending = (a: string, b: string): number => (a === b ? 0 : a < b ? 1 : -1);

/** Version names newest first. */
export function newestFirst(names: Iterable<string>): string[] {
  const list = [...names];
  // Names without surrogates (all real ones) compare by code unit: checked once per name, not per comparison.
  return list.some(hasSurrogates) ? list.sort((a, b) => compareVersions(b, a)) : list.sort(byCodeUnitDescending);
}

/**
 * simplestreams `resolve_work`: which source versions to add to the target and which target
 * versions to drop so that at most `max` remain (newest kept). `keep` keeps target versions that
 * the source no longer has (while room remains).
 */
export function resolveWork(src: readonly string[], target: readonly string[], max?: number, keep = false): { add: string[]; remove: string[] } {
  const limit = max !== undefined && max >= 0 ? max : undefined;
  const srcSet = new Set(src);
  const tgtSet = new Set(target);
  const add = newestFirst(src).filter((v) => !tgtSet.has(v));
  const remove = newestFirst(target).filter((v) => !srcSet.has(v));
  if (keep && remove.length) {
    const afterAdd = target.length + add.length;
    while (remove.length && (limit === undefined || limit > afterAdd - remove.length)) remove.shift();
  }
  const removing = new Set(remove);
  const merged = newestFirst([...target, ...add].filter((v) => !removing.has(v)));
  if (limit !== undefined && merged.length > limit) {
    for (const v of merged.slice(limit)) {
      if (tgtSet.has(v)) remove.push(v);
      else add.splice(add.indexOf(v), 1);
    }
  }
  return { add, remove: [...new Set(remove)].sort(compareVersions) };
}
