import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { text as streamText } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHARED_DIR } from '@meph/test-support';
import { HttpError, MissingFileError, NetworkError, SignatureRequiredError, UnsafePathError } from '../errors.js';
import type { SignatureVerifier, VerifiedPayload } from '../model.js';
import { extractClearsignedPayload } from './clearsign.js';
import { openSource, openSource as openSourceFs } from './source.js';
import { createHttpClient } from '@meph/http';
import { startStaticServer, type StaticServer } from './__fixtures__/static-server.js';

const FOOCLOUD = path.join(SHARED_DIR, 'reference/streams/simplestreams-examples/foocloud');
const STREAMS = path.join(SHARED_DIR, 'reference/streams');

/**
 * Policy plumbing only: a stand-in verifier that "verifies" any clearsigned text and returns a
 * payload of its own, so tests can see that the reader uses the verifier's payload and nothing
 * else. Real signatures are proven by @meph/signer's tests.
 */
function fakeVerifier(payloadFor: (text: string) => string = (t) => extractClearsignedPayload(t, 'fake')): SignatureVerifier & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    async verifyClearsigned(text: string, source: string): Promise<VerifiedPayload> {
      calls.push(source);
      return { payload: payloadFor(text), fingerprint: 'F'.repeat(40), keyId: 'FFFFFFFFFFFFFFFF', signedAt: new Date(0) };
    },
    async verifyDetached() {
      throw new Error('not used');
    },
  };
}

function wrapSigned(json: string): string {
  return `-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\n${json}\n-----BEGIN PGP SIGNATURE-----\n\nAAAA\n=AAAA\n-----END PGP SIGNATURE-----\n`;
}

describe('openSource on a directory', () => {
  const source = openSource('./simplestreams-examples/foocloud', { cwd: STREAMS });

  it('joins paths like simplestreams (root + path) and reads documents', async () => {
    expect(source.root).toBe('./simplestreams-examples/foocloud/');
    expect(source.url('streams/v1/index.json')).toBe('./simplestreams-examples/foocloud/streams/v1/index.json');
    const index = await source.readIndex();
    expect(Object.keys(index.index)).toEqual(['com.example.foovendor:released:aws', 'com.example.foovendor:released:download']);
    const products = await source.readProducts('streams/v1/com.example.foovendor:released:download.json');
    expect(products.content_id).toBe('com.example.foovendor:released:download');
  });

  it('streams data files and answers exists', async () => {
    const rel = 'files/beta-2/foovendor-6.1-beta2-server-cloudimg-amd64.tar.gz';
    expect(await streamText(await source.openData(rel))).toBe(await readFile(path.join(FOOCLOUD, rel), 'utf8'));
    expect(await source.exists(rel)).toBe(true);
    expect(await source.exists('files/nope')).toBe(false);
  });

  it('names the missing file and what referenced it', async () => {
    const err = await source.readProducts('streams/v1/gone.json', { referencedBy: './streams/v1/index.json' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MissingFileError);
    expect((err as Error).message).toBe('./simplestreams-examples/foocloud/streams/v1/gone.json: no such file (referenced by ./streams/v1/index.json)');
    await expect(source.openData('files/missing.img')).rejects.toThrow(MissingFileError);
  });

  it.each(['../../keys/juju-test-key-607AEAF0.gpg', '/etc/passwd', 'files/../../x', 'a\\b'])('refuses the unsafe path %s before any I/O', async (p) => {
    await expect(source.readText(p)).rejects.toThrow(UnsafePathError);
    await expect(source.openData(p)).rejects.toThrow(UnsafePathError);
    await expect(source.exists(p)).rejects.toThrow(UnsafePathError);
  });
});

describe('signature policies (fake verifier: plumbing only)', () => {
  let dir: string;
  const unsigned = '{"format": "products:1.0", "content_id": "c", "products": {}, "which": "json"}';
  const signedJson = '{"format": "products:1.0", "content_id": "c", "products": {}, "which": "sjson"}';
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'meph-source-'));
    await mkdir(path.join(dir, 'streams/v1'), { recursive: true });
    await writeFile(path.join(dir, 'streams/v1/both.json'), unsigned);
    await writeFile(path.join(dir, 'streams/v1/both.sjson'), wrapSigned(signedJson));
    await writeFile(path.join(dir, 'streams/v1/unsigned.json'), unsigned);
    await writeFile(path.join(dir, 'streams/v1/signed-only.sjson'), wrapSigned(signedJson));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('required: refuses unsigned documents and signed ones without a verifier', async () => {
    await expect(openSource(dir, { policy: 'required', verifier: fakeVerifier() }).readDocument('streams/v1/unsigned.json')).rejects.toThrow(SignatureRequiredError);
    await expect(openSource(dir, { policy: 'required' }).readDocument('streams/v1/signed-only.sjson')).rejects.toThrow(/is signed, and no keyring is configured to check it/);
  });

  it('required: prefers the .sjson sibling and returns only the verifier payload', async () => {
    const verifier = fakeVerifier(() => '{"format": "products:1.0", "content_id": "from-verifier", "products": {}}');
    const doc = await openSource(dir, { policy: 'required', verifier }).readDocument('streams/v1/both.json');
    expect(doc.path).toBe('streams/v1/both.sjson');
    expect((doc.value as { content_id: string }).content_id).toBe('from-verifier');
    expect(doc.signature?.keyId).toBe('FFFFFFFFFFFFFFFF');
    expect(verifier.calls).toEqual([`${dir}/streams/v1/both.sjson`]);
  });

  it('required: a missing .sjson names the .sjson, not a fallback', async () => {
    const err = await openSource(dir, { policy: 'required', verifier: fakeVerifier() }).readDocument('streams/v1/gone.sjson').catch((e: unknown) => e);
    expect((err as Error).message).toBe(`${dir}/streams/v1/gone.sjson: no such file`);
  });

  it('when-present: reads the file named (a .json as it is), verifies signed ones, never reads a signed one unchecked', async () => {
    const verifier = fakeVerifier();
    const src = openSource(dir, { verifier });
    expect(await src.readDocument('streams/v1/both.json')).toMatchObject({ path: 'streams/v1/both.json', value: { which: 'json' } });
    expect(await src.readDocument('streams/v1/both.sjson')).toMatchObject({ path: 'streams/v1/both.sjson', value: { which: 'sjson' } });
    expect(await src.readDocument('streams/v1/signed-only.json')).toMatchObject({ path: 'streams/v1/signed-only.sjson', value: { which: 'sjson' } });
    expect(verifier.calls).toHaveLength(2);
    // No verifier: the unsigned .json is read; a lone .sjson is refused, not extracted unverified.
    expect(await openSource(dir).readDocument('streams/v1/both.json')).toMatchObject({ path: 'streams/v1/both.json' });
    const err = await openSource(dir).readDocument('streams/v1/signed-only.json').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SignatureRequiredError);
    expect((err as Error).message).toBe(`${dir}/streams/v1/signed-only.sjson: is signed, and no keyring is configured to check it`);
  });

  it('off: strips signatures without calling the verifier', async () => {
    const verifier = fakeVerifier();
    const doc = await openSource(dir, { policy: 'off', verifier }).readDocument('streams/v1/signed-only.sjson');
    expect(doc.value).toMatchObject({ which: 'sjson' });
    expect(verifier.calls).toEqual([]);
  });
});

