// Benchmark: meph2-util's stream operations on a generated MAAS-shaped stream of ≥250,000
// items with real (tiny) data files, each timed in one run against its floor:
//   insert / promote / clean-md   vs  JSON.parse + JSON.stringify of the same products file
//   find-orphans                  vs  a bare recursive directory walk of the data directory
// Goal: each within 3× of its floor. Peak RSS is printed.
// Usage: npx tsx tools/bench/stream-ops.ts [--items N] [--keep]
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import pLimit from 'p-limit';
import { buildIndex, serializeJson, type ProductsDocument } from '@meph/simplestreams';
import { cleanMd, insert, promote } from '@meph/stream-ops';
import { findOrphans } from '@meph/orphans';
import { makeMaasStream, numberArg, shapeForItems } from './maas-stream.js';

// one more version than kept in daily: the newest is the "build output" that insert adds
const shape = shapeForItems(numberArg('--items', 250_000), 1);

let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 10);

const CANDIDATE_CID = 'com.ubuntu.maas:candidate:v3:download';
const productsRel = (cid: string): string => `streams/v1/${cid}.json`;

/** Relabels the generated (stable) stream as a candidate one and writes real data files. */
function asCandidate(doc: ProductsDocument): ProductsDocument {
  const products: ProductsDocument['products'] = {};
  for (const [pid, p] of Object.entries(doc.products)) products[pid.replace('.stable:', '.candidate:')] = { ...p, label: 'candidate' };
  return { ...doc, content_id: CANDIDATE_CID, datatype: 'image-downloads', products };
}

/** Gives every item a real file (content = its path) and matching size/sha256. */
async function materialize(root: string, doc: ProductsDocument): Promise<number> {
  const written = new Set<string>();
  const limit = pLimit(64);
  const jobs: Array<Promise<void>> = [];
  for (const p of Object.values(doc.products))
    for (const v of Object.values(p.versions))
      for (const item of Object.values(v.items)) {
        const rel = item.path as string;
        const content = Buffer.from(`${rel}\n`);
        item.size = content.length;
        item.sha256 = createHash('sha256').update(content).digest('hex');
        if (written.has(rel)) continue;
        written.add(rel);
        jobs.push(limit(async () => {
          await fsp.mkdir(path.join(root, path.dirname(rel)), { recursive: true });
          await fsp.writeFile(path.join(root, rel), content);
        }));
      }
  await Promise.all(jobs);
  return written.size;
}

/** Splits versions off a document: those matching `take` go to the returned document. */
function split(doc: ProductsDocument, take: (pid: string, version: string) => boolean): ProductsDocument {
  const out: ProductsDocument = { ...doc, products: {} };
  for (const [pid, p] of Object.entries(doc.products)) {
    for (const [vname, v] of Object.entries(p.versions)) {
      if (!take(pid, vname)) continue;
      (out.products[pid] ??= { ...p, versions: {} }).versions[vname] = v;
      delete p.versions[vname];
    }
  }
  return out;
}

async function writeStream(root: string, doc: ProductsDocument): Promise<string> {
  const rel = productsRel(doc.content_id);
  await fsp.mkdir(path.join(root, 'streams/v1'), { recursive: true });
  await fsp.writeFile(path.join(root, rel), serializeJson(doc));
  await fsp.writeFile(path.join(root, 'streams/v1/index.json'), serializeJson(buildIndex([{ path: rel, doc }])));
  return path.join(root, rel);
}

async function jsonFloor(file: string): Promise<number> {
  const t0 = performance.now();
  const text = await fsp.readFile(file, 'utf8');
  const value = JSON.parse(text);
  await fsp.writeFile(`${file}.floor`, JSON.stringify(value, null, 1));
  const ms = performance.now() - t0;
  await fsp.rm(`${file}.floor`);
  return ms;
}

