// Benchmark: meph2-util as users run it (a fresh process per run, the built bin: `npm run build`
// first), each row against its floor measured in the same run, 5 paired runs (floor, meph,
// floor, meph, …); wall and CPU time (the machine may be shared) and peak RSS of each process:
//   --help / query --help                      vs  `node -e 0`
//   query --json 'arch~(amd64|arm64)' --max=3  vs  a bare node script: read, JSON.parse, select
//                                                  the same items in a plain loop, JSON.stringify
//   query --json (every item)                  vs  the same floor without a filter (and its RSS)
//   clean-md 3 / insert / promote              vs  parse + stringify + write of the metadata they change,
//                                                  and for insert/promote placing the data files they
//                                                  add (mkdir, hard link, sha256), as meph must
// meph runs with its code cache (cli-kit's runBundle) as from a command's second run on; one row
// shows a first run, without it.
// Stream shape (issue 14): 24 releases × 6 arches × 6 kernel flavours × N versions × 4 items:
// 8 versions = 27,648 items, 80 versions = 276,480 items.
// Usage: npx tsx --conditions=@meph/source tools/bench/cli.ts [--runs 5] [--sizes 8,80] [--keep]
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, promises as fsp, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildIndex, serializeJson, type ProductsDocument } from '@meph/simplestreams';
import { itemCount, makeMaasStream, numberArg, type MaasShape } from './maas-stream.js';

const repo = path.resolve(import.meta.dirname, '../..');
const bin = path.join(repo, 'apps/meph2-util/bin/meph2-util.js');
const floorScript = path.join(import.meta.dirname, 'floors/cli-floor.mjs');
const runs = numberArg('--runs', 5);
const sizesAt = process.argv.indexOf('--sizes');
const sizes = (sizesAt >= 0 ? process.argv[sizesAt + 1]! : '8,80').split(',').map(Number);

const shapeOf = (versions: number): MaasShape => ({ releases: 24, arches: ['amd64', 'arm64', 'armhf', 'i386', 'ppc64el', 's390x'], subarches: 6, versions });

interface Sample {
  /** Wall time of the whole process, spawn to exit. */
  ms: number;
  /** CPU time (user + system) the process used: less disturbed than wall time on a busy machine. */
  cpuMs: number;
  rssMiB: number;
}

const preload = path.join(import.meta.dirname, 'usage-preload.mjs');
const usageFile = path.join(os.tmpdir(), `meph-bench-usage-${process.pid}`);

/**
 * Runs a node command once (output to /dev/null, stderr kept for failures): wall time, CPU
 * time and peak RSS, the last two reported by the process itself (usage-preload.mjs).
 */
