/**
 * Benchmark: the real build of Debian bookworm (2 kernels: linux-image-amd64 and
 * linux-image-cloud-amd64, squashfs xz) from the cached minbase root tarball, against its floor
 * measured in the same run on the same tree:
 *
 *   floor = unpack alone + the slowest single kernel install alone + mksquashfs (xz) alone
 *
 * The pipeline also customises the tree (apt in a chroot), which the floor leaves out; the
 * goal is total ≤ 1.3 × floor, reached by building the kernels in parallel overlays while
 * mksquashfs runs. Also reports mksquashfs xz vs zstd (time and size) and peak memory.
 *
 *   npx tsx --conditions=@meph/source tools/bench/build.ts [--source ROOT.tar.xz] [--concurrency 2]
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildKernel, customiseTree, detectSourceType, makeSquashfs, realConverter, unpackSource, type KernelRequest } from '@meph/image-transform';

const { values } = parseArgs({ options: { source: { type: 'string' }, concurrency: { type: 'string', default: '2' } } });
const repo = path.resolve(import.meta.dirname, '../..');
const source = values.source ?? execFileSync('bash', [path.join(repo, 'tools/make-bookworm-rootfs.sh')], { encoding: 'utf8' }).trim();
const work = await mkdtemp(path.join(os.tmpdir(), 'meph-bench-build-'));
const KERNELS: Array<[string, string]> = [['linux-image-amd64', 'generic'], ['linux-image-cloud-amd64', 'cloud']];
const kernels = (out: string): KernelRequest[] => KERNELS.map(([pkg, flavor]) => ({ package: pkg, flavor, kernelPath: path.join(out, flavor, 'boot-kernel'), initrdPath: path.join(out, flavor, 'boot-initrd') }));
let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 200);
const seconds = async (fn: () => Promise<unknown>) => {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
};
const f1 = (n: number) => n.toFixed(1);

try {
  console.error(`bench: source ${source}; ${os.cpus().length} CPUs, load ${os.loadavg().map(f1).join(' ')}`);

  // 1. the pipeline, end to end
  const out = path.join(work, 'out');
  console.error('bench: full pipeline (realConverter, xz) …');
  const result = await realConverter({
    arch: 'amd64', release: 'bookworm', version: 'bench', source, imageFormat: 'auto', kernels: kernels(out),
    squashfs: { path: path.join(out, 'squashfs'), compression: 'xz' }, manifestPath: path.join(out, 'squashfs.manifest'),
    proposed: false, addRepos: [], addPackages: [], prePurgePackages: [], proposedPackages: [],
    workDir: path.join(work, 'pipeline'), kernelConcurrency: Number(values.concurrency),
  });

  // 2. the floor, step by step, each alone, on the same tree
  console.error('bench: floor steps alone …');
  const tree = path.join(work, 'floor/tree');
  await mkdir(path.dirname(tree), { recursive: true });
  const type = await detectSourceType(source);
  const unpack = await seconds(() => unpackSource(source, type, tree, { scratch: path.dirname(tree) }));
  const customise = await seconds(() =>
    customiseTree(tree, { release: 'bookworm', proposed: false, proposedPackages: [], addRepos: [], addPackages: [], prePurgePackages: [], manifestPath: path.join(work, 'floor/manifest') }),
  );
  const kernelAlone: Record<string, number> = {};
  for (const k of kernels(path.join(work, 'floor/out'))) {
    kernelAlone[k.flavor] = await seconds(() => buildKernel(k, { tree, scratch: path.join(work, `floor/k-${k.flavor}`) }));
  }
  const squash: Record<string, { s: number; mb: number }> = {};
  for (const comp of ['xz', 'zstd'] as const) {
    const file = path.join(work, `floor/squashfs.${comp}`);
    const s = await seconds(() => makeSquashfs(tree, file, { compression: comp }));
    squash[comp] = { s, mb: (await stat(file)).size / 1e6 };
  }
  const slowestKernel = Math.max(...Object.values(kernelAlone));
  const floor = unpack + slowestKernel + squash['xz']!.s;
  const total = result.timings['total']!;

  const t = result.timings;
  console.log('step                          pipeline   alone');
  console.log(`unpack                        ${f1(t['unpack']!).padStart(8)} ${f1(unpack).padStart(7)}`);
  console.log(`customise (not in floor)      ${f1(t['customise']!).padStart(8)} ${f1(customise).padStart(7)}`);
  for (const [, flavor] of KERNELS) console.log(`kernel ${flavor.padEnd(22)} ${f1(t[`kernel:${flavor}`]!).padStart(8)} ${f1(kernelAlone[flavor]!).padStart(7)}`);
  console.log(`kernels (parallel, wall)      ${f1(t['kernels']!).padStart(8)}`);
  console.log(`squashfs xz                   ${f1(t['squashfs']!).padStart(8)} ${f1(squash['xz']!.s).padStart(7)}`);
  console.log(`total                         ${f1(total).padStart(8)}`);
  console.log(`floor = unpack ${f1(unpack)} + slowest kernel ${f1(slowestKernel)} + mksquashfs ${f1(squash['xz']!.s)} = ${f1(floor)} s`);
  console.log(`ratio total/floor = ${(total / floor).toFixed(2)} (goal ≤ 1.30); without customise ${((total - t['customise']!) / floor).toFixed(2)}`);
  console.log(`mksquashfs xz:   ${f1(squash['xz']!.s)} s, ${f1(squash['xz']!.mb)} MB`);
  console.log(`mksquashfs zstd: ${f1(squash['zstd']!.s)} s, ${f1(squash['zstd']!.mb)} MB`);
  console.log(`peak RSS: sampled ${f1(peakRss / 2 ** 20)} MiB, maxRSS ${f1(process.resourceUsage().maxRSS / 1024)} MiB (this process; the tools run as children)`);
  console.log(`load average at the end: ${os.loadavg().map(f1).join(' ')}`);
} finally {
  clearInterval(sampler);
  await rm(work, { recursive: true, force: true });
}
