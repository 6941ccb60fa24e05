/**
 * Benchmark: `meph2-util mirror`'s library (mirrorStream) copying a stream of ~2,000 small
 * files from the loopback fixture server with 20 ms of injected latency per request, against
 * the floor of files × latency / jobs (issue 13 goal: within 1.2×).
 *
 *   npx tsx --conditions=@meph/source tools/bench/mirror.ts [--files 2000] [--latency 20] [--jobs 10] [--runs N] [--compare] [--cpu-prof DIR] [--warm-server]
 *
 * `--compare` alternates each run with one where every download fsyncs its file and directory
 * itself (the transport's default, what the mirror did before it batched durability), so the
 * two are measured under the same machine load.
 *
 * `--cpu-prof DIR` writes one V8 CPU profile per timed run (`run-N-MODE.cpuprofile`, open in
 * Chrome DevTools), covering exactly the measured interval: the first run in a process can be
 * compared with later ones.
 *
 * `--warm-server` has another process fetch every file once before the first timed run, so
 * that the first run measures a cold client against a warm server (a real mirror's server has
 * been up for a while; the fixture server starts with the bench, its first requests run cold
 * code too). Without it the first run includes the fixture server's warm-up.
 *
 * The metadata (index + one products file) costs two more sequential requests; the ratio is
 * reported against the data-only floor and against the floor including them.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildIndex, serializeJson, type Product, type ProductsDocument } from '@meph/simplestreams';
import { mirrorHttpClient, mirrorStream } from '@meph/simplestreams/mirror';
import type { HttpClient } from '@meph/http';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { Session } from 'node:inspector';

const { values } = parseArgs({
  options: {
    files: { type: 'string', default: '2000' },
    latency: { type: 'string', default: '20' },
    jobs: { type: 'string', default: '10' },
    runs: { type: 'string', default: '1' },
    compare: { type: 'boolean', default: false },
    'cpu-prof': { type: 'string' },
    'warm-server': { type: 'boolean', default: false },
  },
});
const runs = Math.max(1, Number(values.runs));
const files = Number(values.files);
const latency = Number(values.latency);
const jobs = Number(values.jobs);

const profileDir = values['cpu-prof'] ? path.resolve(values['cpu-prof']) : undefined;
let session: Session | undefined;
if (profileDir) {
  await mkdir(profileDir, { recursive: true });
  const { Session } = await import('node:inspector');
  session = new Session();
  session.connect();
}
const inspect = <T = unknown>(method: string, params?: object): Promise<T> =>
  new Promise((resolve, reject) => session!.post(method, params ?? {}, (err, res) => (err ? reject(err) : resolve(res as T))));

/** Fetches each path listed in a file once over keep-alive connections (argv: base URL, list file, parallel). */
const WARM_SCRIPT = `
const http = require('node:http');
const [base, list, parallel] = process.argv.slice(1);
const paths = require('node:fs').readFileSync(list, 'utf8').split('\\n').filter(Boolean);
const agent = new http.Agent({ keepAlive: true });
let next = 0;
const one = () => new Promise((resolve, reject) => {
  if (next >= paths.length) return resolve(false);
  http.get(base + '/' + paths[next++], { agent }, (res) => {
    if (res.statusCode !== 200) return reject(new Error('HTTP ' + res.statusCode));
    res.resume().on('end', () => resolve(true));
  }).on('error', reject);
});
const worker = async () => { while (await one()); };
Promise.all(Array.from({ length: Number(parallel) }, worker)).then(() => { agent.destroy(); }, (err) => { console.error(err.message); process.exit(1); });
`;

