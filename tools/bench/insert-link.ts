// Benchmark: `insert` placing data files by hard link (source and target on one filesystem)
// against its floor, measured in the same run on the same files:
//   floor = hashing every source file once (sha256), which verification needs either way
//   insert (same filesystem, hard links)     goal ≤ 1.5 × floor
//   insert (source on a tmpfs: verified copy) reported beside it, with the extra disk it used
// Usage (root, for the tmpfs mount): npx tsx --conditions=@meph/source tools/bench/insert-link.ts [--files 4] [--mb 32]
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { buildIndex, hashFile, serializeJson, type ProductsDocument } from '@meph/simplestreams';
import { insert } from '@meph/stream-ops';
import { numberArg } from './maas-stream.js';

const files = numberArg('--files', 4);
const mb = numberArg('--mb', 32);
const work = await fsp.mkdtemp(path.join(os.tmpdir(), 'meph-bench-link-'));
const seconds = async (fn: () => Promise<unknown>): Promise<number> => {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
};

/** A one-product stream whose version holds `files` data files of `mb` MiB of pseudo-random bytes. */
async function makeSource(root: string): Promise<string[]> {
  const items: ProductsDocument['products'][string]['versions'][string]['items'] = {};
  const rels: string[] = [];
  for (let i = 0; i < files; i++) {
    const rel = `bench/amd64/20260722/file${i}`;
    await fsp.mkdir(path.join(root, path.dirname(rel)), { recursive: true });
    const handle = await fsp.open(path.join(root, rel), 'w', 0o644);
    const hash = createHash('sha256');
    let block = createHash('sha512').update(`${i}`).digest();
    const chunk = Buffer.alloc(1 << 20);
    for (let m = 0; m < mb; m++) {
      for (let off = 0; off < chunk.length; off += block.length) {
        block = createHash('sha512').update(block).digest();
        block.copy(chunk, off);
      }
      hash.update(chunk);
      await handle.write(chunk);
    }
    await handle.close();
    items[`file${i}`] = { ftype: 'bench', path: rel, size: mb << 20, sha256: hash.digest('hex') };
    rels.push(rel);
  }
  const doc: ProductsDocument = {
    format: 'products:1.0',
    content_id: 'org.example:bench',
    datatype: 'image-downloads',
    products: { 'org.example:bench:amd64': { arch: 'amd64', versions: { '20260722': { items } } } },
  };
  await fsp.mkdir(path.join(root, 'streams/v1'), { recursive: true });
  await fsp.writeFile(path.join(root, 'streams/v1/bench.json'), serializeJson(doc));
  await fsp.writeFile(path.join(root, 'streams/v1/index.json'), serializeJson(buildIndex([{ path: 'streams/v1/bench.json', doc }])));
  return rels;
}

async function diskUsedKb(dir: string): Promise<number> {
  return Number(execFileSync('du', ['-skx', dir], { encoding: 'utf8' }).split('\t')[0]);
}

let mounted: string | undefined;
try {
  console.error(`bench: ${files} × ${mb} MiB; ${os.cpus().length} CPUs, load ${os.loadavg().map((n) => n.toFixed(1)).join(' ')}`);
  const src = path.join(work, 'src');
  const rels = await makeSource(src);
  execFileSync('sync');

  const floor = await seconds(async () => {
    for (const rel of rels) await hashFile(path.join(src, rel), ['sha256']);
  });
  const linked = await seconds(() => insert(src, path.join(work, 'same'), { policy: 'off' }));
  const sameInode = (await fsp.stat(path.join(work, 'same', rels[0]!))).ino === (await fsp.stat(path.join(src, rels[0]!))).ino;
  console.log(`floor (sha256 of every file):      ${floor.toFixed(2)} s`);
  console.log(`insert, same filesystem (link):    ${linked.toFixed(2)} s  = ${(linked / floor).toFixed(2)} × floor (goal ≤ 1.5)  hard link: ${sameInode}`);

  mounted = path.join(work, 'tmpfs');
  await fsp.mkdir(mounted);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${files * mb + 16}m`, 'tmpfs', mounted], { stdio: 'ignore' });
  } catch {
    console.log('insert across filesystems: skipped (mounting a tmpfs needs root)');
    mounted = undefined;
  }
  if (mounted) {
    await fsp.cp(src, path.join(mounted, 'src'), { recursive: true });
    const before = await diskUsedKb(work);
    const copied = await seconds(() => insert(path.join(mounted!, 'src'), path.join(work, 'cross'), { policy: 'off' }));
    const grew = (await diskUsedKb(work)) - before;
    console.log(`insert, across filesystems (copy): ${copied.toFixed(2)} s  = ${(copied / linked).toFixed(2)} × the linked insert; target grew ${(grew / 1024).toFixed(0)} MiB (linked: 0)`);
  }
} finally {
  if (mounted) execFileSync('umount', [mounted]);
  await fsp.rm(work, { recursive: true, force: true });
}