function once(argv: readonly string[], cwd: string, codeCache: string): Sample {
  rmSync(usageFile, { force: true });
  const [node, ...rest] = argv;
  const t0 = process.hrtime.bigint();
  const env = { ...process.env, MEPH_BENCH_USAGE: usageFile, MEPH_CODE_CACHE: codeCache };
  const r = spawnSync(node!, ['--import', preload, ...rest], { cwd, stdio: ['ignore', 'ignore', 'pipe'], env, maxBuffer: 1 << 30 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}: ${r.stderr.toString().slice(-500)}`);
  const usage = JSON.parse(readFileSync(usageFile, 'utf8')) as { cpuMs: number; maxRssKiB: number };
  return { ms, cpuMs: usage.cpuMs, rssMiB: usage.maxRssKiB / 1024 };
}

interface Row {
  name: string;
  meph: Sample[];
  floor: Sample[];
  goal: number;
  rssGoal?: boolean;
}

interface PairedOptions {
  /** Restores the input before each run of both sides (for commands that change it). */
  prepare?: () => void;
  /** Peak RSS must not exceed the floor's either. */
  rssGoal?: boolean;
  /** Every meph run starts without a code cache (a command's first run). */
  firstRun?: boolean;
}

/**
 * meph runs as it does from a command's second run on, with its code cache (cli-kit's
 * runBundle), written by one untimed run first; with `firstRun`, each run gets an empty one.
 */
function paired(name: string, goal: number, meph: readonly string[], floor: readonly string[], cwd: string, options: PairedOptions = {}): Row {
  const { prepare, rssGoal = false, firstRun = false } = options;
  const row: Row = { name, meph: [], floor: [], goal, rssGoal };
  const warm = path.join(cwd, 'code-cache');
  const codeCache = (): string => (firstRun ? mkdtempSync(path.join(cwd, 'code-cache-')) : warm);
  if (!firstRun) {
    prepare?.();
    once(meph, cwd, warm);
  }
  for (let i = 0; i < runs; i++) {
    prepare?.();
    row.floor.push(once(floor, cwd, warm));
    prepare?.();
    row.meph.push(once(meph, cwd, codeCache()));
  }
  return row;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (ms: number): string => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);
const stats = (xs: number[]): string => `${fmt(Math.min(...xs))}/${fmt(median(xs))}/${fmt(Math.max(...xs))}`;

function print(rows: readonly Row[]): void {
  const load = os.loadavg().map((l) => l.toFixed(1)).join(' ');
  console.log(`\n${runs} paired runs per row (floor, meph, floor, meph, …); ratio = median meph / median floor; load average now: ${load}`);
  console.log(`${'row'.padEnd(44)} ${'meph wall min/med/max'.padEnd(24)} ${'floor wall min/med/max'.padEnd(24)} ${'wall'.padStart(6)} ${'meph CPU med'.padStart(12)} ${'floor CPU med'.padStart(13)} ${'CPU'.padStart(6)}  goal   peak RSS meph/floor`);
  for (const r of rows) {
    const wall = median(r.meph.map((s) => s.ms)) / median(r.floor.map((s) => s.ms));
    const cpuM = median(r.meph.map((s) => s.cpuMs));
    const cpuF = median(r.floor.map((s) => s.cpuMs));
    const cpu = cpuM / cpuF;
    const rssM = Math.max(...r.meph.map((s) => s.rssMiB));
    const rssF = Math.max(...r.floor.map((s) => s.rssMiB));
    const missed = [wall > r.goal ? 'wall' : '', cpu > r.goal ? 'CPU' : '', r.rssGoal && rssM > rssF ? 'RSS' : ''].filter(Boolean);
    console.log(
      `${r.name.padEnd(44)} ${stats(r.meph.map((s) => s.ms)).padEnd(24)} ${stats(r.floor.map((s) => s.ms)).padEnd(24)} ${wall.toFixed(2).padStart(5)}× ${fmt(cpuM).padStart(12)} ${fmt(cpuF).padStart(13)} ${cpu.toFixed(2).padStart(5)}×  ≤${r.goal}×  ${rssM.toFixed(0)}/${rssF.toFixed(0)} MiB${r.rssGoal ? ' (goal ≤ floor)' : ''}${missed.length ? `   MISSED (${missed.join(', ')})` : ''}`,
    );
  }
}

async function writeStream(root: string, doc: ProductsDocument): Promise<string> {
  const rel = `streams/v1/${doc.content_id}.json`;
  await fsp.mkdir(path.join(root, 'streams/v1'), { recursive: true });
  await fsp.writeFile(path.join(root, rel), serializeJson(doc));
  await fsp.writeFile(path.join(root, 'streams/v1/index.json'), serializeJson(buildIndex([{ path: rel, doc }])));
  return rel;
}

/** Splits the newest version off every product of `rel00` into its own document (the "build output"). */
function splitNewest(doc: ProductsDocument): ProductsDocument {
  const out: ProductsDocument = { ...doc, products: {} };
  for (const [pid, p] of Object.entries(doc.products)) {
    if (p['release'] !== 'rel00') continue;
    const newest = Object.keys(p.versions).sort().at(-1)!;
    out.products[pid] = { ...p, versions: { [newest]: p.versions[newest]! } };
    delete p.versions[newest];
  }
  return out;
}

/** Gives the items of one version of one release real files under `root` (content = path). */
async function materialize(root: string, doc: ProductsDocument, release: string, version: string): Promise<void> {
  for (const p of Object.values(doc.products)) {
    if (p['release'] !== release || !p.versions[version]) continue;
    for (const item of Object.values(p.versions[version].items)) {
      const rel = item.path as string;
      const content = Buffer.from(`${rel}\n`);
      item.size = content.length;
      item.sha256 = createHash('sha256').update(content).digest('hex');
      await fsp.mkdir(path.join(root, path.dirname(rel)), { recursive: true });
      await fsp.writeFile(path.join(root, rel), content);
    }
  }
}

async function main(): Promise<void> {
  const work = await fsp.mkdtemp(path.join(os.tmpdir(), 'meph-bench-cli-'));
  const node = process.execPath;
  const rows: Row[] = [];
  try {
    rows.push(paired('meph2-util --help', 1.5, [node, bin, '--help'], [node, '-e', '0'], work));
    rows.push(paired('meph2-util query --help', 1.5, [node, bin, 'query', '--help'], [node, '-e', '0'], work));
    for (const versions of sizes) {
      const shape = shapeOf(versions);
      const n = itemCount(shape);
      const dir = path.join(work, `s${versions}`);
      const full = makeMaasStream(shape);
      const newest = Object.keys(Object.values(full.products)[0]!.versions).sort().at(-1)!;
      await materialize(path.join(work, `b${versions}`), full, 'rel00', newest);
      await materialize(dir, full, 'rel01', newest);
      const build = splitNewest(full);
      const rel = await writeStream(dir, full);
      await writeStream(path.join(work, `b${versions}`), build);
      const productsFile = path.join(dir, rel);
      const size = (await fsp.stat(productsFile)).size;
      console.log(`stream s${versions}: ${n} items, products file ${(size / 2 ** 20).toFixed(1)} MiB`);
      const index = path.join(dir, 'streams/v1/index.json');
      const label = `${Math.round(n / 1000)}k`;

      const filtered = [[node, bin, 'query', '--json', index, 'arch~(amd64|arm64)', '--max=3'], [node, floorScript, 'query', index, 'arch', '^(?:amd64|arm64)', '3']] as const;
      rows.push(paired(`query --json arch~(amd64|arm64) --max=3, ${label}`, 1.3, ...filtered, work));
      if (versions === sizes[0]) rows.push(paired(`  the same, first run (no code cache)`, 1.3, ...filtered, work, { firstRun: true }));
      if (versions >= 80) rows.push(paired(`query --json (every item), ${label}`, 1.5, [node, bin, 'query', '--json', index], [node, floorScript, 'query', index], work, { rssGoal: true }));

      // Commands that change the stream run on a fresh copy each time (the copy is not timed).
      const pristine = path.join(work, `p${versions}`);
      await fsp.cp(dir, pristine, { recursive: true });
      const restore = (): void => {
        spawnSync('rm', ['-rf', dir]);
        spawnSync('cp', ['-a', pristine, dir]);
      };
      const rewrite = [node, floorScript, 'rewrite', productsFile, index];
      rows.push(paired(`clean-md 3, ${label}`, 1.5, [node, bin, 'clean-md', '-u', '3', dir], rewrite, work, { prepare: restore }));
      const buildDir = path.join(work, `b${versions}`);
      rows.push(paired(`insert (1 version of rel00), ${label}`, 1.5, [node, bin, 'insert', '-u', buildDir, dir], [node, floorScript, 'insert', path.join(buildDir, rel), buildDir, dir, productsFile, index], work, { prepare: restore }));
      const target = path.join(work, `t${versions}`);
      const clearTarget = (): void => {
        restore();
        spawnSync('rm', ['-rf', target]);
      };
      rows.push(paired(`promote (1 version of rel01), ${label}`, 1.5, [node, bin, 'promote', '-u', dir, target, newest, 'release=rel01'], [node, floorScript, 'promote', productsFile, dir, 'rel01', newest, target], work, { prepare: clearTarget }));
      restore();
    }
    print(rows);
  } finally {
    rmSync(usageFile, { force: true });
    if (!process.argv.includes('--keep')) await fsp.rm(work, { recursive: true, force: true });
    else console.log(`kept ${work}`);
  }
}

await main();
