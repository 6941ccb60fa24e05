import { cp, readdir, readFile, stat, writeFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHARED_DIR } from '@meph/test-support';
import { GnupgHome, gpgv } from './__fixtures__/gnupg.js';
import { createGpgSigner, createOpenPgpSigner, createVerifier, signStream, StreamDirError, type SignStreamEvent, type Signer } from './index.js';

const FOOCLOUD = path.join(SHARED_DIR, 'reference', 'streams', 'simplestreams-examples', 'foocloud');
const PRODUCTS = ['com.example.foovendor:released:aws', 'com.example.foovendor:released:download'];

let home: GnupgHome;
let fpr: string;
let keyring: string;
let signer: Signer;
let work: string;

beforeAll(async () => {
  home = await GnupgHome.create();
  fpr = await home.generate('Stream Signer <stream@example.invalid>');
  keyring = await home.exportPublic([fpr], 'pub.gpg');
  signer = await createOpenPgpSigner({ key: (await home.exportSecret(fpr)).toString() });
  work = await mkdtemp(path.join(os.tmpdir(), 'meph-signstream-'));
}, 30_000);

afterAll(async () => {
  await home?.dispose();
  if (work) await rm(work, { recursive: true, force: true });
});

async function freshMirror(name: string): Promise<string> {
  const root = path.join(work, name);
  await cp(path.join(FOOCLOUD, 'streams'), path.join(root, 'streams'), { recursive: true });
  return root;
}

async function snapshot(dir: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const name of await readdir(dir)) out[name] = (await stat(path.join(dir, name))).mtimeMs;
  return out;
}

async function sign(root: string, s: Signer = signer): Promise<SignStreamEvent[]> {
  const events: SignStreamEvent[] = [];
  await signStream(root, s, { onEvent: (e) => events.push(e) });
  return events;
}

describe('signStream', () => {
  it('writes .sjson and .json.gpg for every streams/v1 JSON; GnuPG verifies them all', async () => {
    const root = await freshMirror('a');
    await rm(path.join(root, 'streams', 'v1', 'index.json'));
    const events = await sign(root);
    const v1 = path.join(root, 'streams', 'v1');
    const names = (await readdir(v1)).sort();
    expect(names).toEqual(
      ['index', ...PRODUCTS].flatMap((n) => [`${n}.json`, `${n}.json.gpg`, `${n}.sjson`]).sort(),
    );
    expect(events.some((e) => e.type === 'index-regenerated')).toBe(true);
    const done = events.find((e) => e.type === 'stream-signed');
    expect(done).toMatchObject({ files: 3, written: 6, unchanged: 0, fingerprint: fpr });
    // Index signed last.
    const signedOrder = events.filter((e) => e.type === 'file-signed').map((e) => (e as { path: string }).path);
    expect(signedOrder.slice(-2).every((p) => p.startsWith('streams/v1/index.'))).toBe(true);

    for (const n of ['index', ...PRODUCTS]) {
      expect((await gpgv(keyring, [path.join(v1, `${n}.sjson`)])).code).toBe(0);
      expect((await gpgv(keyring, [path.join(v1, `${n}.json.gpg`), path.join(v1, `${n}.json`)])).code).toBe(0);
    }

    const verifier = await createVerifier({ keyrings: [keyring] });
    // Products files are clearsigned verbatim.
    for (const n of PRODUCTS) {
      const v = await verifier.verifyClearsigned(await readFile(path.join(v1, `${n}.sjson`), 'utf8'), n);
      // Cleartext signatures do not cover trailing spaces (these 2013 files end lines with ", ").
      const original = (await readFile(path.join(v1, `${n}.json`), 'utf8')).replace(/ +$/gm, '');
      expect(v.payload.trimEnd()).toBe(original.trimEnd());
    }
    // The signed index points at the signed products files, the plain one at the plain files.
    const plain = JSON.parse(await readFile(path.join(v1, 'index.json'), 'utf8')) as { index: Record<string, { path: string }> };
    const signed = JSON.parse((await verifier.verifyClearsigned(await readFile(path.join(v1, 'index.sjson'), 'utf8'), 'index.sjson')).payload) as typeof plain;
    expect(Object.keys(signed.index).sort()).toEqual(Object.keys(plain.index).sort());
    for (const [cid, entry] of Object.entries(plain.index)) {
      expect(entry.path).toMatch(/^streams\/v1\/.*\.json$/);
      expect(signed.index[cid]!.path).toBe(entry.path.replace(/\.json$/, '.sjson'));
      await stat(path.join(root, signed.index[cid]!.path));
    }
  });

  it('is idempotent: a second run changes nothing; a changed products file is re-signed alone', async () => {
    const root = await freshMirror('b');
    const v1 = path.join(root, 'streams', 'v1');
    await sign(root);
    const before = await snapshot(v1);
    await new Promise((r) => setTimeout(r, 20));
    const again = await sign(root);
    expect(again.find((e) => e.type === 'stream-signed')).toMatchObject({ written: 0, unchanged: 6 });
    expect(again.some((e) => e.type === 'index-regenerated' || e.type === 'file-signed')).toBe(false);
    expect(await snapshot(v1)).toEqual(before);

    // Drop one product: its file and the index change, the other products file does not.
    const file = path.join(v1, `${PRODUCTS[1]}.json`);
    const doc = JSON.parse(await readFile(file, 'utf8')) as { products: Record<string, unknown> };
    const [first] = Object.keys(doc.products);
    delete doc.products[first!];
    await writeFile(file, `${JSON.stringify(doc, null, 1)}\n`);
    const third = await sign(root);
    const paths = third.filter((e) => e.type === 'file-signed').map((e) => (e as { path: string }).path).sort();
    expect(paths).toEqual(
      [`streams/v1/${PRODUCTS[1]}.json.gpg`, `streams/v1/${PRODUCTS[1]}.sjson`, 'streams/v1/index.json.gpg', 'streams/v1/index.sjson'].sort(),
    );
    expect(third.some((e) => e.type === 'index-regenerated')).toBe(true);
    const index = JSON.parse(await readFile(path.join(v1, 'index.json'), 'utf8')) as { index: Record<string, { products: string[] }> };
    expect(index.index['com.example.foovendor:released:download']!.products).not.toContain(first);
    expect(index.index['com.example.foovendor:released:aws']!.products).toContain(first);
    expect((await snapshot(v1))[`${PRODUCTS[0]}.sjson`]).toBe(before[`${PRODUCTS[0]}.sjson`]);
    // No temp file left behind.
    expect((await readdir(v1)).filter((n) => n.startsWith('.'))).toEqual([]);
  });

  it('re-signs everything with another key, here through the system gpg', async () => {
    const root = await freshMirror('c');
    await sign(root);
    const otherFpr = await home.generate('Other Signer <other@example.invalid>');
    const otherRing = await home.exportPublic([otherFpr], 'other.gpg');
    const events = await sign(root, createGpgSigner({ localUser: otherFpr, gnupgHome: home.dir }));
    expect(events.find((e) => e.type === 'stream-signed')).toMatchObject({ written: 6, fingerprint: otherFpr });
    const v1 = path.join(root, 'streams', 'v1');
    for (const n of ['index', ...PRODUCTS]) {
      expect((await gpgv(otherRing, [path.join(v1, `${n}.sjson`)])).code).toBe(0);
      expect((await gpgv(keyring, [path.join(v1, `${n}.sjson`)])).code).not.toBe(0);
    }
  });

  it('refuses a directory that is not a mirror root', async () => {
    await expect(signStream(work, signer)).rejects.toBeInstanceOf(StreamDirError);
  });
});
