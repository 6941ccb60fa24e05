// Benchmark: find-orphans over a generated data pool + a ≥250,000-item MAAS-shaped stream,
// against the floor of a bare recursive directory walk of the same pool, in one run (best of
// ROUNDS, alternating). Usage: npx tsx tools/bench/orphans.ts [--items N] [--rounds R]
import { mkdirSync, promises as fsp, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { findOrphans } from '@meph/orphans';
import { regenerateIndex, serializeJson } from '@meph/simplestreams';
import { itemCount, maasItems, makeMaasStream, numberArg, shapeForItems } from './maas-stream.js';

const ROUNDS = numberArg('--rounds', 2);
const shape = shapeForItems(numberArg('--items', 250_000));

let peakRss = 0;
const sample = (): void => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
};
const sampler = setInterval(sample, 10);

/** The floor: list every file of the tree, nothing else. */
async function bareWalk(dir: string): Promise<number> {
  let n = 0;
  for (const d of await fsp.readdir(dir, { withFileTypes: true })) {
    if (d.isDirectory()) n += await bareWalk(path.join(dir, d.name));
    else n++;
  }
  return n;
}

const work = await fsp.mkdtemp(path.join(os.tmpdir(), 'meph-bench-orphans-'));
try {
  const root = path.join(work, 'stable');
  const t0 = performance.now();
  await fsp.mkdir(path.join(root, 'streams/v1'), { recursive: true });
  writeFileSync(path.join(root, 'streams/v1/com.ubuntu.maas:stable:v3:download.json'), serializeJson(makeMaasStream(shape)));
  await regenerateIndex(root);
  // data files (empty: the walk and the bookkeeping cost the same whatever their size)
  const made = new Set<string>();
  for (const it of maasItems(shape)) {
    if (made.has(it.path)) continue;
    made.add(it.path);
    mkdirSync(path.dirname(path.join(root, it.path)), { recursive: true });
    writeFileSync(path.join(root, it.path), '');
  }
  const referenced = made.size;
  // orphans: an old version of every release/arch, as clean-md leaves behind (~10% of the pool)
  let orphans = 0;
  for (const it of maasItems({ ...shape, versions: Math.max(1, Math.round(shape.versions / 10)) })) {
    const rel = it.path.replace('/2025', '/2024');
    if (made.has(rel)) continue;
    made.add(rel);
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), '');
    orphans++;
  }
  console.log(
    `pool: ${(referenced + orphans).toLocaleString('en')} files (${referenced.toLocaleString('en')} referenced, ${orphans.toLocaleString('en')} orphans); ` +
      `stream: ${itemCount(shape).toLocaleString('en')} items; generated in ${((performance.now() - t0) / 1000).toFixed(1)} s; best of ${ROUNDS} rounds`,
  );

  let floorMs = Infinity;
  let oursMs = Infinity;
  let found = 0;
  for (let r = 0; r < ROUNDS; r++) {
    globalThis.gc?.();
    let t = performance.now();
    const n = await bareWalk(root);
    floorMs = Math.min(floorMs, performance.now() - t);
    sample();
    const orphansFile = path.join(work, `orphans-${r}.json`);
    globalThis.gc?.();
    t = performance.now();
    const res = await findOrphans({ orphansFile, dataDir: root, streams: [root] });
    oursMs = Math.min(oursMs, performance.now() - t);
    sample();
    found = res.file.entries.size;
    if (found !== orphans) throw new Error(`expected ${orphans} orphans, found ${found}`);
    if (n < referenced + orphans) throw new Error('walk missed files');
  }
  clearInterval(sampler);
  sample();
  console.log(`floor (bare recursive readdir walk): ${floorMs.toFixed(0)} ms`);
  console.log(`find-orphans (load + parse stream, walk, compare, write orphans file): ${oursMs.toFixed(0)} ms = ${(oursMs / floorMs).toFixed(2)}× the floor (goal ≤ 3×); ${found.toLocaleString('en')} orphans`);
  console.log(`peak RSS: ${(peakRss / 2 ** 20).toFixed(0)} MiB (sampled), maxRSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
} finally {
  clearInterval(sampler);
  await fsp.rm(work, { recursive: true, force: true });
}
