/**
 * Benchmark: `publishStream` of a stream with N × 4 KB data objects to a real single-node
 * Swift (started here, as the tests do), against the floor measured in the same run: the same
 * number of bare 4 KB PUTs at the same concurrency, straight to the store (native API with a
 * keep-alive agent; S3 with the SDK's PutObject). Goal: publish ≤ 1.3 × floor.
 *
 *   npx tsx --conditions=@meph/source tools/bench/publish.ts [--objects 1000] [--size 4096] [--jobs 8] [--api native|s3|both] [--rounds 3]
 *
 * Floors and publishes alternate (floor, publish, floor, …); each publish is compared with the
 * mean of the floors either side of it, and the figure is the median of the rounds (the machine
 * is shared: a burst of load elsewhere moves one round, not the result).
 * The publish includes verifying the local stream (every checksum), one listing, the lease
 * (with its read-back pause), the metadata and its read-back.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pLimit from 'p-limit';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { buildIndex, serializeJson, type ProductsDocument } from '@meph/simplestreams';
import { openTarget, publishStream, S3Store } from '@meph/publish';
import { startSwift } from '@meph/test-support/swift';

const { values } = parseArgs({
  options: {
    objects: { type: 'string', default: '1000' },
    size: { type: 'string', default: '4096' },
    jobs: { type: 'string', default: '8' },
    api: { type: 'string', default: 'both' },
    rounds: { type: 'string', default: '3' },
  },
});
const objects = Number(values.objects);
const size = Number(values.size);
const jobs = Number(values.jobs);
const rounds = Math.max(1, Number(values.rounds));
const apis = values.api === 'both' ? ['native', 's3'] : [String(values.api)];

async function makeStream(root: string): Promise<void> {
  const cid = 'com.example:bench:download';
  const versions: Record<string, { items: Record<string, Record<string, unknown>> }> = {};
  for (let i = 0; i < objects; i++) {
    const v = `2026${String(Math.floor(i / 4)).padStart(6, '0')}`;
    const rel = `bench/${v}/file-${i % 4}`;
    const bytes = randomBytes(size);
    await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
    await writeFile(path.join(root, rel), bytes);
    versions[v] ??= { items: {} };
    versions[v].items[`file-${i % 4}`] = { ftype: 'blob', path: rel, size, sha256: createHash('sha256').update(bytes).digest('hex'), md5: createHash('md5').update(bytes).digest('hex') };
  }
  const doc = { format: 'products:1.0', content_id: cid, datatype: 'image-downloads', updated: 'Mon, 30 Nov 2026 12:00:00 +0000', products: { 'com.example:bench': { arch: 'amd64', versions } } } as unknown as ProductsDocument;
  await mkdir(path.join(root, 'streams/v1'), { recursive: true });
  await writeFile(path.join(root, `streams/v1/${cid}.json`), serializeJson(doc));
  await writeFile(path.join(root, 'streams/v1/index.json'), serializeJson(buildIndex([{ path: `streams/v1/${cid}.json`, doc }])));
}

/** N bare PUTs of fresh 4 KB bodies at `jobs` concurrency, straight to the store. */
async function floorNative(storageUrl: string, token: string, container: string): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: jobs + 2 });
  const put = (url: string, body?: Buffer): Promise<number> =>
    new Promise((resolve, reject) => {
      const req = http.request(url, { method: 'PUT', agent, headers: { 'X-Auth-Token': token, 'Content-Length': String(body?.length ?? 0) } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end(body);
    });
  await put(`${storageUrl}/${container}`);
  const bodies = Array.from({ length: objects }, () => randomBytes(size));
  const limit = pLimit(jobs);
  const t0 = performance.now();
  await Promise.all(bodies.map((b, i) => limit(async () => {
    const status = await put(`${storageUrl}/${container}/floor/${i}`, b);
    if (status !== 201) throw new Error(`floor PUT: HTTP ${status}`);
  })));
  const s = (performance.now() - t0) / 1000;
  agent.destroy();
  return s;
}

async function floorS3(env: NodeJS.ProcessEnv, bucket: string): Promise<number> {
  const store = new S3Store(bucket, '', env);
  const bodies = Array.from({ length: objects }, () => randomBytes(size));
  const limit = pLimit(jobs);
  const t0 = performance.now();
  await Promise.all(bodies.map((b, i) => limit(() => store.client.send(new PutObjectCommand({ Bucket: bucket, Key: `floor/${i}`, Body: b, ContentLength: b.length })))));
  const s = (performance.now() - t0) / 1000;
  await store.close();
  return s;
}

const tmp = await mkdtemp(path.join(os.tmpdir(), 'meph-bench-publish-'));
const swift = await startSwift();
try {
  const streamDir = path.join(tmp, 'stream');
  await makeStream(streamDir);
  const auth = await fetch(swift.authUrl, { headers: { 'X-Auth-User': swift.user, 'X-Auth-Key': swift.key } });
  const token = auth.headers.get('x-auth-token')!;
  console.log(`publish bench: ${objects} × ${size} B data objects + 2 metadata files, --jobs ${jobs}, single-node Swift 2.30 on 127.0.0.1 (load ${os.loadavg()[0]!.toFixed(1)})`);
  for (const api of apis) {
    // floor, publish, floor, publish, …, floor: each publish against the floors either side of it,
    // and the median of the rounds, so one burst of load from elsewhere does not decide the figure
    const containers = [...Array.from({ length: rounds + 1 }, (_, i) => `${api}-floor${i}`), ...Array.from({ length: rounds }, (_, i) => `${api}-pub${i}`)];
    for (const c of containers) await fetch(`${swift.storageUrl}/${c}`, { method: 'PUT', headers: { 'X-Auth-Token': token } });
    const floor = (n: string): Promise<number> => (api === 'native' ? floorNative(swift.storageUrl, token, `${api}-${n}`) : floorS3(swift.env, `${api}-${n}`));
    const cpuMs = (u: NodeJS.CpuUsage): number => (u.user + u.system) / 1000;
    const floorCpu: number[] = [];
    const timedFloor = async (n: string): Promise<number> => {
      const c0 = process.cpuUsage();
      const t = await floor(n);
      floorCpu.push(cpuMs(process.cpuUsage(c0)));
      return t;
    };
    const floors = [await timedFloor('floor0')];
    const ratios: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const store = openTarget(api === 'native' ? `swift://${api}-pub${round}` : `s3://${api}-pub${round}`, { env: swift.env, concurrency: jobs });
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      const at: Record<string, number> = {};
      const r = await publishStream({
        store, streamDir, jobs,
        onEvent: (e) => {
          if (e.type === 'stream-verified' || e.type === 'lease-acquired' || e.type === 'published') at[e.type] = performance.now();
          else if (e.type === 'object-uploaded' && e.kind === 'data') at['first-put'] ??= performance.now();
          else if (e.type === 'progress' && e.step === 'data' && e.done === e.total) at['data'] = performance.now();
        },
      });
      const pub = (performance.now() - t0) / 1000;
      const pubCpu = cpuMs(process.cpuUsage(c0));
      const span = (a: number | undefined, b: number | undefined): string => (a !== undefined && b !== undefined ? ((b - a) / 1000).toFixed(2) : '?');
      // (the lease is taken while the last data uploads: "lease" is what remained after the data, often ≤ 0)
      const phases = `verify ${span(t0, at['stream-verified'])} s, open+list ${span(at['stream-verified'], at['first-put'])} s, data ${span(at['first-put'], at['data'])} s, lease ${span(at['data'], at['lease-acquired'])} s, metadata+read-back ${span(at['lease-acquired'] !== undefined && at['data'] !== undefined ? Math.max(at['lease-acquired'], at['data']) : undefined, at['published'])} s`;
      const t1 = performance.now();
      const again = await publishStream({ store, streamDir, jobs });
      const rerun = (performance.now() - t1) / 1000;
      await store.close();
      floors.push(await timedFloor(`floor${round + 1}`));
      const [f1, f2] = floors.slice(-2) as [number, number];
      const floorS = (f1 + f2) / 2;
      if (r.uploaded.length !== objects || again.uploaded.length !== 0) throw new Error(`unexpected counts: ${r.uploaded.length} then ${again.uploaded.length}`);
      ratios.push(pub / floorS);
      console.log(
        `${api.padEnd(6)} round ${round + 1}/${rounds}: floor ${f1.toFixed(2)} s / ${f2.toFixed(2)} s (${(objects / floorS).toFixed(0)} PUT/s), publish ${pub.toFixed(2)} s → ${(pub / floorS).toFixed(2)} × floor; rerun (all skipped) ${rerun.toFixed(2)} s`,
      );
      console.log(`        publish phases: ${phases}; this process's CPU per object: floor ${(floorCpu.at(-1)! / objects).toFixed(2)} ms, publish ${(pubCpu / objects).toFixed(2)} ms`);
    }
    const sorted = [...ratios].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)]!;
    console.log(`${api.padEnd(6)}: publish ${median.toFixed(2)} × floor (median of ${rounds} rounds: ${ratios.map((x) => x.toFixed(2)).join(', ')}; goal ≤ 1.3) (load ${os.loadavg()[0]!.toFixed(1)})`);
  }
} finally {
  await swift.stop();
  await rm(tmp, { recursive: true, force: true });
}
