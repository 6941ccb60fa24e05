import { access, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliCaptured } from '@meph/test-support';
import { spec } from '../main.js';
import { assertStreamIntact, makeStream, productsPath, tempDir, throwAwayKey } from './stream-fixture.js';

// A signed source: signatures checked with --keyring, the signed documents mirrored byte for byte.
let dir: string;
let key: { secretKey: string; keyring: string };
let other: { keyring: string };
const ENV = { MEPH_SIGNING_KEY: '', MEPH_GPG_KEY: '', MEPH_KEYRING: '' };
beforeAll(async () => {
  dir = await tempDir('meph-mirror-signed-');
  key = await throwAwayKey(path.join(dir, 'k1'));
  other = await throwAwayKey(path.join(dir, 'k2'));
  await makeStream(path.join(dir, 'src'), { serials: ['20260101'] });
  const r = await runCliCaptured(spec, ['sign', '--key', key.secretKey, path.join(dir, 'src')], { cwd: dir, env: ENV });
  expect(r.code, r.stderr).toBe(0);
}, 60_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const sjson = productsPath('candidate').replace(/\.json$/, '.sjson');

describe('meph2-util mirror of a signed stream', () => {
  it('verifies with --keyring and copies the signed documents byte for byte', async () => {
    const out = path.join(dir, 'good');
    const r = await runCliCaptured(spec, ['mirror', '--keyring', key.keyring, path.join(dir, 'src/streams/v1/index.sjson'), out], { cwd: dir, env: ENV });
    expect(r.code, r.stderr).toBe(0);
    for (const f of ['streams/v1/index.sjson', sjson]) expect(await readFile(path.join(out, f), 'utf8')).toBe(await readFile(path.join(dir, 'src', f), 'utf8'));
    await access(path.join(out, 'noble/amd64/20260101/squashfs'));
  });

  it('refuses a stream signed by another key: one line, nothing written', async () => {
    const out = path.join(dir, 'bad');
    const r = await runCliCaptured(spec, ['mirror', '--keyring', other.keyring, path.join(dir, 'src/streams/v1/index.sjson'), out], { cwd: dir, env: ENV });
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n').filter((l) => l.startsWith('meph2-util: error:'))).toHaveLength(1);
    expect(r.stderr).toMatch(/index\.sjson/);
    await expect(access(out)).rejects.toThrow();
  });

  it('a mirror of the unsigned index is a complete readable stream', async () => {
    const out = path.join(dir, 'plain');
    const r = await runCliCaptured(spec, ['mirror', '--no-verify', path.join(dir, 'src'), out], { cwd: dir, env: ENV });
    expect(r.code, r.stderr).toBe(0);
    expect(await assertStreamIntact(out)).toBeGreaterThan(0);
  });
});
