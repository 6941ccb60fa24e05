/**
 * Every signed file of the shared reference streams verifies with its own key (with the
 * weak-algorithm opt-in where the key or hash is weak) and fails with any other key.
 */
import { readdir, readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHARED_DIR } from '@meph/test-support';
import { createVerifier, UnknownKeyError, WeakAlgorithmError } from './index.js';
import { gpgv, run } from './__fixtures__/gnupg.js';

const STREAMS = path.join(SHARED_DIR, 'reference', 'streams');
const KEYS = path.join(STREAMS, 'keys');

/** Which key signs which reference file (README §1.2, §1.3, §3), and what is weak about it. */
const SIGNED: Record<string, { key: string; fingerprint: string; keyId: string; weak: RegExp }> = {
  'cloud-images-2016-index-juju-testkey/streams/v1/index.sjson': {
    key: 'juju-test-key-607AEAF0',
    fingerprint: 'D279259D4169F5843DBDD45CB8ADEEA9607AEAF0',
    keyId: 'B8ADEEA9607AEAF0',
    weak: /RSA-1024 key/,
  },
  'legacy-signed/cirros-streams.sjs': {
    key: 'simplestreams-example-test-key-3967536E',
    fingerprint: '',
    keyId: 'A9714A203967536E',
    weak: /SHA-1 hash, RSA-1024 key/,
  },
};

async function signedFiles(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(path.join(dir, rel), { withFileTypes: true })) {
    const child = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) {
      if (child !== 'keys') out.push(...(await signedFiles(dir, child)));
    } else if (/\.(sjson|sjs|gpg|asc|sig)$/.test(e.name) || (await readFile(path.join(dir, child), 'latin1')).startsWith('-----BEGIN PGP SIGNED')) {
      out.push(child);
    }
  }
  return out.sort();
}

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'meph-signer-ref-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('reference streams', () => {
  it('the table covers every signed file in the reference data', async () => {
    expect(await signedFiles(STREAMS)).toEqual(Object.keys(SIGNED).sort());
  });

  for (const [rel, spec] of Object.entries(SIGNED)) {
    describe(rel, () => {
      const file = path.join(STREAMS, rel);
      for (const form of ['gpg', 'pub.asc'] as const) {
        it(`verifies with ${spec.key}.${form} and --allow-weak-signatures, returning the signed JSON`, async () => {
          const text = await readFile(file, 'utf8');
          const verifier = await createVerifier({ keyrings: [path.join(KEYS, `${spec.key}.${form}`)], allowWeak: true });
          const v = await verifier.verifyClearsigned(text, rel);
          expect(v.keyId).toBe(spec.keyId);
          if (spec.fingerprint) expect(v.fingerprint).toBe(spec.fingerprint);
          expect(v.fingerprint.endsWith(spec.keyId)).toBe(true);
          const doc = JSON.parse(v.payload) as { format: string };
          expect(typeof doc.format).toBe('string');
          expect(text.includes('-----BEGIN PGP SIGNATURE-----')).toBe(true);
          expect(v.payload).not.toContain('PGP');
        });
      }

      it('is refused without the opt-in, and the error says how to opt in', async () => {
        const verifier = await createVerifier({ keyrings: [path.join(KEYS, `${spec.key}.gpg`)] });
        const err = await verifier.verifyClearsigned(await readFile(file, 'utf8'), rel).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(WeakAlgorithmError);
        expect((err as WeakAlgorithmError).message).toMatch(spec.weak);
        expect((err as WeakAlgorithmError).message).toContain(rel);
        expect((err as WeakAlgorithmError).message).toContain(spec.keyId);
        expect((err as WeakAlgorithmError).hint).toContain('--allow-weak-signatures');
      });

      it('fails with every other key as an unknown key naming its key id', async () => {
        const others = (await readdir(KEYS)).filter((f) => f.endsWith('.gpg') && !f.startsWith(spec.key));
        expect(others.length).toBe(3);
        for (const other of others) {
          const verifier = await createVerifier({ keyrings: [path.join(KEYS, other)], allowWeak: true });
          const err = await verifier.verifyClearsigned(await readFile(file, 'utf8'), rel).catch((e: unknown) => e);
          expect(err).toBeInstanceOf(UnknownKeyError);
          expect((err as Error).message).toContain(spec.keyId);
        }
      });

      it('a one-byte change is detected', async () => {
        const text = await readFile(file, 'utf8');
        const start = text.indexOf('\n\n') + 2;
        const i = text.indexOf('"', start + 10);
        const changed = `${text.slice(0, i + 1)}${text[i + 1] === 'x' ? 'y' : 'x'}${text.slice(i + 2)}`;
        const verifier = await createVerifier({ keyrings: [path.join(KEYS, `${spec.key}.gpg`)], allowWeak: true });
        await expect(verifier.verifyClearsigned(changed, rel)).rejects.toThrow(/modified after it was signed|bad signature/);
      });
    });
  }

  it('a keyring of all four keys concatenated (binary) finds the right one', async () => {
    const all = Buffer.concat(
      await Promise.all(
        (await readdir(KEYS)).filter((f) => f.endsWith('.gpg')).sort().map((f) => readFile(path.join(KEYS, f))),
      ),
    );
    const ring = path.join(tmp, 'all.gpg');
    await writeFile(ring, all);
    const verifier = await createVerifier({ keyrings: [ring], allowWeak: true });
    for (const [rel, spec] of Object.entries(SIGNED)) {
      expect((await verifier.verifyClearsigned(await readFile(path.join(STREAMS, rel), 'utf8'), rel)).keyId).toBe(spec.keyId);
    }
  });

  it('a keybox written by `gpg --no-default-keyring --keyring FILE --import` is read too (gpgv reads it)', async () => {
    const home = path.join(tmp, 'gnupg');
    await import('node:fs/promises').then((fs) => fs.mkdir(home, { mode: 0o700 }));
    const ring = path.join(tmp, 'imported.gpg');
    const keys = (await readdir(KEYS)).filter((f) => f.endsWith('.asc')).map((f) => path.join(KEYS, f));
    const imported = await run('gpg', ['--batch', '--no-default-keyring', '--keyring', ring, '--import', ...keys], { home });
    expect(imported.code).toBe(0);
    expect((await readFile(ring)).subarray(8, 12).toString()).toBe('KBXf');
    const file = path.join(STREAMS, 'legacy-signed/cirros-streams.sjs');
    expect((await gpgv(ring, [file], undefined, home)).code).toBe(0);
    const verifier = await createVerifier({ keyrings: [ring], allowWeak: true });
    for (const [rel, spec] of Object.entries(SIGNED)) {
      expect((await verifier.verifyClearsigned(await readFile(path.join(STREAMS, rel), 'utf8'), rel)).keyId).toBe(spec.keyId);
    }
    await run('gpgconf', ['--kill', 'all'], { home });
  });
});
