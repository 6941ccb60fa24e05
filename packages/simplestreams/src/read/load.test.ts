import { cp, mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHARED_DIR } from '@meph/test-support';
import { FormatError, HttpError, MissingFileError, UnsafePathError } from '../errors.js';
import { loadStream } from './load.js';
import { resolveStreamLocation, splitMirrorUrl } from './location.js';
import { startStaticServer, type StaticServer } from './__fixtures__/static-server.js';

const STREAMS = path.join(SHARED_DIR, 'reference/streams');
const FOOCLOUD = path.join(STREAMS, 'simplestreams-examples/foocloud');

describe('locations', () => {
  it('splits like the reference client', () => {
    expect(splitMirrorUrl('./streams/v1/index.json')).toEqual({ root: './', path: 'streams/v1/index.json', isUrl: false });
    expect(splitMirrorUrl('https://h/x/streams/v1/a:b.sjson')).toEqual({ root: 'https://h/x/', path: 'streams/v1/a:b.sjson', isUrl: true });
    expect(splitMirrorUrl('https://h/x')).toEqual({ root: 'https://h/x/', path: undefined, isUrl: true });
    expect(splitMirrorUrl('./', 'products.json')).toEqual({ root: './', path: 'products.json', isUrl: false });
  });

  it('treats a lone products file as its own mirror root', async () => {
    expect(await resolveStreamLocation('maas-sitemanager-fixture/ss_product_noble.json', { cwd: STREAMS })).toEqual({
      root: 'maas-sitemanager-fixture/',
      path: 'ss_product_noble.json',
      isUrl: false,
    });
    expect(await resolveStreamLocation('http://h/dir/products.json')).toMatchObject({ root: 'http://h/dir/', path: 'products.json' });
    expect(await resolveStreamLocation('maas-sitemanager-fixture', { cwd: STREAMS })).toMatchObject({ root: 'maas-sitemanager-fixture/', path: undefined });
  });
});

