import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTempDir } from '@meph/test-support';
import { formatUpdated, regenerateIndex, writeJsonAtomic, type ProductsDocument } from '@meph/simplestreams';
import { parseDuration } from './duration.js';
import { DataDirMismatchError, DurationError, NoReferencesError, NoStreamsError, OrphansFileError } from './errors.js';
import { findOrphans, type OrphanEvent } from './find.js';
import { readOrphansFile, sidecarPath, SIDECAR_FORMAT } from './orphans-file.js';
import { reapOrphans } from './reap.js';
import { parseRfc2822 } from './timestamp.js';

const work = useTempDir('meph-orphans-');

const DAY = 86_400_000;
const T0 = new Date(Date.UTC(2026, 0, 10, 12, 0, 0));

async function put(rel: string, body = rel): Promise<void> {
  const f = path.join(work.path, rel);
  await fsp.mkdir(path.dirname(f), { recursive: true });
  await fsp.writeFile(f, body);
}

/** A stream at `work/<name>` whose items reference `paths` (relative to that stream root). */
async function writeStream(name: string, paths: string[]): Promise<string> {
  const root = path.join(work.path, name);
  const items: Record<string, { ftype: string; path: string; size: number; sha256: string }> = {};
  paths.forEach((p, i) => (items[`i${i}`] = { ftype: 'squashfs', path: p, size: 1, sha256: createHash('sha256').update(p).digest('hex') }));
  const doc: ProductsDocument = { format: 'products:1.0', content_id: `com.example:${name}`, products: paths.length ? { p: { versions: { v1: { items } } } } : {} };
  await writeJsonAtomic(path.join(root, 'streams/v1/products.json'), doc);
  await regenerateIndex(root);
  return root;
}

/** The README's pool layout: daily/ and released/ each with `data -> ../data`. */
async function pool(): Promise<{ dataDir: string; streams: string[] }> {
  for (const f of ['trusty/a', 'trusty/b', 'utopic/c', 'utopic/deep/d', 'utopic/deep/e', 'stale/x']) await put(`data/${f}`);
  const daily = await writeStream('daily', ['data/trusty/a', 'data/utopic/c']);
  const released = await writeStream('released', ['data/trusty/b']);
  await fsp.symlink('../data', path.join(daily, 'data'));
  await fsp.symlink('../data', path.join(released, 'data'));
  return { dataDir: path.join(work.path, 'data'), streams: [path.join(daily, 'streams/v1/index.json'), path.join(released, 'streams/v1/index.json')] };
}

describe('findOrphans', () => {
  it('finds unreferenced files of a pool shared by several streams and records the streams', async () => {
    const { dataDir, streams } = await pool();
    const orphansFile = path.join(work.path, 'orphans.json');
    const events: OrphanEvent[] = [];
    const res = await findOrphans({ orphansFile, dataDir, streams, now: T0, onEvent: (e) => events.push(e) });
    expect([...res.file.entries.keys()].sort()).toEqual(['stale/x', 'utopic/deep/d', 'utopic/deep/e']);
    const onDisk = JSON.parse(await fsp.readFile(orphansFile, 'utf8'));
    // exactly the original's format; what it has no room for goes to the sidecar
    expect(onDisk).toEqual({ 'stale/x': formatUpdated(T0), 'utopic/deep/d': formatUpdated(T0), 'utopic/deep/e': formatUpdated(T0) });
    expect(JSON.parse(await fsp.readFile(sidecarPath(orphansFile), 'utf8'))).toEqual({ format: SIDECAR_FORMAT, dataDir: await fsp.realpath(dataDir), streams });
    expect(events.filter((e) => e.type === 'orphan-found')).toHaveLength(3);
    expect(res.referenced).toBe(3);
  });

  it('keeps first-seen timestamps across runs and drops entries referenced again or gone', async () => {
    const { dataDir, streams } = await pool();
    const orphansFile = path.join(work.path, 'orphans.json');
    await findOrphans({ orphansFile, dataDir, streams, now: T0 });
    await put('data/new/y');
    await writeStream('released', ['data/trusty/b', 'data/utopic/deep/d']); // d referenced again
    await fsp.rm(path.join(dataDir, 'stale/x')); // x gone
    const later = new Date(T0.getTime() + 2 * DAY);
    const events: OrphanEvent[] = [];
    const res = await findOrphans({ orphansFile, dataDir, streams, now: later, onEvent: (e) => events.push(e) });
    expect(Object.fromEntries(res.file.entries)).toEqual({ 'utopic/deep/e': formatUpdated(T0), 'new/y': formatUpdated(later) });
    expect(res.added).toEqual(['new/y']);
    expect(res.dropped.sort()).toEqual(['stale/x', 'utopic/deep/d']);
    expect(events).toContainEqual({ type: 'orphan-dropped', path: 'utopic/deep/d', reason: 'referenced' });
    expect(events).toContainEqual({ type: 'orphan-dropped', path: 'stale/x', reason: 'gone' });
  });

  it('uses the data directory as the stream when none is given, skipping streams/ and the lock', async () => {
    await put('mirror/a/file');
    await put('mirror/b/orphan');
    const root = await writeStream('mirror', ['a/file']);
    const res = await findOrphans({ orphansFile: '-', dataDir: root, now: T0 });
    expect([...res.file.entries.keys()]).toEqual(['b/orphan']);
    expect(JSON.parse(res.text)).toEqual({ 'b/orphan': formatUpdated(T0) });
    expect(res.streams).toEqual([await fsp.realpath(root)]);
    await expect(fsp.access(path.join(work.path, '-'))).rejects.toThrow();
    await expect(findOrphans({ orphansFile: '-', dataDir: path.join(work.path, 'mirror/a') })).rejects.toBeInstanceOf(NoStreamsError);
  });

  it('refuses streams that reference nothing, a wrong stream path and a corrupt orphans file', async () => {
    await put('data/a');
    const empty = await writeStream('empty', []);
    await expect(findOrphans({ orphansFile: '-', dataDir: path.join(work.path, 'data'), streams: [empty] })).rejects.toBeInstanceOf(NoReferencesError);
    await expect(findOrphans({ orphansFile: '-', dataDir: path.join(work.path, 'data'), streams: [path.join(work.path, 'typo')] })).rejects.toMatchObject({ name: 'MissingFileError' });
    const stream = await writeStream('s', ['x']);
    await expect(findOrphans({ orphansFile: '-', dataDir: path.join(work.path, 'no-such-dir'), streams: [stream] })).rejects.toMatchObject({ name: 'OrphansIoError', message: expect.stringContaining('no-such-dir') });
    await fsp.writeFile(path.join(work.path, 'bad.json'), '{"a": 3');
    await expect(readOrphansFile(path.join(work.path, 'bad.json'))).rejects.toBeInstanceOf(OrphansFileError);
    await fsp.writeFile(path.join(work.path, 'bad2.json'), '{"a": "yesterday"}');
    await expect(readOrphansFile(path.join(work.path, 'bad2.json'))).rejects.toThrow(/RFC 2822/);
  });
});

