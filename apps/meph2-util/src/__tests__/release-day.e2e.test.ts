/**
 * A release engineer's day, end to end through the CLI, with a throw-away signing key:
 * build output → insert into daily → diff daily vs stable → patch stable → clean-md 3 →
 * find-orphans → reap-orphans --now → the stable stream verifies (signatures, data, MAAS) and
 * no referenced file is gone.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadStream } from '@meph/simplestreams';
import { checkMaasStream } from '@meph/maas-rules';
import { runCliCaptured } from '@meph/test-support';
import { spec } from '../main.js';
import { assertStreamIntact, JAMMY, listFiles, makeStream, NOBLE, productsPath, readProducts, tempDir, throwAwayKey, versionMap } from './stream-fixture.js';

let dir: string;
beforeAll(async () => {
  dir = await tempDir('meph-release-day-');
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe("a release engineer's day", () => {
  it('build → insert daily → diff → patch stable → clean-md 3 → find-orphans → reap-orphans --now → verify', async () => {
    const key = await throwAwayKey(path.join(dir, 'key'));
    const env = { ...process.env, MEPH_SIGNING_KEY: key.secretKey, MEPH_GPG_KEY: '', MEPH_KEYRING: '', GNUPGHOME: key.home };
    const run = async (args: string[]) => {
      const r = await runCliCaptured(spec, args, { cwd: dir, env });
      expect(r.code, `meph2-util ${args.join(" ")}\n${r.stderr}\n${r.stdout}`).toBe(0);
      return r;
    };
    // yesterday's state: a signed daily (candidate) and a signed stable stream
    await makeStream(path.join(dir, 'daily'), { label: 'candidate', serials: ['20260701', '20260710', '20260715', '20260720'], releases: [NOBLE, JAMMY] });
    await makeStream(path.join(dir, 'stable'), { label: 'stable', serials: ['20260701', '20260710', '20260715'], releases: [NOBLE] });
    await run(['sign', 'daily']);
    await run(['sign', 'stable']);
    // today's build output, as meph2-build writes it (unsigned)
    await makeStream(path.join(dir, 'build'), { label: 'candidate', serials: ['20260722'], releases: [NOBLE, JAMMY] });

    await run(['insert', 'build', 'daily']); // build output is unsigned
    expect(versionMap(await readProducts(path.join(dir, 'daily'), productsPath('candidate')))['com.ubuntu.maas.candidate:v3:boot:24.04:amd64:ga-24.04']).toEqual(['20260701', '20260710', '20260715', '20260720', '20260722']);

    await run(['diff', '--new-versions-only', '--promote', '--keyring', key.keyring, 'daily', 'stable', '-o', 'promote.yaml']);
    const patch = parse(await fs.readFile(path.join(dir, 'promote.yaml'), 'utf8'));
    expect(patch['com.ubuntu.maas:v3:download.json']['com.ubuntu.maas:v3:boot:24.04:amd64:ga-24.04'].versions).toEqual({
      '20260720': { labels: ['candidate', 'stable'] },
      '20260722': { labels: ['candidate', 'stable'] },
    });
    expect(patch['com.ubuntu.maas:v3:download.json']['com.ubuntu.maas:v3:boot:22.04:arm64:ga-22.04']).toEqual({ labels: ['candidate', 'stable'] });

    await run(['patch', '--keyring', key.keyring, 'daily', 'stable', '-i', 'promote.yaml']);
    await run(['clean-md', '3', 'stable']);
    const stable = await readProducts(path.join(dir, 'stable'), productsPath('stable'));
    expect(versionMap(stable)['com.ubuntu.maas.stable:v3:boot:24.04:amd64:ga-24.04']).toEqual(['20260715', '20260720', '20260722']);
    expect(versionMap(stable)['com.ubuntu.maas.stable:v3:boot:22.04:amd64:ga-22.04']).toEqual(['20260715', '20260720', '20260722']);
    expect(stable.products['com.ubuntu.maas.stable:v3:boot:22.04:amd64:ga-22.04']!['label']).toBe('stable');

    // a second diff now finds nothing newer to promote (clean-md dropped older versions that
    // daily still has, which --latest-only ignores)
    const again = await run(['diff', '--new-versions-only', '--latest-only', '--promote', 'daily', 'stable']);
    expect(again.stdout.split('\n').filter((l) => l && !l.startsWith('#'))).toEqual([]);

    await run(['find-orphans', '--keyring', key.keyring, 'orphans.json', 'stable', 'stable']);
    const orphans = Object.keys(JSON.parse(await fs.readFile(path.join(dir, 'orphans.json'), 'utf8'))).filter((k) => !k.startsWith('/'));
    // exactly the files of the versions clean-md dropped (jammy came in whole with its product)
    const dropped = (await listFiles(path.join(dir, 'stable'))).filter((f) => /\/(20260701|20260710)\//.test(f));
    expect(dropped).toHaveLength(2 * 6 + 2 * 2 * 4); // noble: 2 versions × (squashfs, manifest, 2 × kernel+initrd); jammy: 2 arches × 2 versions × 4
    expect(orphans.sort()).toEqual(dropped);
    await run(['reap-orphans', '--now', 'orphans.json', 'stable']);
    const left = await listFiles(path.join(dir, 'stable'));
    expect(left.filter((f) => f.includes('20260701') || f.includes('20260710'))).toEqual([]);

    // the final stable stream: signatures, every file, MAAS 3.7 + 3.8
    await run(['verify', '--data', '--maas', '--keyring', key.keyring, 'stable']);
    expect(await assertStreamIntact(path.join(dir, 'stable'))).toBe(3 * 4 * 4);
    const loaded = await loadStream(path.join(dir, 'stable'), { policy: 'off' });
    const findings = await checkMaasStream(loaded, { maasVersion: 'both' });
    expect(findings.filter((f) => f.severity === 'fatal' || f.severity === 'error')).toEqual([]);
  }, 300_000);
});
