// Benchmark: checkMaasStream (the `verify --maas` rules, metadata only) on a large synthetic
// MAAS v3 stream, against the floor of reading and JSON.parse-ing the same products file once,
// in one run. Fastest of ROUNDS alternating rounds is reported.
// Usage: npx tsx tools/bench/maas-check.ts [--items N] [--rounds R]
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { buildIndex, loadStream, serializeJson } from '@meph/simplestreams';
import { checkMaasStream } from '@meph/maas-rules';
import { itemCount, makeMaasStream, numberArg, shapeForItems } from './maas-stream.js';

const ROUNDS = numberArg('--rounds', 3);
const shape = shapeForItems(numberArg('--items', 100_000));

let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 10);

const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'meph-bench-maas-'));
try {
  const doc = makeMaasStream(shape);
  const rel = `streams/v1/${doc.content_id}.json`;
  await fsp.mkdir(path.join(dir, 'streams/v1'), { recursive: true });
  const text = serializeJson(doc);
  await fsp.writeFile(path.join(dir, rel), text);
  await fsp.writeFile(path.join(dir, 'streams/v1/index.json'), serializeJson(buildIndex([{ path: rel, doc }])));
  console.log(`stream: ${itemCount(shape)} items, products file ${(text.length / 1e6).toFixed(1)} MB`);
  const stream = await loadStream(dir);

  let floor = Infinity;
  let check = Infinity;
  let findings = 0;
  for (let r = 0; r < ROUNDS; r++) {
    let t0 = performance.now();
    JSON.parse(await fsp.readFile(path.join(dir, rel), 'utf8'));
    floor = Math.min(floor, performance.now() - t0);
    t0 = performance.now();
    findings = (await checkMaasStream(stream, { commissioningRelease: 'rel19' })).length;
    check = Math.min(check, performance.now() - t0);
  }
  clearInterval(sampler);
  console.log(`floor (read + JSON.parse once): ${floor.toFixed(0)} ms`);
  console.log(`checkMaasStream:                ${check.toFixed(0)} ms (${findings} findings on the synthetic data)`);
  console.log(`ratio: ${(check / floor).toFixed(2)}x; peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB (maxRSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB)`);
} finally {
  clearInterval(sampler);
  await fsp.rm(dir, { recursive: true, force: true });
}
