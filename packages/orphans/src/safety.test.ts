// Issue 9 §1 and §3: pool layouts, the shared orphans file format, another data directory,
// stream metadata inside the pool. Each case loses files on the code before the fix.
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTempDir } from '@meph/test-support';
import { formatUpdated, regenerateIndex, writeJsonAtomic, type ProductsDocument } from '@meph/simplestreams';
import { DataDirMismatchError, LayoutError, OrphansFileMissingError } from './errors.js';
import { findOrphans, type OrphanEvent } from './find.js';
import { LEGACY_STREAMS_KEY, readOrphansFile, sidecarPath } from './orphans-file.js';
import { reapOrphans } from './reap.js';
import { isNotData } from './walk.js';

const work = useTempDir('meph-orphans-safety-');

const T0 = new Date(Date.UTC(2026, 0, 10, 12, 0, 0));
const OLD = 'Mon, 01 Jan 2024 00:00:00 +0000';

async function put(rel: string, body = rel): Promise<void> {
  const f = path.join(work.path, rel);
  await fsp.mkdir(path.dirname(f), { recursive: true });
  await fsp.writeFile(f, body);
}

async function writeStream(root: string, paths: string[]): Promise<void> {
  const items: Record<string, { ftype: string; path: string; size: number; sha256: string }> = {};
  paths.forEach((p, i) => (items[`i${i}`] = { ftype: 'squashfs', path: p, size: 1, sha256: createHash('sha256').update(p).digest('hex') }));
  const doc: ProductsDocument = { format: 'products:1.0', content_id: 'com.example:s', products: { p: { versions: { v1: { items } } } } };
  await writeJsonAtomic(path.join(root, 'streams/v1/products.json'), doc);
  await regenerateIndex(root);
}

const exists = (rel: string) => fsp.lstat(path.join(work.path, rel)).then(() => true, () => false);

describe('pool layouts', () => {
  it("a pool whose item paths are relative to it while the stream lives elsewhere (the original's layout)", async () => {
    const used = Array.from({ length: 12 }, (_, i) => `noble/amd64/2026010${i % 10}/f${i}`);
    for (const p of used) await put(`pool/${p}`);
    await put('pool/stale/one');
    await writeStream(path.join(work.path, 'st'), used); // the stream is elsewhere: st/streams/v1
    const orphansFile = path.join(work.path, 'o.json');
    const events: OrphanEvent[] = [];
    const res = await findOrphans({ orphansFile, dataDir: path.join(work.path, 'pool'), streams: [path.join(work.path, 'st/streams/v1/index.json')], now: T0, onEvent: (e) => events.push(e) });
    expect([...res.file.entries.keys()]).toEqual(['stale/one']);
    expect({ referenced: res.referenced, present: res.present, missing: res.missing }).toEqual({ referenced: 12, present: 12, missing: 0 });
    expect(events.find((e) => e.type === 'orphan-references')).toMatchObject({ referenced: 12, present: 12, missing: 0 });
    const reaped = await reapOrphans({ orphansFile, dataDir: path.join(work.path, 'pool'), all: true });
    expect(reaped.reaped.map((r) => r.path)).toEqual(['stale/one']);
    for (const p of used) expect(await exists(`pool/${p}`)).toBe(true);
  });

  it("the README's layout: paths relative to the mirror root, reached through daily/data -> ../data", async () => {
    for (const f of ['trusty/a', 'utopic/b', 'stale/x']) await put(`data/${f}`);
    await writeStream(path.join(work.path, 'daily'), ['data/trusty/a', 'data/utopic/b']);
    await fsp.symlink('../data', path.join(work.path, 'daily/data'));
    const res = await findOrphans({ orphansFile: '-', dataDir: path.join(work.path, 'data'), streams: [path.join(work.path, 'daily/streams/v1/index.json')] });
    expect([...res.file.entries.keys()]).toEqual(['stale/x']);
    expect(res.present).toBe(2);
  });

  it('refuses (nothing written) when most paths of a stream name no file under DATA_DIR; --force overrides', async () => {
    for (const f of ['a', 'b', 'c']) await put(`pool/${f}`);
    await put('elsewhere/x');
    await writeStream(path.join(work.path, 'st'), ['a', 'other/1', 'other/2', 'other/3']); // 1 of 4 present
    const orphansFile = path.join(work.path, 'o.json');
    const args = { orphansFile, dataDir: path.join(work.path, 'pool'), streams: [path.join(work.path, 'st')] };
    const err = await findOrphans(args).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LayoutError);
    expect((err as Error).message).toMatch(/only 1 of the 4 paths .*st.* references exist under .*pool/);
    expect((err as Error).message).not.toContain('\n');
    expect(await exists('o.json')).toBe(false);
    expect(await exists(`o.json.meph.json`)).toBe(false);

    const forced = await findOrphans({ ...args, force: true, now: T0 });
    expect([...forced.file.entries.keys()].sort()).toEqual(['b', 'c']);
    expect({ present: forced.present, missing: forced.missing }).toEqual({ present: 1, missing: 3 });
    // the reap's re-check refuses the same way, deleting nothing
    await expect(reapOrphans({ orphansFile, dataDir: path.join(work.path, 'pool'), all: true })).rejects.toBeInstanceOf(LayoutError);
    expect(await exists('pool/b')).toBe(true);
    expect((await reapOrphans({ orphansFile, dataDir: path.join(work.path, 'pool'), all: true, force: true })).reaped).toHaveLength(2);
  });
});

