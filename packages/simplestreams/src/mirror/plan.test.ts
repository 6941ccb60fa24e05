import { mkdtemp, readdir, rm, symlink, writeFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseFilters } from '../flatten/filters.js';
import type { ProductsDocument } from '../model.js';
import { checkMirrorOptions, mirrorDocuments } from './mirror.js';
import { formatReferences, parseReferences, planContent, updateReferences, type References } from './plan.js';

const item = (p: string) => ({ path: p, size: 1, sha256: 'a'.repeat(64) });
function doc(versions: Record<string, string[]>, arch = 'amd64'): ProductsDocument {
  const products: ProductsDocument['products'] = {};
  for (const [v, files] of Object.entries(versions)) {
    const p = (products[`p:${arch}`] ??= { arch, versions: {} });
    p.versions[v] = { items: Object.fromEntries(files.map((f, i) => [`i${i}`, item(f)])) };
  }
  return { format: 'products:1.0', content_id: 'c', products };
}
const versionsOf = (d: ProductsDocument): string[] => Object.keys(d.products['p:amd64']?.versions ?? {}).sort();

describe('planContent (sstream-mirror resolve_work per product)', () => {
  it('spec §10.2 worked cases: max 2 → add the two newest, remove all old; keep with max 4 keeps the newest old one', () => {
    // plain string order (spec §4), so the spec's integers are zero-padded here
    const src = doc({ '10': ['f/10'], '09': ['f/9'], '08': ['f/8'] });
    const target = doc({ '07': ['f/7'], '06': ['f/6'], '05': ['f/5'] });
    const a = planContent(src, target, { filters: [], max: 2 });
    expect(a.add.map((c) => c.versionName)).toEqual(['10', '09']);
    expect(a.remove.map((c) => c.versionName)).toEqual(['05', '06', '07']);
    expect(versionsOf(a.target)).toEqual(['09', '10']);
    const b = planContent(src, target, { filters: [], max: 4, keep: true });
    expect(b.add.map((c) => c.versionName)).toEqual(['10', '09', '08']);
    expect(b.remove.map((c) => c.versionName)).toEqual(['05', '06']);
  });

  it('a version the filters reject stays in the target (delete_filtered_items is off) and the target is not mutated', () => {
    const src = doc({ '2': ['f/2'], '1': ['f/1'] });
    const target = doc({ '1': ['f/1'] });
    const p = planContent(src, target, { filters: parseFilters(['version_name=2']) });
    expect(p.remove).toEqual([]);
    expect(versionsOf(p.target)).toEqual(['1', '2']);
    expect(versionsOf(target)).toEqual(['1']);
  });

  it('refuses an item with a path but no size or checksum (nothing could verify it)', () => {
    const bad = doc({ '1': ['f/1'] });
    delete bad.products['p:amd64']!.versions['1']!.items['i0']!.sha256;
    expect(() => planContent(bad, undefined, { filters: [] })).toThrow(/no md5\/sha256\/sha512/);
  });
});

describe('references', () => {
  it('a file goes only with its last reference, and the format round-trips', () => {
    const refs: References = new Map();
    const first = planContent(doc({ a: ['f/shared'], b: ['f/shared'] }), undefined, { filters: [] });
    expect(updateReferences(refs, first)).toEqual([]);
    expect(refs.get('f/shared')).toEqual(['c/p:amd64/b/i0', 'c/p:amd64/a/i0']);
    const dropB = planContent(doc({ a: ['f/shared'] }), first.target, { filters: [] });
    expect(updateReferences(refs, dropB)).toEqual([]);
    const dropA = planContent(doc({ z: ['f/z'] }), dropB.target, { filters: [], max: 1 });
    expect(updateReferences(refs, dropA)).toEqual(['f/shared']);
    expect(formatReferences(refs)).toBe('{"f/z": ["c/p:amd64/z/i0"]}');
    expect(parseReferences(formatReferences(refs), 'r')).toEqual(refs);
  });
});