describe('reapOrphans', () => {
  async function found(now = T0) {
    const p = await pool();
    const orphansFile = path.join(work.path, 'orphans.json');
    await findOrphans({ orphansFile, dataDir: p.dataDir, streams: p.streams, now });
    return { ...p, orphansFile };
  }

  it('--older 3d deletes only entries older than the grace period; -n deletes nothing', async () => {
    const { dataDir, orphansFile } = await found();
    await put('data/late/z');
    await findOrphans({ orphansFile, dataDir, now: new Date(T0.getTime() + 2 * DAY) });
    const before = await fsp.readFile(orphansFile, 'utf8');
    const now = new Date(T0.getTime() + 3 * DAY + 1000);

    const dry = await reapOrphans({ orphansFile, dataDir, olderThanMs: parseDuration('3d'), dryRun: true, now });
    expect(dry.reaped.map((r) => r.path)).toEqual(['stale/x', 'utopic/deep/d', 'utopic/deep/e']);
    expect(await fsp.readFile(orphansFile, 'utf8')).toBe(before);
    await fsp.access(path.join(dataDir, 'stale/x'));

    const events: OrphanEvent[] = [];
    const res = await reapOrphans({ orphansFile, dataDir, olderThanMs: parseDuration('3d'), now, onEvent: (e) => events.push(e) });
    expect(res.reaped.map((r) => r.path)).toEqual(['stale/x', 'utopic/deep/d', 'utopic/deep/e']);
    expect(res.bytes).toBe('data/stale/x'.length + 'data/utopic/deep/d'.length + 'data/utopic/deep/e'.length); // each file holds its own path
    expect(res.kept).toEqual(['late/z']);
    expect(events.filter((e) => e.type === 'orphan-reaped')).toHaveLength(3);
    // emptied directories are gone, the data directory and non-empty ones stay
    expect((await fsp.readdir(dataDir)).sort()).toEqual(['late', 'trusty', 'utopic']);
    expect(await fsp.readdir(path.join(dataDir, 'utopic'))).toEqual(['c']);
    const left = await readOrphansFile(orphansFile);
    expect([...left.entries.keys()]).toEqual(['late/z']);
    expect(left.streams).toHaveLength(2);
  });

  it('--now reaps everything and never removes the data directory itself', async () => {
    const s = await writeStream('st', ['kept']);
    await put('st/kept');
    await put('st/one/two/orphan');
    const orphansFile = path.join(work.path, 'o.json');
    await findOrphans({ orphansFile, dataDir: s, now: new Date() });
    const res = await reapOrphans({ orphansFile, dataDir: s, all: true });
    expect(res.reaped.map((r) => r.path)).toEqual(['one/two/orphan']);
    expect((await fsp.readdir(s)).sort()).toEqual(['kept', 'streams']);
  });

  it('re-checks the streams right before deleting: an entry referenced again survives', async () => {
    const { dataDir, orphansFile } = await found();
    await writeStream('daily', ['data/trusty/a', 'data/utopic/c', 'data/stale/x']);
    const res = await reapOrphans({ orphansFile, dataDir, all: true });
    expect(res.referencedAgain).toEqual(['stale/x']);
    await fsp.access(path.join(dataDir, 'stale/x'));
    expect([...(await readOrphansFile(orphansFile)).entries.keys()]).toEqual([]);
  });

  it('refuses to reap when the recorded streams now reference nothing', async () => {
    const { dataDir, orphansFile } = await found();
    await writeStream('daily', []);
    await writeStream('released', []);
    await expect(reapOrphans({ orphansFile, dataDir, all: true })).rejects.toBeInstanceOf(NoReferencesError);
    await fsp.access(path.join(dataDir, 'stale/x'));
  });

  it('never deletes outside the data directory: links are removed as links, escaping entries refused', async () => {
    const { dataDir, orphansFile } = await found();
    await put('outside/secret', 'keep me');
    await put('outside/dir/file', 'keep me too');
    await fsp.symlink(path.join(work.path, 'outside/secret'), path.join(dataDir, 'link-to-secret'));
    await fsp.symlink(path.join(work.path, 'outside/dir'), path.join(dataDir, 'evil-dir'));
    await findOrphans({ orphansFile, dataDir, now: T0 });
    const file = JSON.parse(await fsp.readFile(orphansFile, 'utf8'));
    expect(file['link-to-secret']).toBeDefined();
    expect(Object.keys(file).some((k) => k.startsWith('evil-dir'))).toBe(false); // not walked into
    // a tampered file naming paths through and out of the data directory
    file['evil-dir/file'] = formatUpdated(T0);
    file['../outside/secret'] = formatUpdated(T0);
    await fsp.writeFile(orphansFile, JSON.stringify(file));
    const res = await reapOrphans({ orphansFile, dataDir, all: true });
    expect(res.reaped.map((r) => r.path)).toContain('link-to-secret');
    expect(res.refused.sort()).toEqual(['../outside/secret', 'evil-dir/file']);
    expect(await fsp.readFile(path.join(work.path, 'outside/secret'), 'utf8')).toBe('keep me');
    expect(await fsp.readFile(path.join(work.path, 'outside/dir/file'), 'utf8')).toBe('keep me too');
    await expect(fsp.lstat(path.join(dataDir, 'link-to-secret'))).rejects.toThrow();
  });

  it("reads the original's orphans file (no stream list) when the data directory is the stream", async () => {
    await put('m/a');
    await put('m/b');
    const root = await writeStream('m', ['a']);
    const orphansFile = path.join(work.path, 'orig.json');
    await fsp.writeFile(orphansFile, JSON.stringify({ b: 'Mon, 01 Jan 2024 00:00:00 +0000' }, null, 1) + '\n');
    const res = await reapOrphans({ orphansFile, dataDir: root });
    expect(res.reaped.map((r) => r.path)).toEqual(['b']);
    await fsp.writeFile(orphansFile, JSON.stringify({ b: 'Mon, 01 Jan 2024 00:00:00 +0000' }));
    // the reap recorded its data directory in the sidecar: another one is refused
    await expect(reapOrphans({ orphansFile, dataDir: path.join(work.path, 'm/streams') })).rejects.toBeInstanceOf(DataDirMismatchError);
    await fsp.rm(sidecarPath(orphansFile));
    await expect(reapOrphans({ orphansFile, dataDir: path.join(work.path, 'm/streams') })).rejects.toBeInstanceOf(NoStreamsError);
  });
});

describe('parseDuration / parseRfc2822', () => {
  it('sums d/h/m/s tokens, bare numbers are days', () => {
    expect(parseDuration('3d')).toBe(3 * DAY);
    expect(parseDuration('1d12h')).toBe(1.5 * DAY);
    expect(parseDuration('90m')).toBe(90 * 60_000);
    expect(parseDuration('10s')).toBe(10_000);
    expect(parseDuration('2')).toBe(2 * DAY);
    expect(parseDuration('0')).toBe(0);
    for (const bad of ['', '3w', 'd', '-1d', '1.5d']) expect(() => parseDuration(bad)).toThrow(DurationError);
  });
  it('parses RFC 2822 with any offset', () => {
    expect(parseRfc2822('Mon, 01 Jan 2024 00:00:00 +0000')).toBe(Date.UTC(2024, 0, 1));
    expect(parseRfc2822('Tue, 15 Sep 2015 16:15:24 -0400')).toBe(Date.UTC(2015, 8, 15, 20, 15, 24));
    expect(parseRfc2822('2024-01-01')).toBeUndefined();
  });
});
