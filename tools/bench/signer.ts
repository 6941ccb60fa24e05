/**
 * Signing and verifying a 30 MB products file: @meph/signer (openpgp.js) beside the system
 * GnuPG on the same file, in the same run. Floor: one SHA-512 pass over the file in Node.
 *
 *   npx tsx tools/bench/signer.ts [MB=30]
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile, chmod } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { serializeJson } from '@meph/simplestreams';
import { createOpenPgpSigner, createVerifier, createGpgSigner } from '@meph/signer';
import { run, type GpgResult } from '../../packages/signer/src/__fixtures__/gnupg.js';
import { makeMaasStream } from './maas-stream.js';

const targetMb = Number(process.argv[2] ?? 30);

let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);

function gpg(home: string, args: string[], input?: string): Promise<GpgResult> {
  return run('gpg', ['--batch', '--no-tty', ...args], { home, cwd: home, ...(input === undefined ? {} : { input }) });
}

async function time<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t0 = performance.now();
  const r = await fn();
  return [performance.now() - t0, r];
}

async function main(): Promise<void> {
  const home = await mkdtemp(path.join(os.tmpdir(), 'meph-bench-signer-'));
  await chmod(home, 0o700);
  try {
    // A products file of about targetMb MB, shaped like a real MAAS stream.
    let versions = 10;
    let text = '';
    for (;;) {
      text = serializeJson(makeMaasStream({ releases: 10, arches: ['amd64', 'arm64', 'ppc64el', 's390x'], subarches: 6, versions }));
      if (text.length >= targetMb * 1e6) break;
      versions = Math.ceil((versions * targetMb * 1e6) / text.length) + 1;
    }
    const file = path.join(home, 'products.json');
    await writeFile(file, text);
    const mb = Buffer.byteLength(text) / 1e6;

    for (const algo of ['ed25519', 'rsa3072'] as const) {
      const uid = `bench-${algo}@example.invalid`;
      const gen = await gpg(home, ['--pinentry-mode', 'loopback', '--passphrase-fd', '0', '--quick-gen-key', uid, algo, 'sign', 'never'], '\n');
      if (gen.code !== 0) throw new Error(gen.stderr);
      const secret = (await gpg(home, ['--pinentry-mode', 'loopback', '--passphrase-fd', '0', '--armor', '--export-secret-keys', uid], '\n')).stdout.toString();
      const ring = path.join(home, `${algo}.gpg`);
      await writeFile(ring, (await gpg(home, ['--export', uid])).stdout);

      const [floor] = await time(async () => createHash('sha512').update(await readFile(file)).digest('hex'));

      const signer = await createOpenPgpSigner({ key: secret });
      const verifier = await createVerifier({ keyrings: [ring] });
      const data = await readFile(file, 'utf8');
      const [ourClear, clear] = await time(() => signer.clearsign(data));
      const [ourDetach, detached] = await time(() => signer.detachSign(data));
      const [ourVerifyClear] = await time(() => verifier.verifyClearsigned(clear, 'products.sjson'));
      const [ourVerifyDetach] = await time(() => verifier.verifyDetached(data, detached, 'products.json.gpg'));

      const [gpgClear] = await time(() => gpg(home, ['--yes', '--local-user', uid, '--output', 'g.sjson', '--clearsign', file]));
      const [gpgDetach] = await time(() => gpg(home, ['--yes', '--local-user', uid, '--armor', '--output', 'g.json.gpg', '--detach-sign', file]));
      await writeFile(path.join(home, 'ours.sjson'), clear);
      await writeFile(path.join(home, 'ours.json.gpg'), detached);
      const [gpgVerifyClear, vc] = await time(() => gpg(home, ['--verify', 'ours.sjson']));
      const [gpgVerifyDetach, vd] = await time(() => gpg(home, ['--verify', 'ours.json.gpg', file]));
      if (vc.code !== 0 || vd.code !== 0) throw new Error('gpg did not accept our signatures');
      // gpg's own output through our verifier too (interop check, not timed separately).
      await verifier.verifyClearsigned(await readFile(path.join(home, 'g.sjson'), 'utf8'), 'g.sjson');
      // The gpg backend of @meph/signer (pipes 30 MB through gpg).
      const [gpgBackend] = await time(() => createGpgSigner({ localUser: uid, gnupgHome: home }).clearsign(data));

      const row = (name: string, ours: number, theirs: number): string =>
        `  ${name.padEnd(22)} ours ${ours.toFixed(0).padStart(6)} ms   gpg ${theirs.toFixed(0).padStart(6)} ms   ratio ${(ours / theirs).toFixed(2)}x   (${(mb / (ours / 1000)).toFixed(0)} MB/s)`;
      console.log(`${algo}, ${mb.toFixed(1)} MB products file (floor: SHA-512 in Node ${floor.toFixed(0)} ms)`);
      console.log(row('clearsign', ourClear, gpgClear));
      console.log(row('detached sign', ourDetach, gpgDetach));
      console.log(row('verify clearsigned', ourVerifyClear, gpgVerifyClear));
      console.log(row('verify detached', ourVerifyDetach, gpgVerifyDetach));
      console.log(`  gpg backend clearsign  ${gpgBackend.toFixed(0)} ms`);
    }
  } finally {
    clearInterval(sampler);
    await gpg(home, ['--version']).catch(() => undefined);
    await new Promise((r) => spawn('gpgconf', ['--kill', 'all'], { env: { ...process.env, GNUPGHOME: home } }).on('close', r));
    await rm(home, { recursive: true, force: true });
  }
  console.log(`peak RSS ${(peakRss / 1e6).toFixed(0)} MB (sampled), maxRSS ${(process.resourceUsage().maxRSS / 1e3).toFixed(0)} MB`);
}

await main();