const tmp = await mkdtemp(path.join(os.tmpdir(), 'meph-bench-mirror-'));
try {
  const src = path.join(tmp, 'src');
  const products: Record<string, Product> = {};
  const rels: string[] = [];
  const perProduct = 10;
  for (let i = 0; i < files; i++) {
    const pid = `com.example:bench:p${Math.floor(i / perProduct)}`;
    const version = `2026${String(i % perProduct).padStart(4, '0')}`;
    const rel = `files/p${Math.floor(i / perProduct)}/${version}/blob.bin`;
    rels.push(rel);
    const data = Buffer.alloc(512, `${i}-`);
    await mkdir(path.dirname(path.join(src, rel)), { recursive: true });
    await writeFile(path.join(src, rel), data);
    const p = (products[pid] ??= { arch: 'amd64', versions: {} } as unknown as Product);
    p.versions[version] = { items: { blob: { ftype: 'blob', path: rel, size: data.length, sha256: createHash('sha256').update(data).digest('hex') } } };
  }
  const doc = { format: 'products:1.0', content_id: 'com.example:bench', datatype: 'image-downloads', updated: 'Mon, 30 Nov 2026 12:00:00 +0000', products } as ProductsDocument;
  const rel = 'streams/v1/com.example:bench.json';
  await mkdir(path.join(src, 'streams/v1'), { recursive: true });
  await writeFile(path.join(src, rel), serializeJson(doc));
  await writeFile(path.join(src, 'streams/v1/index.json'), serializeJson(buildIndex([{ path: rel, doc }])));

  // The server runs in its own process, as a remote mirror would: its CPU is not the client's.
  const cli = fileURLToPath(new URL('../fixture-server/cli.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', cli, src, '--port', '0', '--latency', String(latency)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let buf = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      const m = /serving .* at (http:\/\/\S+)/.exec(buf);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`fixture server exited (${code})`)));
  });
  try {
    const env = { ...process.env, http_proxy: '', https_proxy: '' };
    const floor = (files * latency) / jobs / 1000;
    const floorAll = floor + (2 * latency) / 1000;
    console.log(`mirror: ${files} files, latency ${latency} ms/request, --jobs ${jobs}, floor ${floor.toFixed(2)} s`);
    if (values['warm-server']) {
      // every file fetched once by a separate plain node:http process: the server's code is
      // warm, the client process (meph's code) stays as cold as without the flag
      const list = path.join(tmp, 'warm-paths.txt');
      await writeFile(list, rels.join('\n'));
      const warm = spawn(process.execPath, ['-e', WARM_SCRIPT, url, list, String(jobs)], { stdio: 'inherit' });
      const [code] = (await once(warm, 'exit')) as [number | null];
      if (code !== 0) throw new Error(`server warm-up exited ${code}`);
    }
    const modes: Array<'batched' | 'per-file'> = values.compare ? ['batched', 'per-file'] : ['batched'];
    for (let run = 1; run <= runs; run++) {
      for (const mode of modes) {
        const out = path.join(tmp, `out-${run}-${mode}`);
        const http = mirrorHttpClient({ jobs, perHost: jobs, env });
        // per-file: drop the mirror's sync batch, so each download syncs itself as it finishes
        const client: HttpClient = mode === 'batched' ? http : Object.assign(Object.create(http) as HttpClient, {
          download: (url: string, dest: string, o: Parameters<HttpClient['download']>[2] = {}) => {
            const { syncBatch: _, ...rest } = o;
            return http.download(url, dest, rest);
          },
        });
        if (session) {
          await inspect('Profiler.enable');
          await inspect('Profiler.start');
        }
        const t0 = performance.now();
        const cpu0 = process.cpuUsage();
        let firstData = 0;
        let lastData = 0;
        let firstMeta = 0;
        const result = await mirrorStream(`${url}/`, out, {
          jobs, perHost: jobs, env, http: client,
          onCommit: (kind) => {
            if (kind === 'data') {
              lastData = performance.now();
              firstData ||= lastData;
            }
            else if (!firstMeta) firstMeta = performance.now();
          },
        });
        const wall = (performance.now() - t0) / 1000;
        const cpu = process.cpuUsage(cpu0);
        if (session) {
          const { profile } = await inspect<{ profile: object }>('Profiler.stop');
          await writeFile(path.join(profileDir!, `run-${run}-${mode}.cpuprofile`), JSON.stringify(profile));
        }
        http.close();
        if (result.downloaded !== files) throw new Error(`expected ${files} downloads, got ${result.downloaded}`);
        console.log(
          `${mode.padEnd(8)} run ${run}: wall ${wall.toFixed(2)} s → ratio ${(wall / floor).toFixed(2)}× (with the 2 metadata requests: ${(wall / floorAll).toFixed(2)}×); ` +
            `client CPU ${(cpu.user / 1e6).toFixed(2)} s user + ${(cpu.system / 1e6).toFixed(2)} s system; start → first data file ${((firstData - t0) / 1000).toFixed(2)} s; last data file → products ${((firstMeta - lastData) / 1000).toFixed(2)} s; load ${os.loadavg()[0]!.toFixed(2)}`,
        );
        // Each run's output stays until the end (all of tmp goes then): deleting it here made every
        // later run slower in the kernel, not in meph. On ext4 without a journal (this machine's
        // root), the inode allocator skips inodes freed in the last minute (up to six while their
        // inode-table block is dirty), reading each one's block (recently_deleted): the 4,200
        // inodes one run frees turned the next run's mkdir/open calls into scans (client system
        // CPU 0.6 → 2.7 s over five runs). A bench process started soon after another one (or
        // after any mass delete under the same tmp) still pays it: compare CPU, or wait.
      }
    }
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit').catch(() => {});
  }
} finally {
  await rm(tmp, { recursive: true, force: true });
}