describe('parseReferences', () => {
  it('names the file, where its JSON breaks and what to do', () => {
    expect(() => parseReferences('{"f/a": ["x"]', 'out/.data/references.json')).toThrow(
      expect.objectContaining({ name: 'FormatError', message: expect.stringMatching(/^out\/\.data\/references\.json: not valid JSON \(line 1, column 14: /), hint: "remove it to rebuild the mirror's bookkeeping" }),
    );
    expect(() => parseReferences('[]', 'r.json')).toThrow(/^r\.json: is not a JSON object$/);
    expect(() => parseReferences('{"f/a": "x"}', 'r.json')).toThrow(/entry "f\/a" is not a list of ids/);
  });
});

describe('mirrorDocuments', () => {
  it('refuses a bookkeeping tree whose removal path escapes the target, before writing anything', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'meph-mirror-plan-'));
    try {
      await mkdir(path.join(root, '.data'), { recursive: true });
      await writeFile(path.join(root, '.data/c'), JSON.stringify(doc({ '1': ['../../etc/passwd'] })));
      const src = doc({ '2': ['f/2'] });
      await expect(
        mirrorDocuments(root, { contents: [{ doc: src, path: 'streams/v1/c.json', raw: '{}' }], locate: () => '/nonexistent' }, { max: 1 }),
      ).rejects.toThrow(/\.\.\/\.\.\/etc\/passwd/);
      expect((await readdir(root)).sort()).toEqual(['.data']);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('a corrupt bookkeeping tree is one typed error naming the file and line, not a bare SyntaxError', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'meph-mirror-tree-'));
    try {
      await mkdir(path.join(root, '.data'), { recursive: true });
      await writeFile(path.join(root, '.data/c'), '{"products": {\n');
      const src = doc({ '2': ['f/2'] });
      await expect(
        mirrorDocuments(root, { contents: [{ doc: src, path: 'streams/v1/c.json', raw: '{}' }], locate: () => '/nonexistent' }, { max: 1 }),
      ).rejects.toThrow(expect.objectContaining({ name: 'ParseError', message: expect.stringContaining(`${path.join(root, '.data/c')}:2:1: invalid JSON`) }));
      expect((await readdir(root)).sort()).toEqual(['.data']);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  /** A target with an empty `files/` and an empty directory beside it, removed afterwards. */
  async function withTargetAndOutside(fn: (root: string, outside: string) => Promise<void>): Promise<void> {
    const base = await mkdtemp(path.join(os.tmpdir(), 'meph-mirror-confine-'));
    try {
      const root = path.join(base, 'target');
      const outside = path.join(base, 'outside');
      await mkdir(path.join(root, 'files'), { recursive: true });
      await mkdir(outside);
      await fn(root, outside);
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  }

  it('refuses to download through a version directory symlinked out of the target, writing nothing outside', async () => {
    await withTargetAndOutside(async (root, outside) => {
      await symlink(outside, path.join(root, 'files/2'));
      const src = doc({ '2': ['files/2/blob'] });
      await expect(
        mirrorDocuments(root, { contents: [{ doc: src, path: 'streams/v1/c.json', raw: '{}' }], locate: () => '/nonexistent' }, {}),
      ).rejects.toThrow(/files\/2/);
      expect(await readdir(outside)).toEqual([]);
      await expect(readdir(path.join(root, 'streams'))).rejects.toThrow();
    });
  });

  it('checks every path before writing anything and, of several unsafe ones, names the first in plan order (newest version first)', async () => {
    await withTargetAndOutside(async (root, outside) => {
      const versions = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [String(i).padStart(3, '0'), [`files/${String(i).padStart(3, '0')}/blob`]]));
      const src = doc(versions);
      // linked out: an old version (checked late in plan order) and a newer one
      await symlink(outside, path.join(root, 'files/003'));
      await symlink(outside, path.join(root, 'files/150'));
      await expect(
        mirrorDocuments(root, { contents: [{ doc: src, path: 'streams/v1/c.json', raw: '{}' }], locate: () => '/nonexistent' }, {}),
      ).rejects.toThrow(/"files\/150\/blob"/);
      expect(await readdir(outside)).toEqual([]);
      expect((await readdir(root)).sort()).toEqual(['files']);
    });
  });
});

describe('checkMirrorOptions', () => {
  it('refuses counts that are not whole numbers and --keep without --max, naming the flag (exit status 2)', () => {
    expect(() => checkMirrorOptions({ max: 0, jobs: 1, perHost: 1, keep: true })).not.toThrow();
    expect(() => checkMirrorOptions({})).not.toThrow();
    for (const [options, message] of [
      [{ max: -1 }, '--max must be a whole number >= 0, got -1'],
      [{ jobs: 0 }, '--jobs must be a whole number >= 1, got 0'],
      [{ perHost: 1.5 }, '--per-host must be a whole number >= 1, got 1.5'],
      [{ keep: true }, '--keep needs --max'],
    ] as const) {
      expect(() => checkMirrorOptions(options)).toThrow(expect.objectContaining({ name: 'MirrorOptionError', message, exitCode: 2 }));
    }
  });
});