async function walkFloor(root: string): Promise<{ ms: number; files: number }> {
  const t0 = performance.now();
  let files = 0;
  const walk = async (dir: string): Promise<void> => {
    for (const e of await fsp.readdir(dir, { withFileTypes: true })) {
      if (e.isDirectory()) await walk(path.join(dir, e.name));
      else files++;
    }
  };
  await walk(root);
  return { ms: performance.now() - t0, files };
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

function countItems(doc: ProductsDocument): number {
  let n = 0;
  for (const p of Object.values(doc.products)) for (const v of Object.values(p.versions)) n += Object.keys(v.items).length;
  return n;
}

async function main(): Promise<void> {
  const work = await fsp.mkdtemp(path.join(os.tmpdir(), 'meph-bench-ops-'));
  try {
    const t0 = performance.now();
    const all = asCandidate(makeMaasStream(shape));
    const newest = Object.keys(Object.values(all.products)[0]!.versions).sort().at(-1)!;
    const daily = path.join(work, 'daily');
    const build = path.join(work, 'build');
    const released = path.join(work, 'released');
    const files = await materialize(daily, all);
    // build output = the newest version of release rel00 (its files are moved there)
    const buildDoc = split(all, (pid, v) => v === newest && pid.includes(':10.04:'));
    split(all, (_pid, v) => v === newest); // the newest version of the other releases is not built yet
    for (const p of Object.values(buildDoc.products))
      for (const v of Object.values(p.versions))
        for (const item of Object.values(v.items)) {
          const rel = item.path as string;
          await fsp.mkdir(path.join(build, path.dirname(rel)), { recursive: true });
          await fsp.rename(path.join(daily, rel), path.join(build, rel)).catch(() => undefined);
        }
    await writeStream(build, buildDoc);
    const dailyFile = await writeStream(daily, all);
    const dailyItems = countItems(all);
    // released: the daily minus its newest version, under released names (metadata only)
    const relDoc = structuredClone(all);
    const second = Object.keys(Object.values(relDoc.products)[0]!.versions).sort().at(-1)!;
    split(relDoc, (_pid, v) => v === second);
    const releasedDoc: ProductsDocument = { ...relDoc, content_id: 'com.ubuntu.maas:v3:download', products: Object.fromEntries(Object.entries(relDoc.products).map(([pid, p]) => [pid.replace('.candidate:', ':'), { ...p, label: 'release' }])) };
    const releasedFile = await writeStream(released, releasedDoc);
    const releasedItems = countItems(releasedDoc);
    const setupMs = performance.now() - t0;
    const size = (await fsp.stat(dailyFile)).size;
    console.log(`stream: ${dailyItems} items in daily (${(size / 2 ** 20).toFixed(1)} MiB products file), ${files} data files; released ${releasedItems} items; build output ${countItems(buildDoc)} items; setup ${(setupMs / 1000).toFixed(1)} s`);

    const rows: Array<[string, number, number, string]> = [];
    const quiet = { onEvent: () => {} };

    // The machine is shared: each floor is measured before and after its operation and the
    // smaller (least disturbed) figure is used.
    const floorAround = async <T,>(file: string, op: () => Promise<T>): Promise<{ ms: number; value: T; floor: number }> => {
      const before = await jsonFloor(file);
      const r = await timed(op);
      return { ...r, floor: Math.min(before, await jsonFloor(file)) };
    };
    const ins = await floorAround(dailyFile, () => insert(build, daily, { ...quiet, policy: 'off' }));
    const insertFloor = ins.floor;
    rows.push(['insert (500 items, 1 version × 125 products)', ins.ms, insertFloor, `${ins.value.copied} files copied`]);

    const pro = await floorAround(releasedFile, () => promote(daily, released, second, { ...quiet, policy: 'off', filters: ['release=rel01'] }));
    const promoteFloor = pro.floor;
    rows.push(['promote (1 version × 125 products)', pro.ms, promoteFloor, `${pro.value.copied} files copied`]);

    const keep = Math.max(1, shape.versions - 7);
    const cm = await floorAround(dailyFile, () => cleanMd(daily, keep, quiet));
    const cleanFloor = cm.floor;
    const removed = cm.value.plan.events.filter((e) => e.type === 'version-removed').length;
    rows.push([`clean-md ${keep}`, cm.ms, cleanFloor, `${removed} versions removed`]);

    const walk1 = await walkFloor(daily);
    const fo = await timed(() => findOrphans({ orphansFile: path.join(work, 'orphans.json'), dataDir: daily, streams: [path.join(daily, 'streams/v1/index.json')], policy: 'off' }));
    const walk2 = await walkFloor(daily);
    const walk = walk1.ms < walk2.ms ? walk1 : walk2;
    rows.push(['find-orphans', fo.ms, walk.ms, `${fo.value.added.length} orphans in ${walk.files} files`]);

    clearInterval(sampler);
    console.log('\noperation                                      time      floor    ratio   note');
    for (const [name, ms, floor, note] of rows) {
      console.log(`${name.padEnd(46)} ${(ms / 1000).toFixed(2).padStart(6)} s ${(floor / 1000).toFixed(2).padStart(6)} s ${(ms / floor).toFixed(2).padStart(6)}×   ${note}${ms / floor > 3 ? '   (over the 3× goal)' : ''}`);
    }
    console.log(`\npeak RSS: ${(peakRss / 2 ** 20).toFixed(0)} MiB sampled, ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB maxRSS`);
  } finally {
    if (!process.argv.includes('--keep')) await fsp.rm(work, { recursive: true, force: true });
    else console.log(`kept ${work}`);
  }
}

await main();
