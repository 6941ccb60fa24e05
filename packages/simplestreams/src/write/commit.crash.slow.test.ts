// SIGKILL a real writer at many points of commitStreamUpdate; the stream must stay readable
// (each products file old or new, every referenced file present and verified), no temp file
// may pose as a products file, and a rerun must complete the update.
import { spawn } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '@meph/test-support';
import type { StreamUpdate } from './commit.js';
import { commitStreamUpdate } from './commit.js';
import { isTempName } from './atomic.js';
import { LOCK_FILE } from './lock.js';
import { listFiles, makeVersions, productsDoc, readAndCheckStream } from './__fixtures__/stream-builder.js';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), '__fixtures__', 'commit-child.ts');
const TSX = createRequire(import.meta.url).resolve('tsx');

let work: string;
let oldUpdate: StreamUpdate;
let newUpdate: StreamUpdate;
let oldFiles: Record<string, string>;
let newFiles: Record<string, string>;

function runChild(jobFile: string, killAfter: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; events: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=@meph/source', '--import', TSX, CHILD, jobFile, String(killAfter)], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, events: out.split('\n').filter((l) => l.startsWith('{')).length }));
  });
}

async function snapshot(root: string, update: StreamUpdate): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const p of update.products) out[p.path] = await fsp.readFile(path.join(root, p.path), 'utf8');
  return out;
}

beforeAll(async () => {
  work = await fsp.mkdtemp(path.join(os.tmpdir(), 'meph-crash-'));
  const v1 = await makeVersions(path.join(work, 'src'), ['com.example:p1', 'com.example:p2'], ['20240101'], 256 * 1024);
  const v2 = await makeVersions(path.join(work, 'src'), ['com.example:p1', 'com.example:p2'], ['20240202'], 256 * 1024);
  const both = structuredClone(v1.items);
  for (const [p, vs] of Object.entries(v2.items)) Object.assign(both[p]!, vs);
  oldUpdate = {
    data: v1.data,
    products: [
      { path: 'streams/v1/a.json', doc: productsDoc('com.example:a', v1.items) },
      { path: 'streams/v1/b.json', doc: productsDoc('com.example:b', { 'com.example:p1': v1.items['com.example:p1']! }) },
    ],
    index: 'regenerate',
  };
  newUpdate = {
    data: v2.data,
    products: [
      { path: 'streams/v1/a.json', doc: productsDoc('com.example:a', both) },
      { path: 'streams/v1/c.json', doc: productsDoc('com.example:c', v2.items) },
    ],
    removeProducts: ['streams/v1/b.json'],
    index: 'regenerate',
  };
  // reference snapshots of the old and the new state
  const ref = path.join(work, 'ref');
  await commitStreamUpdate(ref, oldUpdate);
  oldFiles = await snapshot(ref, oldUpdate);
  await commitStreamUpdate(ref, newUpdate);
  newFiles = await snapshot(ref, newUpdate);
});

afterAll(async () => {
  await fsp.rm(work, { recursive: true, force: true });
});

// 4 data files, 2 products files, the index and one removal = 8 events
const KILL_POINTS = [1, 4, 5, 6, 7, 8]; // mid-data, all data, each products file, index, removal

describe('commitStreamUpdate under SIGKILL', () => {
  it.each(KILL_POINTS)('killed after event %i: stream still reads, rerun completes', async (killAfter) => {
    const root = path.join(work, `k${killAfter}`);
    await commitStreamUpdate(root, oldUpdate);
    const jobFile = path.join(work, `job-${killAfter}.json`);
    await fsp.writeFile(jobFile, JSON.stringify({ root, update: newUpdate }));

    const res = await runChild(jobFile, killAfter);
    expect(res.signal).toBe('SIGKILL');
    expect(res.events).toBe(killAfter);
    expect(await fsp.readFile(path.join(root, LOCK_FILE), 'utf8')).toMatch(/^\d+ /); // left behind by the dead writer

    // what a reader sees right after the crash
    const state = await readAndCheckStream(root);
    for (const [rel, doc] of Object.entries(state.products)) {
      const text = `${JSON.stringify(doc)}`;
      const candidates = [oldFiles[rel], newFiles[rel]].filter((t): t is string => t !== undefined).map((t) => JSON.stringify(JSON.parse(t)));
      expect(candidates, `${rel} is neither the old nor the new version`).toContain(text);
    }
    const ids = Object.keys(state.index.index).sort();
    expect([['com.example:a', 'com.example:b'], ['com.example:a', 'com.example:c']]).toContainEqual(ids);

    // rerun (in-process): takes over the stale lock, completes, cleans up the dead writer's temp files
    await commitStreamUpdate(root, newUpdate);
    const final = await readAndCheckStream(root);
    expect(Object.keys(final.index.index).sort()).toEqual(['com.example:a', 'com.example:c']);
    expect(await snapshot(root, newUpdate)).toEqual(newFiles);
    const files = await listFiles(root);
    expect(files.filter((f) => isTempName(path.basename(f)) || f.endsWith(LOCK_FILE) || f.endsWith('b.json'))).toEqual([]);
  });

  it('killed at a random moment mid-copy: same guarantees', async () => {
    const root = path.join(work, 'timer');
    await commitStreamUpdate(root, oldUpdate);
    const jobFile = path.join(work, 'job-timer.json');
    await fsp.writeFile(jobFile, JSON.stringify({ root, update: newUpdate }));
    const child = spawn(process.execPath, ['--conditions=@meph/source', '--import', TSX, CHILD, jobFile, '0'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    const closed = new Promise<NodeJS.Signals | null>((resolve) => child.on('close', (_c, s) => resolve(s)));
    // kill as soon as the first data event shows the writer is mid-update
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      if (d.includes('data-copied')) child.kill('SIGKILL');
    });
    const signal = await closed;
    await readAndCheckStream(root);
    await commitStreamUpdate(root, newUpdate);
    expect(Object.keys((await readAndCheckStream(root)).index.index).sort()).toEqual(['com.example:a', 'com.example:c']);
    expect(signal === 'SIGKILL' || signal === null).toBe(true);
  });
});