describe('the orphans file shared with the original', () => {
  it("is exactly path → timestamp; an old meph file's \"/meph:streams\" is read, never reaped, and dropped on rewrite", async () => {
    await put('m/a');
    await put('m/b');
    await writeStream(path.join(work.path, 'm'), ['a']);
    const orphansFile = path.join(work.path, 'old.json');
    await fsp.writeFile(orphansFile, JSON.stringify({ b: OLD, [LEGACY_STREAMS_KEY]: [path.join(work.path, 'm')] }, null, 1));
    expect((await readOrphansFile(orphansFile)).streams).toEqual([path.join(work.path, 'm')]);
    const res = await reapOrphans({ orphansFile, dataDir: path.join(work.path, 'm'), all: true });
    expect(res.reaped.map((r) => r.path)).toEqual(['b']);
    expect(res.refused).toEqual([]);
    expect(await fsp.readFile(orphansFile, 'utf8')).toBe('{}\n');
    expect(JSON.parse(await fsp.readFile(sidecarPath(orphansFile), 'utf8'))).toMatchObject({ dataDir: await fsp.realpath(path.join(work.path, 'm')) });
  });

  it('reap with a missing orphans file fails and creates nothing', async () => {
    await put('m/a');
    await writeStream(path.join(work.path, 'm'), ['a']);
    await expect(reapOrphans({ orphansFile: path.join(work.path, 'typo.json'), dataDir: path.join(work.path, 'm'), all: true })).rejects.toBeInstanceOf(OrphansFileMissingError);
    expect(await exists('typo.json')).toBe(false);
  });
});

