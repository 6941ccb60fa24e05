/**
 * Benchmark: `publishStream` of a stream with N × 4 KB data objects to a real single-node
 * Swift (started here, as the tests do), against the floor measured in the same run: the same
 * number of bare 4 KB PUTs at the same concurrency, straight to the store (native API with a
 * keep-alive agent; S3 with the SDK's PutObject on its default handler). Goal: publish ≤ 1.3 × floor.
 *
 *   npx tsx --conditions=@meph/source tools/bench/publish.ts [--objects 1000] [--size 4096] [--jobs 8] [--api native|s3|both] [--rounds 3]
 *
 * The machine is shared, so one floor run can be twice another minutes apart: the bench runs
 * floor, publish, floor, publish, …, floor (fresh containers each), compares every publish with
 * the mean of the floors either side of it, and reports each ratio and their median.
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
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { buildIndex, serializeJson, type ProductsDocument } from '@meph/simplestreams';
import { openTarget, publishStream } from '@meph/publish';
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

/**
 * The store's own PUT rate through S3: a bare SDK client with its default request handler (not
 * meph's transport, no Content-MD5, no conditional PUT), the same endpoint and concurrency.
 */
async function floorS3(env: NodeJS.ProcessEnv, bucket: string): Promise<number> {
  const client = new S3Client({
    region: 'us-east-1',
    endpoint: env['AWS_ENDPOINT_URL_S3'] ?? env['AWS_ENDPOINT_URL']!,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    credentials: { accessKeyId: env['AWS_ACCESS_KEY_ID']!, secretAccessKey: env['AWS_SECRET_ACCESS_KEY']! },
  });
  const bodies = Array.from({ length: objects }, () => randomBytes(size));
  const limit = pLimit(jobs);
  const t0 = performance.now();
  await Promise.all(bodies.map((b, i) => limit(() => client.send(new PutObjectCommand({ Bucket: bucket, Key: `floor/${i}`, Body: b, ContentLength: b.length })))));
  const s = (performance.now() - t0) / 1000;
  client.destroy();
  return s;
}

process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true'; // the pinned SDK supports Node 20
const tmp = await mkdtemp(path.join(os.tmpdir(), 'meph-bench-publish-'));
const swift = await startSwift();
try {
  const streamDir = path.join(tmp, 'stream');
  await makeStream(streamDir);
  const auth = await fetch(swift.authUrl, { headers: { 'X-Auth-User': swift.user, 'X-Auth-Key': swift.key } });
  const token = auth.headers.get('x-auth-token')!;
  console.log(`publish bench: ${objects} × ${size} B data objects + 2 metadata files, --jobs ${jobs}, single-node Swift 2.30 on 127.0.0.1 (load ${os.loadavg()[0]!.toFixed(1)})`);
  for (const api of apis) {
    const container = async (c: string): Promise<string> => {
      await fetch(`${swift.storageUrl}/${c}`, { method: 'PUT', headers: { 'X-Auth-Token': token } });
      return c;
    };
    const floor = async (n: number): Promise<number> => {
      const c = await container(`${api}-floor${n}`);
      return api === 'native' ? floorNative(swift.storageUrl, token, c) : floorS3(swift.env, c);
    };
    // floor, publish, floor, publish, …, floor: each publish against the floors either side of it.
    const floors = [await floor(0)];
    const pubs: number[] = [];
    let rerun = 0;
    for (let round = 0; round < rounds; round++) {
      const c = await container(`${api}-pub${round}`);
      const store = openTarget(api === 'native' ? `swift://${c}` : `s3://${c}`, { env: swift.env, concurrency: jobs });
      const t0 = performance.now();
      const r = await publishStream({ store, streamDir, jobs });
      pubs.push((performance.now() - t0) / 1000);
      if (round === rounds - 1) {
        const t1 = performance.now();
        const again = await publishStream({ store, streamDir, jobs });
        rerun = (performance.now() - t1) / 1000;
        if (again.uploaded.length !== 0) throw new Error(`rerun uploaded ${again.uploaded.length}`);
      }
      await store.close();
      if (r.uploaded.length !== objects) throw new Error(`unexpected count: ${r.uploaded.length}`);
      floors.push(await floor(round + 1));
    }
    const ratios = pubs.map((p, i) => p / ((floors[i]! + floors[i + 1]!) / 2));
    const median = [...ratios].sort((a, b) => a - b)[Math.floor(ratios.length / 2)]!;
    const meanFloor = floors.reduce((a, b) => a + b, 0) / floors.length;
    console.log(
      `${api.padEnd(6)}: floors ${floors.map((f) => f.toFixed(2)).join(' / ')} s (${(objects / meanFloor).toFixed(0)} PUT/s), publishes ${pubs.map((p) => p.toFixed(2)).join(' / ')} s → ${ratios.map((r) => r.toFixed(2)).join(', ')} × floor; median ${median.toFixed(2)} × floor (goal ≤ 1.3); rerun (all skipped) ${rerun.toFixed(2)} s`,
    );
  }
} finally {
  await swift.stop();
  await rm(tmp, { recursive: true, force: true });
}
