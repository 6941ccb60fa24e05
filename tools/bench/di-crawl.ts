/**
 * Benchmark: d-i crawl of a fixture archive with ~2,000 netboot files behind 20 ms of
 * injected latency per request, against the floor of files × latency / concurrency.
 *
 *   npx tsx --conditions=@meph/source tools/bench/di-crawl.ts [--files 2000] [--latency 20] [--concurrency 10]
 *
 * The crawl makes one request per suite (InRelease), two per installer version (SHA256SUMS,
 * MD5SUMS) and one HEAD per classified file; the floor counts only the HEADs, the
 * "all requests" floor counts everything. Prints wall time, both ratios and peak memory.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { crawlInstallers } from '@meph/di-crawler';
import { createVerifier } from '@meph/signer';
import { createTestKey, generateArchive, startFixtureServer } from '../fixture-server/index.js';

const { values } = parseArgs({
  options: {
    files: { type: 'string', default: '2000' },
    latency: { type: 'string', default: '20' },
    concurrency: { type: 'string', default: '10' },
  },
});
const wantFiles = Number(values.files);
const latency = Number(values.latency);
const concurrency = Number(values.concurrency);

const arches = ['amd64', 'arm64', 'armhf', 'ppc64el'];
const versions = ['20101020ubuntu801', '20101020ubuntu802', '20101020ubuntu803', '20101020ubuntu804', '20101020ubuntu805'];
// per version dir: 4 kernel/initrd files (+3 on arm64) are classified; dtbs make up the rest
const base = arches.length * versions.length * 4 + versions.length * 3;
const dirs = arches.length * versions.length;
const extra = Math.max(0, wantFiles - base);
// spread the dtbs so the total is exactly wantFiles
const dtbsPerVersion = (arch: string, version: string): number => {
  const i = arches.indexOf(arch) * versions.length + versions.indexOf(version);
  return Math.floor(extra / dirs) + (i < extra % dirs ? 1 : 0);
};

let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);

const tmp = await mkdtemp(path.join(os.tmpdir(), 'meph-bench-di-'));
const key = await createTestKey();
try {
  await generateArchive(tmp, { suites: { noble: versions }, arches, key, dtbsPerVersion });
  const verifier = await createVerifier({ keyrings: [key.keyringPath] });
  const server = await startFixtureServer({ root: tmp, latencyMs: latency });
  try {
    const t0 = performance.now();
    const { stats, doc } = await crawlInstallers({ archive: server.url, releases: ['noble'], arches, pockets: [''], verifier, httpOptions: { concurrencyPerHost: concurrency } });
    const wall = (performance.now() - t0) / 1000;
    const items = Object.values(doc.products).reduce((n, p) => n + Object.values(p.versions).reduce((m, v) => m + Object.keys(v.items).length, 0), 0);
    const floorFiles = (stats.files * latency) / concurrency / 1000;
    const floorAll = (stats.requests * latency) / concurrency / 1000;
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    console.log(`d-i crawl: ${stats.files} files (${items} items) in ${arches.length * versions.length} installer dirs, ${stats.requests} requests, ${stats.retries} retries`);
    console.log(`latency ${latency} ms/request, concurrency ${concurrency} per host, server max in flight ${server.stats.maxInFlight}`);
    console.log(`wall ${wall.toFixed(2)} s; floor (files × latency / concurrency) ${floorFiles.toFixed(2)} s → ratio ${(wall / floorFiles).toFixed(2)}`);
    console.log(`floor counting every request ${floorAll.toFixed(2)} s → ratio ${(wall / floorAll).toFixed(2)}`);
    console.log(`peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB (maxRSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB)`);
  } finally {
    await server.close();
  }
} finally {
  clearInterval(sampler);
  await key.cleanup();
  await rm(tmp, { recursive: true, force: true });
}