describe('openSource over HTTP (real server on 127.0.0.1)', () => {
  let server: StaticServer;
  // one retry, no backoff wait: the transport's retry policy is @meph/http's to test
  const http = createHttpClient({ env: {}, retries: 1, sleep: async () => {} });
  const openSource: typeof openSourceFs = (location, o) => openSourceFs(location, { http, ...o });
  beforeAll(async () => {
    server = await startStaticServer(STREAMS);
  });
  afterAll(() => server.close());

  it('reads index, products and data', async () => {
    const src = openSource(`${server.url}simplestreams-examples/foocloud`);
    expect(src.url('streams/v1/index.json')).toBe(`${server.url}simplestreams-examples/foocloud/streams/v1/index.json`);
    const index = await src.readIndex();
    expect(index.format).toBe('index:1.0');
    const rel = 'files/release-20121001/foovendor-6.1-server-cloudimg-i386-disk1.img';
    expect(await streamText(await src.openData(rel))).toBe(await readFile(path.join(FOOCLOUD, rel), 'utf8'));
    expect(await src.exists(rel)).toBe(true);
    expect(await src.exists('files/none')).toBe(false);
  });

  it('reports 404 and 500 with the URL and status', async () => {
    const src = openSource(server.url);
    const e404 = await src.readIndex('streams/v1/nothing.json', { referencedBy: 'the test' }).catch((e: unknown) => e);
    expect(e404).toBeInstanceOf(HttpError);
    expect(e404).toMatchObject({ status: 404, url: `${server.url}streams/v1/nothing.json` });
    expect((e404 as Error).message).toBe(`${server.url}streams/v1/nothing.json: HTTP 404 Not Found (referenced by the test)`);
    const e500 = await src.readText('status/500/streams/v1/index.json').catch((e: unknown) => e);
    expect(e500).toMatchObject({ name: 'HttpError', status: 500, message: `${server.url}status/500/streams/v1/index.json: HTTP 500 Internal Server Error` });
    await expect(src.openData('status/503/x')).rejects.toMatchObject({ status: 503 });
  });

  it('reports an unreachable server as a NetworkError', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const err = await openSource(`http://127.0.0.1:${port}/`).readIndex().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkError);
    expect((err as Error).message).toBe(`http://127.0.0.1:${port}/streams/v1/index.json: cannot fetch: ECONNREFUSED (gave up after 2 attempts)`);
  });
});
