import { spawnSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOpenPgpSigner, createVerifier, signStream, type SignatureVerifier } from '@meph/signer';
import { REPO_ROOT } from '@meph/test-support';
import { CID, makeTestStream } from './__fixtures__/stream.js';
import { LEASE_KEY } from './lease.js';
import { verifyStreamFully } from './verify.js';

const MAAS_STABLE = path.join(REPO_ROOT, 'packages/maas-rules/src/__fixtures__/accepted/stable-full');
const PRODUCTS = `streams/v1/${CID}.json`;

let dir: string;
let home: string;
let verifier: SignatureVerifier;
let server: http.Server;
let url: string;

beforeAll(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'meph-verify-'));
  home = path.join(dir, 'gnupg');
  await fsp.mkdir(home, { mode: 0o700 });
  const gpg = (args: string[]): Buffer => {
    const r = spawnSync('gpg', ['--batch', '--no-tty', '--pinentry-mode', 'loopback', '--passphrase', '', ...args], { env: { ...process.env, GNUPGHOME: home, LC_ALL: 'C' } });
    if (r.status !== 0) throw new Error(`gpg ${args.join(' ')}: ${r.stderr.toString()}`);
    return r.stdout;
  };
  gpg(['--quick-gen-key', 'meph verify test <verify@example.invalid>', 'ed25519', 'sign', 'never']);
  await fsp.writeFile(path.join(dir, 'pub.gpg'), gpg(['--export']));
  const signer = await createOpenPgpSigner({ key: gpg(['--armor', '--export-secret-keys']).toString() });
  verifier = await createVerifier({ keyrings: [path.join(dir, 'pub.gpg')] });

  await signStream(await makeTestStream(path.join(dir, 'good'), ['20260101']), signer);
  // a publish killed between a products .json and its signatures: the signed twin says something else
  for (const name of ['twin', 'twin-leased']) {
    await fsp.cp(path.join(dir, 'good'), path.join(dir, name), { recursive: true });
    const file = path.join(dir, name, PRODUCTS);
    await fsp.writeFile(file, (await fsp.readFile(file, 'utf8')).replace('"release": "noble"', '"release": "oracular"'));
  }
  const lease = { owner: 'o', host: 'publisher', pid: 4242, acquired: '2026-07-23T10:00:00Z', expires: '2026-07-23T10:10:00Z' };
  await fsp.writeFile(path.join(dir, 'twin-leased', LEASE_KEY), JSON.stringify(lease));

  server = http.createServer((req, res) => {
    const rel = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    fsp.readFile(path.join(dir, rel)).then(
      (data) => res.writeHead(200, { 'content-length': data.length }).end(req.method === 'HEAD' ? undefined : data),
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 30_000);

afterAll(async () => {
  await new Promise((r) => server?.close(r));
  spawnSync('gpgconf', ['--kill', 'all'], { env: { ...process.env, GNUPGHOME: home } });
  await fsp.rm(dir, { recursive: true, force: true });
});

describe('verifyStreamFully', () => {
  it('a signed stream: every signature good, every file checked, nothing found', async () => {
    const { findings, summary } = await verifyStreamFully(path.join(dir, 'good'), { verifier, checkData: true });
    expect(findings).toEqual([]);
    expect(summary).toEqual({ type: 'summary', stream: path.join(dir, 'good'), ok: true, documents: 2, signaturesChecked: 4, signaturesGood: 4, filesChecked: 2, bytesChecked: expect.any(Number), errors: 0, warnings: 0 });
  });

  it('over HTTP, a document and its signature disagreeing are warnings while a publish holds the lease, errors without one', async () => {
    const leased = await verifyStreamFully(`${url}/twin-leased/`, { verifier, env: {} });
    expect(leased.findings.length).toBeGreaterThan(0);
    expect(leased.findings.every((f) => f.severity === 'warning' && f.message.includes('a publish holds the lease (publisher pid 4242'))).toBe(true);
    expect(leased.summary).toMatchObject({ ok: true, errors: 0, warnings: leased.findings.length });

    const unleased = await verifyStreamFully(`${url}/twin/`, { verifier, env: {} });
    expect(unleased.findings.map((f) => [f.severity, f.message.replace(/ \(a publish holds.*$/, '')])).toEqual(leased.findings.map((f) => ['error', f.message.replace(/ \(a publish holds.*$/, '')]));
    expect(unleased.summary).toMatchObject({ ok: false, errors: unleased.findings.length, warnings: 0 });

    // a local copy is never explained by a lease
    const local = await verifyStreamFully(path.join(dir, 'twin-leased'), { verifier });
    expect(local.summary.ok).toBe(false);
  });

  it('with maas: the MAAS rule findings follow the stream\'s, counted in the summary', async () => {
    const plain = await verifyStreamFully(MAAS_STABLE);
    expect(plain.summary.maasFindings).toBeUndefined();
    const accepted = await verifyStreamFully(MAAS_STABLE, { maas: {} });
    expect(accepted.findings).toEqual([]);
    expect(accepted.summary).toMatchObject({ ok: true, maasFindings: 0 });
    const other = await verifyStreamFully(MAAS_STABLE, { maas: { version: '3.8', commissioningRelease: 'resolute' } });
    expect(other.findings).toEqual([expect.objectContaining({ check: 'maas', rule: 'R-FILTER-29', severity: 'warning', maas: ['3.8'] })]);
    expect(other.summary).toMatchObject({ ok: true, maasFindings: 1, errors: 0, warnings: 1 });
  });

  it('with maas, signatures checked: MAAS\'s "offered signed" rule applies too (only then)', async () => {
    const checked = await verifyStreamFully(MAAS_STABLE, { verifier, maas: {} });
    expect(checked.summary.ok).toBe(false);
    expect(checked.findings.filter((f) => f.check === 'maas').map((f) => f.check === 'maas' && f.rule)).toEqual(['R-IDX-01']);
    expect(checked.findings.filter((f) => f.check !== 'maas').map((f) => [f.file, f.message])).toEqual([['streams/v1/index.sjson', expect.stringMatching(/not signed/)]]);
  });
});
