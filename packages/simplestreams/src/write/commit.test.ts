import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SHARED_DIR, useTempDir } from '@meph/test-support';
import { buildIndex, regenerateIndex } from './index-doc.js';
import { spawnSync } from 'node:child_process';
import { commitStreamUpdate, type DocumentSigner } from './commit.js';
import { listFiles, makeVersions, productsDoc, readAndCheckStream } from './__fixtures__/stream-builder.js';

const dir = useTempDir('meph-commit-');

describe('buildIndex / regenerateIndex', () => {
  it('regenerates the foocloud index with the same entries as the original producer (upstream §13 seed 7)', async () => {
    const src = path.join(SHARED_DIR, 'reference/streams/simplestreams-examples/foocloud');
    await fsp.cp(path.join(src, 'streams'), path.join(dir.path, 'streams'), { recursive: true });
    const original = JSON.parse(await fsp.readFile(path.join(src, 'streams/v1/index.json'), 'utf8'));
    const regenerated = await regenerateIndex(dir.path, { updated: 'Wed, 20 Mar 2013 17:56:57 +0000' });
    expect(regenerated).toEqual(original);
    expect(JSON.parse(await fsp.readFile(path.join(dir.path, 'streams/v1/index.json'), 'utf8'))).toEqual(original);
  });

  it('copies datatype/updated/format only when truthy, sorts products, skips indexes and files without content_id', () => {
    const idx = buildIndex(
      [
        { path: 'streams/v1/a.json', doc: { format: 'products:1.0', content_id: 'a', datatype: '', products: { z: { versions: {} }, b: { versions: {} } } } },
        { path: 'streams/v1/index.json', doc: { format: 'index:1.0', index: {} } as never },
        { path: 'streams/v1/x.json', doc: { format: 'products:1.0', products: {} } as never },
      ],
      { updated: 'U' },
    );
    expect(idx).toEqual({ format: 'index:1.0', updated: 'U', index: { a: { path: 'streams/v1/a.json', products: ['b', 'z'], format: 'products:1.0' } } });
    expect(() => buildIndex([{ path: '../a.json', doc: { format: 'products:1.0', content_id: 'a', products: {} } }])).toThrow(/unsafe path/);
  });

  it('fails on an unparsable products file instead of dropping it from the index', async () => {
    await fsp.mkdir(path.join(dir.path, 'streams/v1'), { recursive: true });
    await fsp.writeFile(path.join(dir.path, 'streams/v1/broken.json'), '{"format": ');
    await expect(regenerateIndex(dir.path)).rejects.toMatchObject({ name: 'ParseError' });
  });
});