describe('loadStream', () => {
  it('loads a mirror root: the index and its products files in index order', async () => {
    const stream = await loadStream(FOOCLOUD);
    expect(stream.indexPath).toBe('streams/v1/index.json');
    expect(stream.products.map((p) => [p.path, p.doc.content_id])).toEqual([
      ['streams/v1/com.example.foovendor:released:aws.json', 'com.example.foovendor:released:aws'],
      ['streams/v1/com.example.foovendor:released:download.json', 'com.example.foovendor:released:download'],
    ]);
  });

  it('loads an index path, a single products file and --path', async () => {
    expect((await loadStream('./streams/v1/index.json', { cwd: FOOCLOUD })).source.root).toBe('./');
    const single = await loadStream('../shared/reference/streams/maas-sitemanager-fixture/ss_product_noble.json', { cwd: path.resolve(SHARED_DIR, '../main') });
    expect(single.index).toBeUndefined();
    expect(single.products).toHaveLength(1);
    expect(single.source.url('noble/x')).toBe('../shared/reference/streams/maas-sitemanager-fixture/noble/x');
    const viaPath = await loadStream('./', { path: 'products.json', cwd: path.join(STREAMS, 'go-simplestreams-testdata/lxd') });
    expect(viaPath.products[0]?.doc.products).toHaveProperty(['debian:bookworm:amd64:default']);
  });

  describe('over HTTP', () => {
    let server: StaticServer;
    beforeAll(async () => {
      server = await startStaticServer(STREAMS);
    });
    afterAll(() => server.close());

    it('reads the same documents as from disk', async () => {
      const local = await loadStream(FOOCLOUD);
      const remote = await loadStream(`${server.url}simplestreams-examples/foocloud/streams/v1/index.json`);
      expect(remote.source.root).toBe(`${server.url}simplestreams-examples/foocloud/`);
      expect(remote.products.map((p) => p.doc)).toEqual(local.products.map((p) => p.doc));
    });

    it('fails on a 404 products file naming the URL and the index', async () => {
      const err = await loadStream(`${server.url}go-simplestreams-testdata/minimal/`, { path: 'index.json' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(HttpError);
      expect((err as Error).message).toBe(
        `${server.url}go-simplestreams-testdata/minimal/streams/v1/com.example:released:download.json: HTTP 404 Not Found (referenced by ${server.url}go-simplestreams-testdata/minimal/index.json)`,
      );
    });
  });

  describe('bad mirrors', () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), 'meph-load-'));
    });
    afterAll(() => rm(dir, { recursive: true, force: true }));

    async function mirror(name: string, index: unknown, files: Record<string, unknown> = {}): Promise<string> {
      const root = path.join(dir, name);
      await mkdir(path.join(root, 'streams/v1'), { recursive: true });
      await writeFile(path.join(root, 'streams/v1/index.json'), JSON.stringify(index));
      for (const [rel, value] of Object.entries(files)) await writeFile(path.join(root, rel), typeof value === 'string' ? value : JSON.stringify(value));
      return root;
    }
    const products = (paths: string[]) => ({
      format: 'products:1.0',
      content_id: 'c',
      products: { p: { versions: { v: { items: Object.fromEntries(paths.map((p, i) => [`i${i}`, { path: p }])) } } } },
    });

    it('names the missing products file and the index that lists it', async () => {
      const root = path.join(dir, 'minimal');
      await cp(path.join(STREAMS, 'simplestreams-examples/minimal'), root, { recursive: true });
      await rm(path.join(root, 'streams/v1/download.json'));
      const err = await loadStream('./streams/v1/index.json', { cwd: root }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MissingFileError);
      expect((err as Error).message).toBe('./streams/v1/download.json: no such file (referenced by ./streams/v1/index.json)');
    });

    it('refuses a traversal path in the index before reading any entry', async () => {
      await writeFile(path.join(dir, 'secret.json'), JSON.stringify(products([])));
      const root = await mirror('trav-index', {
        format: 'index:1.0',
        index: { good: { format: 'products:1.0', path: 'streams/v1/good.json' }, evil: { format: 'products:1.0', path: '../secret.json' } },
      });
      const err = await loadStream(root).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UnsafePathError);
      expect((err as Error).message).toBe(`${root}/streams/v1/index.json: refusing unsafe path "../secret.json": contains a ".." segment`);
    });

    it('refuses a traversal item path', async () => {
      const root = await mirror('trav-item', { format: 'index:1.0', index: { c: { format: 'products:1.0', path: 'streams/v1/c.json' } } }, {
        'streams/v1/c.json': products(['ok/file', 'ok/../../../etc/passwd']),
      });
      await expect(loadStream(root)).rejects.toThrow(/streams\/v1\/c.json: refusing unsafe path "ok\/..\/..\/..\/etc\/passwd"/);
    });

    it('follows nested indexes, skips unreadable entries and detects loops', async () => {
      const events: unknown[] = [];
      const root = await mirror(
        'nested',
        { format: 'index:1.0', index: { sub: { format: 'index:1.0', path: 'streams/v1/sub.json' }, ids: { format: 'mirrors:1.0', path: 'streams/v1/m.json' } } },
        { 'streams/v1/sub.json': { format: 'index:1.0', index: { c: { format: 'products:1.0', path: 'streams/v1/c.json' } } }, 'streams/v1/c.json': products(['a']) },
      );
      const stream = await loadStream(root, { onEvent: (e) => events.push(e) });
      expect(stream.products.map((p) => p.path)).toEqual(['streams/v1/c.json']);
      expect(events).toEqual([{ type: 'index-entry-skipped', contentId: 'ids', reason: 'format "mirrors:1.0"' }]);
      const loop = await mirror('loop', { format: 'index:1.0', index: { me: { format: 'index:1.0', path: 'streams/v1/index.json' } } });
      await expect(loadStream(loop)).rejects.toThrow(FormatError);
    });

    it('gives a parse error with file and position for a truncated products file', async () => {
      const text = await readFile(path.join(STREAMS, 'simplestreams-examples/minimal/streams/v1/download.json'), 'utf8');
      const root = await mirror('truncated', { format: 'index:1.0', index: { c: { format: 'products:1.0', path: 'streams/v1/c.json' } } }, { 'streams/v1/c.json': text.slice(0, 200) });
      await expect(loadStream(root)).rejects.toThrow(new RegExp(`^${root}/streams/v1/c.json:\\d+:\\d+: invalid JSON: unexpected end of input`));
    });
  });
});