describe('another data directory', () => {
  // two mirrors of the same layout: daily lost versions (clean-md), stable still has them
  async function twoMirrors(): Promise<void> {
    for (const m of ['daily', 'stable']) for (const v of ['1', '2', '3']) await put(`${m}/noble/${v}/squashfs`);
    await writeStream(path.join(work.path, 'daily'), ['noble/3/squashfs']);
    await writeStream(path.join(work.path, 'stable'), ['noble/1/squashfs', 'noble/2/squashfs', 'noble/3/squashfs']);
  }

  it("refuses to reap another data directory than find-orphans' (recorded in the sidecar)", async () => {
    await twoMirrors();
    const orphansFile = path.join(work.path, 'my-orphans.json');
    await findOrphans({ orphansFile, dataDir: path.join(work.path, 'daily'), now: T0 });
    const err = await reapOrphans({ orphansFile, dataDir: path.join(work.path, 'stable'), all: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataDirMismatchError);
    expect((err as Error).message).toContain(path.join(work.path, 'daily'));
    for (const v of ['1', '2', '3']) expect(await exists(`stable/noble/${v}/squashfs`)).toBe(true);
    // find-orphans refuses to mix them up too (timestamps of one pool are not the other's)
    await expect(findOrphans({ orphansFile, dataDir: path.join(work.path, 'stable') })).rejects.toBeInstanceOf(DataDirMismatchError);
  });

  it("without a sidecar (the original's file), re-checks the stream found inside DATA_DIR", async () => {
    await twoMirrors();
    const orphansFile = path.join(work.path, 'orig.json');
    await fsp.writeFile(orphansFile, JSON.stringify({ 'noble/1/squashfs': OLD, 'noble/2/squashfs': OLD }));
    // streams named on the command line do not replace the one DATA_DIR holds
    const res = await reapOrphans({ orphansFile, dataDir: path.join(work.path, 'stable'), streams: [path.join(work.path, 'daily')], all: true });
    expect(res.reaped).toEqual([]);
    expect(res.referencedAgain).toEqual(['noble/1/squashfs', 'noble/2/squashfs']);
    for (const v of ['1', '2', '3']) expect(await exists(`stable/noble/${v}/squashfs`)).toBe(true);
  });
});

describe('stream metadata is never data', () => {
  it('a stream nested in the pool keeps its metadata and its files; entries naming metadata are refused', async () => {
    await put('pool/shared/a');
    await put('pool/daily.d/noble/k');
    await put('pool/daily.d/noble/old');
    await put('pool/gone/z');
    await writeStream(path.join(work.path, 'pool/daily.d'), ['noble/k']);
    // an (unsigned) twin: read like every document present, never listed as data
    await fsp.copyFile(path.join(work.path, 'pool/daily.d/streams/v1/products.json'), path.join(work.path, 'pool/daily.d/streams/v1/products.sjson'));
    await put('pool/daily.d/.meph-stream.lock', '');
    await put('pool/keys/archive.gpg');
    await writeStream(path.join(work.path, 'meta'), ['shared/a']);
    const orphansFile = path.join(work.path, 'o.json');
    const res = await findOrphans({ orphansFile, dataDir: path.join(work.path, 'pool'), streams: [path.join(work.path, 'meta')], now: T0 });
    expect([...res.file.entries.keys()].sort()).toEqual(['daily.d/noble/old', 'gone/z']);
    expect(res.streams).toContain(await fsp.realpath(path.join(work.path, 'pool/daily.d')));

    const file = JSON.parse(await fsp.readFile(orphansFile, 'utf8'));
    for (const p of ['daily.d/streams/v1/index.json', 'daily.d/streams/v1/products.json', 'daily.d/streams/v1/products.sjson', 'streams/v1/index.json', 'daily.d/.meph-stream.lock', 'keys/archive.gpg'])
      file[p] = OLD;
    await fsp.writeFile(orphansFile, JSON.stringify(file));
    const reap = await reapOrphans({ orphansFile, dataDir: path.join(work.path, 'pool'), all: true });
    expect(reap.reaped.map((r) => r.path).sort()).toEqual(['daily.d/noble/old', 'gone/z']);
    expect(reap.refused).toHaveLength(6);
    for (const p of ['daily.d/streams/v1/index.json', 'daily.d/streams/v1/products.json', 'daily.d/streams/v1/products.sjson', 'daily.d/noble/k', 'keys/archive.gpg'])
      expect(await exists(`pool/${p}`), p).toBe(true);
  });

  it('isNotData: metadata, signatures and locks anywhere; data elsewhere', () => {
    for (const p of ['streams/x', '.data/y', '.meph-stream.lock', 'a/streams/v1/i.json', 'a/b.sjson', 'k.gpg', 'a/.meph-stream.lock']) expect(isNotData(p), p).toBe(true);
    for (const p of ['noble/squashfs', 'a/streams/data', 'streamsx/y', 'a/v1/b.json']) expect(isNotData(p), p).toBe(false);
  });
});

it('formats the first-seen time as the original does', () => {
  expect(formatUpdated(T0)).toBe('Sat, 10 Jan 2026 12:00:00 +0000');
});