describe('commitStreamUpdate', () => {
  const root = (): string => path.join(dir.path, 'stream');

  async function initial() {
    const v1 = await makeVersions(path.join(dir.path, 'src'), ['com.example:p1', 'com.example:p2'], ['20240101'], 1024);
    await commitStreamUpdate(root(), {
      data: v1.data,
      products: [
        { path: 'streams/v1/a.json', doc: productsDoc('com.example:a', v1.items) },
        { path: 'streams/v1/b.json', doc: productsDoc('com.example:b', { 'com.example:p1': v1.items['com.example:p1']! }) },
      ],
      index: 'regenerate',
    });
    return v1;
  }

  it('writes data, products and index; the result reads back and verifies; a rerun is idempotent', async () => {
    const v1 = await initial();
    const state = await readAndCheckStream(root());
    expect(Object.keys(state.index.index).sort()).toEqual(['com.example:a', 'com.example:b']);
    expect(state.index.index['com.example:a']!.products).toEqual(['com.example:p1', 'com.example:p2']);
    const events: string[] = [];
    const again = await commitStreamUpdate(root(), {
      data: v1.data,
      products: [{ path: 'streams/v1/a.json', doc: productsDoc('com.example:a', v1.items) }],
      index: 'regenerate',
      onEvent: (e) => events.push(e.type),
    });
    expect(again.copied).toEqual([]);
    expect(again.present).toHaveLength(v1.data.length);
    expect(events.filter((t) => t === 'data-present')).toHaveLength(4);
    expect((await listFiles(root())).filter((f) => f.includes('meph-tmp') || f.endsWith('.lock'))).toEqual([]);
  });

  it('removes products files after the index stops listing them, with their signed twins', async () => {
    await initial();
    await fsp.writeFile(path.join(root(), 'streams/v1/b.sjson'), 'signed');
    await fsp.writeFile(path.join(root(), 'streams/v1/b.json.gpg'), 'sig');
    const order: string[] = [];
    const res = await commitStreamUpdate(root(), { products: [], removeProducts: ['streams/v1/b.json'], index: 'regenerate', onEvent: (e) => order.push(e.type) });
    expect(order).toEqual(['index-written', 'products-removed']);
    expect(Object.keys(res.index!.index)).toEqual(['com.example:a']);
    expect((await fsp.readdir(path.join(root(), 'streams/v1'))).sort()).toEqual(['a.json', 'index.json']);
  });

  it('dry run reports the plan and changes nothing', async () => {
    await initial();
    const before = await listFiles(root());
    const beforeIndex = await fsp.readFile(path.join(root(), 'streams/v1/index.json'), 'utf8');
    const v2 = await makeVersions(path.join(dir.path, 'src2'), ['com.example:p3'], ['20240202'], 512);
    const res = await commitStreamUpdate(root(), {
      data: v2.data,
      products: [{ path: 'streams/v1/c.json', doc: productsDoc('com.example:c', v2.items) }],
      removeProducts: ['streams/v1/b.json'],
      index: 'regenerate',
      dryRun: true,
    });
    expect(res.copied.sort()).toEqual(v2.data.map((d) => d.to).sort());
    expect(Object.keys(res.index!.index).sort()).toEqual(['com.example:a', 'com.example:c']);
    expect(res.productsRemoved).toEqual(['streams/v1/b.json']);
    expect(await listFiles(root())).toEqual(before);
    expect(await fsp.readFile(path.join(root(), 'streams/v1/index.json'), 'utf8')).toBe(beforeIndex);
  });

  it('refuses unsafe paths, wrong formats and a corrupt data file before metadata is touched', async () => {
    await initial();
    const before = await fsp.readFile(path.join(root(), 'streams/v1/a.json'), 'utf8');
    const v2 = await makeVersions(path.join(dir.path, 'src2'), ['com.example:p1'], ['20240303'], 256);
    const doc = productsDoc('com.example:a', v2.items);
    await expect(commitStreamUpdate(root(), { data: [{ ...v2.data[0]!, to: '../escape' }], products: [], index: false })).rejects.toMatchObject({ name: 'UnsafePathError' });
    await expect(commitStreamUpdate(root(), { products: [{ path: 'streams/v1/a.json', doc: { ...doc, format: 'index:1.0' as never } }], index: false })).rejects.toMatchObject({ name: 'FormatError' });
    await fsp.writeFile(v2.data[1]!.from as string, 'corrupted');
    // with several copies in flight, the failure is reported only once all of them have settled
    await expect(commitStreamUpdate(root(), { data: v2.data, products: [], index: false, concurrency: 2 })).rejects.toMatchObject({ name: 'SizeMismatchError' });
    expect(await fsp.readdir(dir.path)).toContain('stream');
    expect((await listFiles(root())).filter((f) => f.includes('meph-tmp') || f.endsWith('.lock'))).toEqual([]);
    await expect(commitStreamUpdate(root(), { data: v2.data, products: [{ path: 'streams/v1/a.json', doc }], index: 'regenerate' })).rejects.toMatchObject({ name: 'SizeMismatchError' });
    expect(await fsp.readFile(path.join(root(), 'streams/v1/a.json'), 'utf8')).toBe(before);
    await readAndCheckStream(root());
  });

  it('refuses to overwrite a published data file whose content differs', async () => {
    const v1 = await initial();
    const first = v1.data[0]!;
    await expect(commitStreamUpdate(root(), { data: [{ ...first, expected: { ...first.expected, sha256: '0'.repeat(64) } }], products: [], index: false })).rejects.toMatchObject({
      name: 'ChecksumMismatchError',
    });
  });

  /** Signs by wrapping the text (enough to see which content each twin was made from). */
  const wrapSigner = (failOn?: string): DocumentSigner => ({
    async signDocument(rel, text) {
      if (failOn && rel === failOn) throw new Error(`cannot sign ${rel}`);
      return { clearsigned: `SIGNED ${rel}\n${text}`, detached: `DETACHED ${text.length}` };
    },
  });

  it('with a signer, each document lands with its .sjson and .json.gpg; a signing failure changes no file', async () => {
    const v1 = await initial();
    const v2 = await makeVersions(path.join(dir.path, 'src2'), ['com.example:p1'], ['20240303'], 256);
    const before = await fsp.readFile(path.join(root(), 'streams/v1/a.json'), 'utf8');
    const beforeIndex = await fsp.readFile(path.join(root(), 'streams/v1/index.json'), 'utf8');
    const doc = productsDoc('com.example:a', { ...v1.items, ...v2.items });
    // the index is signed after the products file was: nothing may have moved when it fails
    await expect(
      commitStreamUpdate(root(), { data: v2.data, products: [{ path: 'streams/v1/a.json', doc }], index: 'regenerate', signer: wrapSigner('streams/v1/index.json') }),
    ).rejects.toThrow(/cannot sign streams\/v1\/index.json/);
    expect(await fsp.readFile(path.join(root(), 'streams/v1/a.json'), 'utf8')).toBe(before);
    expect(await fsp.readFile(path.join(root(), 'streams/v1/index.json'), 'utf8')).toBe(beforeIndex);
    expect((await fsp.readdir(path.join(root(), 'streams/v1'))).sort()).toEqual(['a.json', 'b.json', 'index.json']);

    await commitStreamUpdate(root(), { data: v2.data, products: [{ path: 'streams/v1/a.json', doc }], index: 'regenerate', signer: wrapSigner() });
    const v1dir = path.join(root(), 'streams/v1');
    expect((await fsp.readdir(v1dir)).sort()).toEqual(['a.json', 'a.json.gpg', 'a.sjson', 'b.json', 'index.json', 'index.json.gpg', 'index.sjson']);
    for (const name of ['a', 'index']) {
      const text = await fsp.readFile(path.join(v1dir, `${name}.json`), 'utf8');
      expect(await fsp.readFile(path.join(v1dir, `${name}.sjson`), 'utf8')).toBe(`SIGNED streams/v1/${name}.json\n${text}`);
      expect(await fsp.readFile(path.join(v1dir, `${name}.json.gpg`), 'utf8')).toBe(`DETACHED ${text.length}`);
    }
  });

  it('the next writer completes a metadata commit a dead writer left half-renamed (its journal)', async () => {
    await initial();
    const v1dir = path.join(root(), 'streams/v1');
    // a writer that died between renaming a.json.gpg and a.sjson: its temps and journal remain
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    const temp = (name: string) => `.${name}.${dead}.0123abcd.meph-tmp`;
    await fsp.writeFile(path.join(v1dir, 'a.json.gpg'), 'new gpg');
    await fsp.writeFile(path.join(v1dir, temp('a.sjson')), 'new sjson');
    await fsp.writeFile(path.join(v1dir, temp('a.json')), 'new json');
    const journal = { renames: [[temp('a.json.gpg'), 'a.json.gpg'], [temp('a.sjson'), 'a.sjson'], [temp('a.json'), 'a.json']] };
    await fsp.writeFile(path.join(v1dir, `.meph-commit.${dead}.89abcdef.meph-journal`), JSON.stringify(journal));
    // and a stray temp of its that no journal names: removed
    await fsp.writeFile(path.join(v1dir, temp('b.json')), 'half written');

    await commitStreamUpdate(root(), { products: [], index: false });
    expect((await fsp.readdir(v1dir)).sort()).toEqual(['a.json', 'a.json.gpg', 'a.sjson', 'b.json', 'index.json']);
    expect(await fsp.readFile(path.join(v1dir, 'a.json'), 'utf8')).toBe('new json');
    expect(await fsp.readFile(path.join(v1dir, 'a.sjson'), 'utf8')).toBe('new sjson');
    expect(await fsp.readFile(path.join(v1dir, 'a.json.gpg'), 'utf8')).toBe('new gpg');
  });

  it('hard-links data files from a source on the same filesystem, verified like a copy', async () => {
    const v1 = await makeVersions(path.join(dir.path, 'src'), ['com.example:p1'], ['20240101'], 1024);
    const how: string[] = [];
    await commitStreamUpdate(root(), {
      data: v1.data,
      products: [{ path: 'streams/v1/a.json', doc: productsDoc('com.example:a', v1.items) }],
      index: 'regenerate',
      onEvent: (e) => void (e.type === 'data-copied' && how.push(e.placedBy ?? '')),
    });
    expect(how).toEqual(v1.data.map(() => 'link'));
    for (const d of v1.data) expect((await fsp.stat(path.join(root(), d.to))).ino).toBe((await fsp.stat(d.from as string)).ino);
    // a corrupt source is refused even when linking (the linked file is hashed)
    const v2 = await makeVersions(path.join(dir.path, 'src2'), ['com.example:p1'], ['20240202'], 1024);
    await fsp.rm(v2.data[0]!.from as string);
    await fsp.writeFile(v2.data[0]!.from as string, 'x'.repeat(1024));
    await expect(commitStreamUpdate(root(), { data: v2.data, products: [], index: false })).rejects.toMatchObject({ name: /SizeMismatchError|ChecksumMismatchError/ });
    await expect(fsp.stat(path.join(root(), v2.data[0]!.to))).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await listFiles(root())).filter((f) => f.includes('meph-tmp'))).toEqual([]);
  });
});
