import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildIndex, serializeJson, type ProductsDocument } from '@meph/simplestreams';
import {
  acquireLease,
  CredentialsError,
  FsStore,
  LEASE_KEY,
  LeaseHeldError,
  ObjectConflictError,
  openTarget,
  planPrune,
  publishStream,
  publishToTarget,
  PublishRequestError,
  S3Store,
  StreamInvalidError,
  SwiftStore,
  swiftAuthFromEnv,
  swiftContainerTarget,
  TargetError,
  type PublishEvent,
  type PublishRequest,
  type StoreStream,
} from './index.js';

let dir: string;
beforeAll(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'meph-publish-'));
});
afterAll(async () => {
  await fsp.rm(dir, { recursive: true, force: true });
});

const CID = 'com.example:test:download';

/** A small unsigned stream: one product, the given versions, two files each (content from the path). */
async function stream(name: string, versions: string[], content: (rel: string) => string = (rel) => `bytes of ${rel}\n`): Promise<string> {
  const root = path.join(dir, name);
  const doc: ProductsDocument = { format: 'products:1.0', content_id: CID, datatype: 'image-downloads', updated: 'Thu, 23 Jul 2026 10:07:14 +0000', products: {} };
  const product = { arch: 'amd64', release: 'noble', versions: {} as Record<string, { items: Record<string, Record<string, unknown>> }> };
  for (const v of versions) {
    const items: Record<string, Record<string, unknown>> = {};
    for (const f of ['root.squashfs', 'boot-kernel']) {
      const rel = `noble/amd64/${v}/${f}`;
      const bytes = Buffer.from(content(rel));
      await fsp.mkdir(path.dirname(path.join(root, rel)), { recursive: true });
      await fsp.writeFile(path.join(root, rel), bytes);
      items[f] = { ftype: f, path: rel, size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex'), md5: createHash('md5').update(bytes).digest('hex') };
    }
    product.versions[v] = { items };
  }
  (doc.products as Record<string, unknown>)['com.example:noble:amd64'] = product;
  await fsp.mkdir(path.join(root, 'streams/v1'), { recursive: true });
  await fsp.writeFile(path.join(root, `streams/v1/${CID}.json`), serializeJson(doc));
  await fsp.writeFile(path.join(root, 'streams/v1/index.json'), serializeJson(buildIndex([{ path: `streams/v1/${CID}.json`, doc }])));
  return root;
}

async function files(root: string): Promise<string[]> {
  return (await new FsStore(root).list()).map((o) => o.key);
}

describe('openTarget', () => {
  it('parses swift://, s3://, file:// and bare paths; --prefix is joined after the URL prefix', () => {
    const sw = openTarget('swift://images/ephemeral-v3', { prefix: 'stable/', env: {} });
    expect(sw).toBeInstanceOf(SwiftStore);
    expect(sw.label).toBe('swift://images/ephemeral-v3/stable');
    const s3 = openTarget('s3://bucket', { env: { AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9', AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b' } });
    expect(s3).toBeInstanceOf(S3Store);
    expect(s3.readUrl).toBe('http://127.0.0.1:9/bucket/');
    expect(openTarget('file:///srv/mirror', { prefix: 'daily' }).label).toBe('file:///srv/mirror/daily');
    expect(openTarget('out.d', { cwd: '/tmp' }).label).toBe('file:///tmp/out.d');
  });
  it('rejects unknown schemes, missing names, relative file:// and .. prefixes with a TargetError', () => {
    expect(() => openTarget('ftp://x')).toThrow(TargetError);
    expect(() => openTarget('swift://')).toThrow(/needs a container name/);
    expect(() => openTarget('file://rel/dir')).toThrow(/absolute path/);
    expect(() => openTarget('swift://c', { prefix: '../other' })).toThrow(/\.\. segments/);
  });
});

describe('planPrune', () => {
  const doc = { format: 'products:1.0', content_id: CID, products: { p: { versions: { v1: { items: { a: { path: 'd/v1/a', size: 1 } } } } } } } as unknown as ProductsDocument;
  const published: StoreStream = { products: new Map([[CID, { key: `streams/v1/${CID}.json`, doc }]]), signed: true };
  const old = new Date('2026-01-01T00:00:00Z');
  const young = new Date('2026-11-30T11:00:00Z');
  const now = Date.parse('2026-11-30T12:00:00Z');
  const o = (key: string, lastModified = old) => ({ key, size: 1, lastModified });
  it('deletes only unreferenced objects older than the grace period, never a signature of a live file', () => {
    const plan = planPrune(
      [o('d/v1/a'), o('d/v1/a.gpg'), o('d/v0/a'), o('d/v0/a.gpg'), o('d/v2/new', young), o(`streams/v1/${CID}.sjson`), o('streams/v1/index.sjson'), o('streams/v1/gone.json'), o(LEASE_KEY)],
      published,
      3 * 86_400_000,
      now,
    );
    expect(plan.delete.map((x) => x.key).sort()).toEqual(['d/v0/a', 'd/v0/a.gpg', 'streams/v1/gone.json']);
    expect(plan.liveSignatures.map((x) => x.key)).toEqual(['d/v1/a.gpg']);
    expect(plan.tooRecent.map((x) => x.key)).toEqual(['d/v2/new']);
  });
});

describe('publishStream to a directory store', () => {
  it('uploads data then metadata (index last), skips identical objects on a rerun, and --dry-run writes nothing', async () => {
    const src = await stream('s1', ['v1', 'v2']);
    const target = path.join(dir, 'store1');
    const dry = await publishStream({ store: new FsStore(target), streamDir: src, dryRun: true });
    expect(dry.uploaded).toHaveLength(4);
    await expect(fsp.access(target)).rejects.toThrow();
    const events: PublishEvent[] = [];
    const r = await publishStream({ store: new FsStore(target), streamDir: src, onEvent: (e) => events.push(e) });
    expect(r.uploaded).toHaveLength(4);
    expect(r.metadata).toEqual([`streams/v1/${CID}.json`, 'streams/v1/index.json']);
    const order = events.filter((e) => e.type === 'object-uploaded').map((e) => (e as { key: string }).key);
    expect(order.slice(-2)).toEqual([`streams/v1/${CID}.json`, 'streams/v1/index.json']);
    expect(await files(target)).toEqual([...(await files(src))]);
    const again = await publishStream({ store: new FsStore(target), streamDir: src });
    expect(again.uploaded).toEqual([]);
    expect(again.metadata).toEqual([]);
    expect(again.skipped).toHaveLength(6);
  });

  it('a data object with other bytes is a conflict and nothing of the metadata changes', async () => {
    const target = path.join(dir, 'store2');
    await publishStream({ store: new FsStore(target), streamDir: await stream('s2a', ['v1']) });
    const index = await fsp.readFile(path.join(target, 'streams/v1/index.json'), 'utf8');
    const other = await stream('s2b', ['v1', 'v2'], (rel) => `rebuilt ${rel}\n`);
    const err = await publishStream({ store: new FsStore(target), streamDir: other }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ObjectConflictError);
    expect((err as Error).message).toMatch(/noble\/amd64\/v1\/(boot-kernel|root.squashfs) already exists with other content/);
    expect(await fsp.readFile(path.join(target, 'streams/v1/index.json'), 'utf8')).toBe(index);
    expect(await fsp.readFile(path.join(target, 'noble/amd64/v1/boot-kernel'), 'utf8')).toBe('bytes of noble/amd64/v1/boot-kernel\n');
  });

  it('keeps versions the store has and the stream lacks (merged into what it writes; the local stream is untouched), unless replace', async () => {
    const target = path.join(dir, 'store3');
    await publishStream({ store: new FsStore(target), streamDir: await stream('s3a', ['v1', 'v2']) });
    const b = await stream('s3b', ['v1', 'v3']);
    const localBefore = await fsp.readFile(path.join(b, `streams/v1/${CID}.json`), 'utf8');
    const events: string[] = [];
    const merged = await publishStream({ store: new FsStore(target), streamDir: b, onEvent: (e) => events.push(e.type) });
    expect(events).toContain('merged');
    expect(merged.metadata).toContain(`streams/v1/${CID}.json`);
    const published = JSON.parse(await fsp.readFile(path.join(target, `streams/v1/${CID}.json`), 'utf8')) as { products: Record<string, { versions: Record<string, unknown> }> };
    expect(Object.keys(published.products['com.example:noble:amd64']!.versions).sort()).toEqual(['v1', 'v2', 'v3']);
    expect(JSON.parse(await fsp.readFile(path.join(target, 'streams/v1/index.json'), 'utf8'))).toMatchObject({ index: { [CID]: { path: `streams/v1/${CID}.json` } } });
    expect(await fsp.readFile(path.join(b, `streams/v1/${CID}.json`), 'utf8')).toBe(localBefore);
    await publishStream({ store: new FsStore(target), streamDir: b, replace: true });
    expect(await fsp.readFile(path.join(target, `streams/v1/${CID}.json`), 'utf8')).not.toContain('"v2"');
    expect(await fsp.readFile(path.join(target, `streams/v1/${CID}.json`), 'utf8')).toContain('"v3"');
    expect(await fsp.access(path.join(target, LEASE_KEY)).then(() => 'left', () => 'released')).toBe('released');
  });

  it('prune removes what the published index no longer references, after the grace period', async () => {
    const target = path.join(dir, 'store4');
    await publishStream({ store: new FsStore(target), streamDir: await stream('s4a', ['v1', 'v2']) });
    const b = await stream('s4b', ['v2']);
    const kept = await publishStream({ store: new FsStore(target), streamDir: b, replace: true, pruneOlderThanMs: 86_400_000 });
    expect(kept.pruned).toEqual([]);
    const later = Date.now() + 2 * 86_400_000;
    const r = await publishStream({ store: new FsStore(target), streamDir: b, pruneOlderThanMs: 86_400_000, now: () => later });
    expect(r.pruned.sort()).toEqual(['noble/amd64/v1/boot-kernel', 'noble/amd64/v1/root.squashfs']);
    expect(await files(target)).toEqual(await files(b));
  });

  it('a stream that does not verify publishes nothing', async () => {
    const src = await stream('s5', ['v1']);
    await fsp.writeFile(path.join(src, 'noble/amd64/v1/boot-kernel'), 'corrupted\n');
    const target = path.join(dir, 'store5');
    await expect(publishStream({ store: new FsStore(target), streamDir: src })).rejects.toBeInstanceOf(StreamInvalidError);
    await expect(fsp.access(target)).rejects.toThrow();
  });
});

describe('the lease is taken while the last data objects upload (its settle pause overlaps them)', () => {
  /** A directory store whose data PUTs take `ms` each, logging when data lands and when the lease is written. */
  function slowStore(root: string, ms: number): { store: FsStore; log: string[] } {
    const store = new FsStore(root);
    const log: string[] = [];
    const putNew = store.putNew.bind(store);
    store.putNew = async (key, body) => {
      if (key === LEASE_KEY) {
        log.push('lease');
        return putNew(key, body);
      }
      await new Promise((r) => setTimeout(r, ms));
      const outcome = await putNew(key, body);
      log.push('data');
      return outcome;
    };
    return { store, log };
  }
  const dataBefore = (log: string[], what: string): number => log.slice(0, log.indexOf(what)).filter((l) => l === 'data').length;

  it('the lease is written before the data is all up, but not before most of it', async () => {
    const versions = Array.from({ length: 40 }, (_, i) => `v${String(i).padStart(2, '0')}`);
    const src = await stream('tail1', versions);
    const target = path.join(dir, 'tail1-store');
    const { store, log } = slowStore(target, 25);
    const events: string[] = [];
    const r = await publishStream({ store, streamDir: src, jobs: 4, lease: { settleMs: 100 }, onEvent: (e) => events.push(e.type === 'object-uploaded' ? `${e.type}:${e.kind}` : e.type) });
    expect(r.uploaded).toHaveLength(80);
    const before = dataBefore(log, 'lease');
    expect(before).toBeGreaterThanOrEqual(40);
    expect(before).toBeLessThan(80);
    // and nothing of the metadata is written before the data is all there
    expect(events.indexOf('object-uploaded:metadata')).toBeGreaterThan(events.lastIndexOf('object-uploaded:data'));
    expect(await files(target)).toEqual(await files(src));
    expect(await fsp.access(path.join(target, LEASE_KEY)).then(() => 'left', () => 'released')).toBe('released');
  });

  it('a lease taken early is released when the data fails (a conflict): nothing of the metadata is written', async () => {
    const versions = Array.from({ length: 40 }, (_, i) => `v${String(i).padStart(2, '0')}`);
    const src = await stream('tail2', versions);
    const target = path.join(dir, 'tail2-store');
    await fsp.mkdir(path.join(target, 'noble/amd64/v00'), { recursive: true });
    await fsp.writeFile(path.join(target, 'noble/amd64/v00/boot-kernel'), 'other bytes\n');
    const { store, log } = slowStore(target, 25);
    await expect(publishStream({ store, streamDir: src, jobs: 4, lease: { settleMs: 100 } })).rejects.toBeInstanceOf(ObjectConflictError);
    expect(log).toContain('lease');
    expect(dataBefore(log, 'lease')).toBeLessThan(79);
    expect(await fsp.access(path.join(target, LEASE_KEY)).then(() => 'left', () => 'released')).toBe('released');
    await expect(fsp.access(path.join(target, 'streams/v1/index.json'))).rejects.toThrow();
  });
});

describe('acquireLease', () => {
  it('a second writer waits for the first, then gets the lease; a dead holder on this host is broken', async () => {
    const store = new FsStore(path.join(dir, 'lease1'));
    await store.open({ create: true });
    const first = await acquireLease(store, { settleMs: 0 });
    const events: string[] = [];
    let got = 0;
    const second = acquireLease(store, { settleMs: 0, onEvent: (e) => events.push(e.type) }).then((l) => {
      got = Date.now();
      return l;
    });
    await new Promise((r) => setTimeout(r, 400));
    const released = Date.now();
    await first.release();
    const lease2 = await second;
    expect(got).toBeGreaterThanOrEqual(released);
    expect(events).toContain('lease-wait');
    await lease2.release();

    const dead = { owner: 'x', host: os.hostname(), pid: 2 ** 22 + 12345, acquired: new Date().toISOString(), expires: new Date(Date.now() + 3_600_000).toISOString() };
    await fsp.writeFile(path.join(store.root, LEASE_KEY), JSON.stringify(dead));
    const broken: string[] = [];
    const lease3 = await acquireLease(store, { settleMs: 0, onEvent: (e) => e.type === 'lease-broken' && broken.push(e.reason) });
    expect(broken).toEqual(['its process is gone']);
    await lease3.release();
  });
  it('gives up after waitMs naming the holder; an expired lease is broken', async () => {
    const store = new FsStore(path.join(dir, 'lease2'));
    await store.open({ create: true });
    const other = { owner: 'x', host: 'build-7', pid: 42, acquired: new Date().toISOString(), expires: new Date(Date.now() + 3_600_000).toISOString() };
    await fsp.writeFile(path.join(store.root, LEASE_KEY), JSON.stringify(other));
    await expect(acquireLease(store, { settleMs: 0, waitMs: 300 })).rejects.toThrow(LeaseHeldError);
    await expect(acquireLease(store, { settleMs: 0, waitMs: 300 })).rejects.toThrow(/being published by another writer \(build-7 pid 42/);
    await fsp.writeFile(path.join(store.root, LEASE_KEY), JSON.stringify({ ...other, expires: new Date(Date.now() - 1000).toISOString() }));
    const lease = await acquireLease(store, { settleMs: 0, waitMs: 300 });
    await lease.release();
  });
});

describe('swiftAuthFromEnv', () => {
  it('explains what to set when nothing is set', async () => {
    await expect(swiftAuthFromEnv({})).rejects.toBeInstanceOf(CredentialsError);
    await expect(swiftAuthFromEnv({ ST_AUTH: 'http://127.0.0.1:9/auth/v1.0' })).rejects.toThrow(/ST_USER or ST_KEY is not/);
    expect(await swiftAuthFromEnv({ OS_STORAGE_URL: 'http://s/v1/AUTH_x', OS_AUTH_TOKEN: 't' })).toEqual({ storageUrl: 'http://s/v1/AUTH_x', token: 't' });
  });

  // Keystone itself is not installable in the test environment; this server answers its v3 token API as documented.
  it('Keystone v3: password auth scoped to the project, object-store endpoint from the catalog', async () => {
    let body: unknown;
    const server = http.createServer((req, res) => {
      let data = '';
      req.on('data', (d: Buffer) => (data += d.toString('utf8')));
      req.on('end', () => {
        body = JSON.parse(data);
        if (req.url !== '/v3/auth/tokens' || req.method !== 'POST') {
          res.writeHead(404).end();
          return;
        }
        const catalog = [
          { type: 'identity', endpoints: [{ interface: 'public', region: 'r1', url: 'http://id' }] },
          { type: 'object-store', endpoints: [{ interface: 'internal', region: 'r1', url: 'http://internal/v1/AUTH_p' }, { interface: 'public', region: 'r2', url: 'http://r2/v1/AUTH_p' }, { interface: 'public', region: 'r1', url: 'http://r1/v1/AUTH_p' }] },
        ];
        res.writeHead(201, { 'X-Subject-Token': 'tok', 'Content-Type': 'application/json' }).end(JSON.stringify({ token: { catalog } }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const env = { OS_AUTH_URL: `http://127.0.0.1:${port}/v3`, OS_USERNAME: 'u', OS_PASSWORD: 'pw', OS_PROJECT_NAME: 'images', OS_USER_DOMAIN_NAME: 'Default', OS_PROJECT_DOMAIN_NAME: 'Default', OS_REGION_NAME: 'r1' };
      expect(await swiftAuthFromEnv(env)).toEqual({ storageUrl: 'http://r1/v1/AUTH_p', token: 'tok' });
      expect(body).toEqual({ auth: { identity: { methods: ['password'], password: { user: { name: 'u', password: 'pw', domain: { name: 'Default' } } } }, scope: { project: { name: 'images', domain: { name: 'Default' } } } } });
      expect((await swiftAuthFromEnv({ ...env, OS_INTERFACE: 'internal' })).storageUrl).toBe('http://internal/v1/AUTH_p');
      await expect(swiftAuthFromEnv({ ...env, OS_REGION_NAME: 'r9' })).rejects.toThrow(/no object-store endpoint \(interface public, region r9\)/);
    } finally {
      server.close();
    }
  });
});

describe('publishToTarget (a publish as a command line asks for it)', () => {
  it('publishes to a file:// target, closes the store and names it; refuses what cannot be carried out, with exit status 2', async () => {
    const src = await stream('req1', ['v1']);
    const target = path.join(dir, 'req-store');
    const r = await publishToTarget({ streamDir: 'req1', cwd: dir, target: `file://${target}`, prefix: 'stable', jobs: 2, policy: 'when-present' });
    expect(r.storeLabel).toContain(path.join(target, 'stable'));
    expect(r.uploaded).toHaveLength(2);
    expect(await files(path.join(target, 'stable'))).toEqual(await files(src));

    const refused = async (request: Partial<PublishRequest>): Promise<PublishRequestError> => {
      const err = await publishToTarget({ streamDir: 'req1', cwd: dir, target: `file://${target}`, jobs: 2, policy: 'when-present', ...request }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PublishRequestError);
      expect((err as PublishRequestError).exitCode).toBe(2);
      return err as PublishRequestError;
    };
    expect((await refused({ jobs: 0 })).message).toBe('--jobs must be a positive integer, not 0');
    expect((await refused({ streamDir: 'nowhere' })).message).toBe('nowhere: not a stream directory (no streams/v1 in it)');
    expect((await refused({ publicRead: true })).message).toBe('--public-read only applies to swift:// targets');
    await fsp.writeFile(path.join(src, 'streams/v1/index.sjson'), 'signed');
    const unsigned = await refused({});
    expect(unsigned.message).toBe('req1 is signed and there is no keyring to check it with');
    expect(unsigned.hint).toMatch(/--no-verify/);
    await fsp.rm(path.join(src, 'streams/v1/index.sjson'));
  });

  it('an ss-swift container becomes a swift:// target; a prefix or scheme in it is refused', () => {
    expect(swiftContainerTarget('maas-images')).toBe('swift://maas-images');
    expect(() => swiftContainerTarget('maas-images/stable')).toThrow(/maas-images\/stable: a container name has no \/ or scheme/);
    expect(() => swiftContainerTarget('swift:x')).toThrow(PublishRequestError);
  });
});
