import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UnsafePathError } from './errors.js';
import { assertSafeRelativePath, resolveInside } from './paths.js';

describe('resolveInside', () => {
  it('gives what path.resolve gives for every safe relative path, normal or not', () => {
    const roots = ['/srv/stream', '/srv/stream/', '/', 'relative/root', './r', 'r/../s'];
    const rels = ['a', 'noble/amd64/20240101/squashfs', 'a/./b', './a', 'a/', 'a//b', 'a/.', '.hidden/x', 'x/.y', 'a/..b/c', 'a.', '...'];
    for (const root of roots) for (const rel of rels) expect(resolveInside(root, rel), `${root} + ${rel}`).toBe(path.resolve(root, rel));
  });

  it('follows the working directory for a relative root', () => {
    const cwd = process.cwd();
    const first = resolveInside('streams', 'a/b');
    process.chdir('/tmp');
    try {
      expect(resolveInside('streams', 'a/b')).toBe('/tmp/streams/a/b');
    } finally {
      process.chdir(cwd);
    }
    expect(resolveInside('streams', 'a/b')).toBe(first);
  });

  it('refuses paths that leave the root or are not relative', () => {
    for (const rel of ['../x', 'a/../../x', '/etc/passwd', 'http://h/x', 'a\\b', 'a\0b', '', 'a/..']) {
      expect(() => resolveInside('/srv/stream', rel), JSON.stringify(rel)).toThrow(UnsafePathError);
    }
    expect(() => assertSafeRelativePath(42)).toThrow(UnsafePathError);
    expect(resolveInside('/srv/stream', '.')).toBe('/srv/stream');
  });
});
