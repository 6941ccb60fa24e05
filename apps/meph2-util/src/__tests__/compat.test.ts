/**
 * compat: every subcommand and flag of the original meph2-util (upstream-behaviour §1.3, §8),
 * run with the original's argument vector (README and known-caller spellings), checking what
 * it does, not only that it parses. Signing happens as the original did it: no key named, the
 * GnuPG home's default secret key (a throw-away one here). Differences kept on purpose are in
 * docs/compat.md. Run the whole suite with `npx vitest run compat`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { REPO_ROOT, runAppProcess, runCliCaptured, SHARED_DIR } from '@meph/test-support';
import { spec } from '../main.js';
import { JAMMY, listFiles, makeStream, NOBLE, productsPath, readProducts, tempDir, throwAwayKey, versionMap } from './stream-fixture.js';

let dir: string;
let key: { home: string; secretKey: string; keyring: string };
const SERIALS = ['20260701', '20260702', '20260703', '20260704'];
const CAND = productsPath('candidate');
const STABLE = productsPath('stable');
const GA = 'com.ubuntu.maas.candidate:v3:boot:24.04:amd64:ga-24.04';
const SGA = 'com.ubuntu.maas.stable:v3:boot:24.04:amd64:ga-24.04';

beforeAll(async () => {
  dir = await tempDir('meph-compat-util-');
  key = await throwAwayKey(path.join(dir, 'key'));
  await makeStream(path.join(dir, 'daily'), { label: 'candidate', serials: SERIALS, releases: [NOBLE, JAMMY] });
  await makeStream(path.join(dir, 'build-output.d'), { label: 'candidate', serials: ['20260705'], releases: [NOBLE, JAMMY] });
  await makeStream(path.join(dir, 'stable'), { label: 'stable', serials: SERIALS.slice(0, 2), releases: [NOBLE] });
}, 60_000);
afterAll(async () => {
  spawnSync('gpgconf', ['--kill', 'gpg-agent'], { env: { ...process.env, GNUPGHOME: key?.home } });
  await fs.rm(dir, { recursive: true, force: true });
});

/** The original's environment: no MEPH_* key, GnuPG's home holds the signing key. */
const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
  ...process.env,
  MEPH_SIGNING_KEY: '',
  MEPH_GPG_KEY: '',
  MEPH_KEYRING: '',
  SS_GPG_DEFAULT_KEY: '',
  GNUPGHOME: key.home,
  ...extra,
});
const util = (args: string[], extra: NodeJS.ProcessEnv = {}) => runCliCaptured(spec, args, { cwd: dir, env: env(extra) });
async function ok(args: string[], extra: NodeJS.ProcessEnv = {}) {
  const r = await util(args, extra);
  expect(r.code, `meph2-util ${args.join(' ')}\n${r.stderr}`).toBe(0);
  return r;
}
let n = 0;
async function copy(from: string): Promise<string> {
  const name = `${from.replace(/\W/g, '')}-${(n += 1)}`;
  await fs.cp(path.join(dir, from), path.join(dir, name), { recursive: true });
  return name;
}
const signedFiles = async (root: string) => (await fs.readdir(path.join(dir, root, 'streams/v1'))).filter((f) => f.endsWith('.sjson') || f.endsWith('.gpg')).sort();
const gpgvOk = (root: string) => spawnSync('gpgv', ['--keyring', key.keyring, path.join(dir, root, 'streams/v1/index.sjson')]).status === 0;

describe('compat meph2-util (no subcommand)', () => {
  it('fails without a subcommand (original: help, exit 1; meph: one usage line, exit 2 — docs/compat.md)', async () => {
    const r = await util([]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/give a subcommand/);
  });
});

describe('compat meph2-util --help', () => {
  it('every subcommand\'s --help points at docs/compat.md, and docs/compat.md has a row for every subcommand', async () => {
    const doc = await fs.readFile(path.join(REPO_ROOT, 'docs/compat.md'), 'utf8');
    for (const c of spec.commands) {
      const name = 'load' in c ? c.name : String([c.command].flat()[0]).split(' ')[0]!;
      const r = await util([name, '--help']);
      expect(r.stdout.replace(/\s+/g, ' '), name).toMatch(/docs\/compat\.md/);
      expect(doc.includes(`\`${name}`), `docs/compat.md row for ${name}`).toBe(true);
    }
  });
});

describe('compat meph2-util insert src target [filters] (-n -u --keyring)', () => {
  it('insert build-output.d daily-stream.d (README): adds, signs with the default gpg key', async () => {
    const d = await copy('daily');
    await ok(['insert', 'build-output.d', d]);
    expect(versionMap(await readProducts(path.join(dir, d), CAND))[GA]).toEqual([...SERIALS, '20260705']);
    expect(gpgvOk(d)).toBe(true);
  });
  it('insert src/streams/v1/index.json (unsigned build output, the original\'s required form)', async () => {
    const d = await copy('daily');
    await ok(['insert', 'build-output.d/streams/v1/index.json', d]);
    expect(versionMap(await readProducts(path.join(dir, d), CAND))[GA]).toContain('20260705');
  });
  it('--dry-run / -n lists items and writes nothing', async () => {
    const d = await copy('daily');
    const before = await listFiles(path.join(dir, d));
    for (const flag of ['--dry-run', '-n']) {
      const r = await ok(['insert', flag, 'build-output.d', d]);
      expect(r.stderr).toMatch(/item-inserted .*version=20260705/);
    }
    expect(await listFiles(path.join(dir, d))).toEqual(before);
  });
  it('--no-sign / -u creates no .sjson/.gpg', async () => {
    for (const flag of ['--no-sign', '-u']) {
      const d = `nosign${flag}`;
      await ok(['insert', flag, 'build-output.d', d]);
      expect(await signedFiles(d)).toEqual([]);
    }
  });
  it('--keyring K on a signed .sjson source verifies it (a wrong key fails)', async () => {
    const signedSrc = await copy('build-output.d');
    await ok(['sign', signedSrc]);
    await ok(['insert', '-u', '--keyring', key.keyring, `${signedSrc}/streams/v1/index.sjson`, 'from-signed']);
    const other = await throwAwayKey(path.join(dir, 'other-key'));
    const r = await util(['insert', '-u', '--keyring', other.keyring, `${signedSrc}/streams/v1/index.sjson`, 'from-signed-bad']);
    expect(r.code).not.toBe(0);
    spawnSync('gpgconf', ['--kill', 'gpg-agent'], { env: { ...process.env, GNUPGHOME: other.home } });
  });
  // The one reader policy (readhard): .json is read as is, signed files are verified.
  it('--keyring K with a plain .json source reads it as is (the original applied the keyring to .sjson only)', async () => {
    await ok(['insert', '-u', '--keyring', key.keyring, 'build-output.d/streams/v1/index.json', 'plain-with-keyring']);
    expect(versionMap(await readProducts(path.join(dir, 'plain-with-keyring'), CAND))[GA]).toEqual(['20260705']);
  });
  it('trailing filters: only release=noble arch=amd64', async () => {
    await ok(['insert', '-u', 'build-output.d', 'filtered', 'release=noble', 'arch=amd64']);
    expect(Object.keys((await readProducts(path.join(dir, 'filtered'), CAND)).products).sort()).toEqual([GA, 'com.ubuntu.maas.candidate:v3:boot:24.04:amd64:hwe-24.04']);
  });
});

describe('compat meph2-util promote src target version [filters] (-l --skip-file-copy -n -u --keyring)', () => {
  it('promote --label=release daily.d/streams/v1/index.json releases.d/ V product_name=… (README)', async () => {
    const r = await ok(['promote', '--label=release', 'daily/streams/v1/index.json', 'releases.d/', '20260703', `product_name=${GA}`]);
    expect(r.stderr).toContain(`filter_list=["product_name=${GA}","version_name=20260703"]`);
    const doc = await readProducts(path.join(dir, 'releases.d'), STABLE);
    expect(versionMap(doc)).toEqual({ [SGA]: ['20260703'] });
    expect(doc.products[SGA]!['label']).toBe('release');
    expect(gpgvOk('releases.d')).toBe(true);
  });
  it('-l rc, --skip-file-copy, -n, -u', async () => {
    await ok(['promote', '-u', '-l', 'rc', 'daily', 'rc.d', '20260704', 'release=noble']);
    expect((await readProducts(path.join(dir, 'rc.d'), STABLE)).products[SGA]!['label']).toBe('rc');
    await ok(['promote', '-u', '--skip-file-copy', 'daily', 'meta.d', '20260704']);
    expect((await listFiles(path.join(dir, 'meta.d'))).filter((f) => !f.startsWith('streams/') && !f.startsWith('.'))).toEqual([]);
    await ok(['promote', '-n', 'daily', 'dry.d', '20260704']);
    expect(existsSync(path.join(dir, 'dry.d'))).toBe(false);
  });
});

describe('compat meph2-util clean-md max target [filters] (-n -u --keyring)', () => {
  it('clean-md 3 target: keeps the 3 newest, deletes no file, signs', async () => {
    const d = await copy('daily');
    const files = await listFiles(path.join(dir, d));
    await ok(['clean-md', '3', d]);
    expect(versionMap(await readProducts(path.join(dir, d), CAND))[GA]).toEqual(SERIALS.slice(1));
    expect((await listFiles(path.join(dir, d))).filter((f) => !f.startsWith('streams/'))).toEqual(files.filter((f) => !f.startsWith('streams/')));
    expect(gpgvOk(d)).toBe(true);
  });
  it('clean-md --max=3 daily-sream.d/ (the README spelling, which the original rejected)', async () => {
    const d = await copy('daily');
    await ok(['clean-md', '-u', `--max=3`, `${d}/`]);
    expect(versionMap(await readProducts(path.join(dir, d), CAND))[GA]).toEqual(SERIALS.slice(1));
  });
  it('-n prints what would go and changes nothing; filters limit it; --keyring accepted', async () => {
    const d = await copy('daily');
    const r = await ok(['clean-md', '-n', '--keyring', key.keyring, '1', d, 'release=jammy']);
    expect(r.stderr).toMatch(/version-removed .*22\.04.* version=20260701/);
    expect(versionMap(await readProducts(path.join(dir, d), CAND))[GA]).toEqual(SERIALS);
    await ok(['clean-md', '-u', '1', d, 'release=jammy']);
    const vm = versionMap(await readProducts(path.join(dir, d), CAND));
    expect(vm[GA]).toEqual(SERIALS);
    expect(vm['com.ubuntu.maas.candidate:v3:boot:22.04:amd64:ga-22.04']).toEqual(['20260704']);
  });
});

describe('compat meph2-util find-orphans / reap-orphans (--keyring; -n --older --now)', () => {
  it('find-orphans my-orphans.json ./daily/ ./daily/streams/v1/*.json, then reap-orphans --older 7d / -n / --now', async () => {
    const d = await copy('daily');
    await ok(['clean-md', '-u', '3', d]);
    const globbed = (await fs.readdir(path.join(dir, d, 'streams/v1'))).filter((f) => f.endsWith('.json')).map((f) => `./${d}/streams/v1/${f}`);
    await ok(['find-orphans', 'my-orphans.json', `./${d}/`, ...globbed]);
    const orphans = JSON.parse(await fs.readFile(path.join(dir, 'my-orphans.json'), 'utf8')) as Record<string, string>;
    const paths = Object.keys(orphans).filter((k) => !k.startsWith('/'));
    expect(paths.length).toBe(6 + 2 * 4);
    expect(paths.every((p) => p.includes('/20260701/'))).toBe(true);
    expect(Object.values(orphans).filter((v) => typeof v === 'string').every((t) => !Number.isNaN(Date.parse(t)))).toBe(true);
    await ok(['reap-orphans', '--older', '7d', 'my-orphans.json', `./${d}/`]);
    expect(existsSync(path.join(dir, d, paths[0]!))).toBe(true); // just found: not 7 days old
    await ok(['reap-orphans', '-n', '--now', 'my-orphans.json', `./${d}/`]);
    expect(existsSync(path.join(dir, d, paths[0]!))).toBe(true);
    await ok(['reap-orphans', '--now', 'my-orphans.json', `./${d}/`]);
    for (const p of paths) expect(existsSync(path.join(dir, d, p))).toBe(false);
  });
  it('find-orphans --keyring K with signed streams (.sjson) verifies them; a wrong keyring fails', async () => {
    const d = await copy('daily');
    await ok(['clean-md', '3', d]); // signed by the default key
    await ok(['find-orphans', '--keyring', key.keyring, 'signed-orphans.json', `./${d}/`, `./${d}/streams/v1/index.sjson`]);
    expect(Object.keys(JSON.parse(await fs.readFile(path.join(dir, 'signed-orphans.json'), 'utf8'))).filter((k) => !k.startsWith('/')).length).toBe(6 + 2 * 4);
    const wrong = await util(['find-orphans', '--keyring', path.join(SHARED_DIR, 'reference/streams/keys/cirros-8F4CE6D0.gpg'), 'wrong-orphans.json', `./${d}/`, `./${d}/streams/v1/index.sjson`]);
    expect(wrong.code).not.toBe(0);
    expect(existsSync(path.join(dir, 'wrong-orphans.json'))).toBe(false);
  });
  // The orphans file shared with the original must be exactly {path: timestamp} (issue 10).
  it('the orphans file holds only path → timestamp entries, as the original reads it', async () => {
    const d = await copy('daily');
    await ok(['clean-md', '-u', '3', d]);
    await ok(['find-orphans', 'plain-orphans.json', `./${d}/`, `./${d}/streams/v1/index.json`]);
    const orphans = JSON.parse(await fs.readFile(path.join(dir, 'plain-orphans.json'), 'utf8')) as Record<string, unknown>;
    expect(Object.keys(orphans).length).toBe(6 + 2 * 4);
    for (const [p, t] of Object.entries(orphans)) {
      expect(p).toMatch(/^[a-z0-9]+\/.*\/20260701\//);
      expect(typeof t === 'string' && !Number.isNaN(Date.parse(t))).toBe(true);
    }
  });
});

describe('compat meph2-util merge src target (-u)', () => {
  it('merge --no-sign bootloaders images: files copied, products file added, not signed', async () => {
    const img = await copy('daily');
    await makeStream(path.join(dir, 'bootloaders'), { label: 'stable', serials: ['20260701'], releases: [NOBLE] });
    await ok(['merge', '--no-sign', 'bootloaders', img]);
    expect((await fs.readdir(path.join(dir, img, 'streams/v1'))).sort()).toEqual([CAND, STABLE, 'streams/v1/index.json'].map((p) => path.basename(p)).sort());
    expect(await signedFiles(img)).toEqual([]);
    await ok(['merge', 'bootloaders', img]);
    expect(gpgvOk(img)).toBe(true);
  });
});

describe('compat meph2-util sign data_d', () => {
  it('sign data_d / sign -u data_d: both sign (the original ignored -u)', async () => {
    for (const args of [[], ['-u']]) {
      const d = await copy('daily');
      await ok(['sign', ...args, d]);
      expect(await signedFiles(d)).toEqual([`com.ubuntu.maas:candidate:v3:download.json.gpg`, 'com.ubuntu.maas:candidate:v3:download.sjson', 'index.json.gpg', 'index.sjson']);
      expect(gpgvOk(d)).toBe(true);
    }
  });
});

describe('compat meph2-util remove-version / copy-version data_d … [filters] (-n -u --keyring)', () => {
  it("remove-version data_d V 'release~(bionic|jammy)' matches product fields; -n writes nothing", async () => {
    const d = await copy('daily');
    await ok(['remove-version', '-n', d, '20260701', 'release~(bionic|jammy)']);
    expect(versionMap(await readProducts(path.join(dir, d), CAND))['com.ubuntu.maas.candidate:v3:boot:22.04:amd64:ga-22.04']).toEqual(SERIALS);
    await ok(['remove-version', '--keyring', key.keyring, d, '20260701', 'release~(bionic|jammy)']);
    const vm = versionMap(await readProducts(path.join(dir, d), CAND));
    expect(vm['com.ubuntu.maas.candidate:v3:boot:22.04:amd64:ga-22.04']).toEqual(SERIALS.slice(1));
    expect(vm[GA]).toEqual(SERIALS);
    expect(gpgvOk(d)).toBe(true);
  });
  it('copy-version -u data_d FROM TO arch=amd64: new version, paths rewritten, files copied once', async () => {
    const d = await copy('daily');
    await ok(['copy-version', '-u', d, '20260704', '20260704.1', 'arch=amd64']);
    const doc = await readProducts(path.join(dir, d), CAND);
    expect(versionMap(doc)[GA]).toEqual([...SERIALS, '20260704.1']);
    expect(versionMap(doc)['com.ubuntu.maas.candidate:v3:boot:22.04:arm64:ga-22.04']).toEqual(SERIALS);
    expect(existsSync(path.join(dir, d, 'noble/amd64/20260704.1/squashfs'))).toBe(true);
    expect(await signedFiles(d)).toEqual([]);
  });
});

describe('compat meph2-util diff src target (-o --new-versions-only --latest-only --promote)', () => {
  it('diff to stdout and -o FILE; the flags shape the patch', async () => {
    const plain = await ok(['diff', 'daily', 'stable']);
    expect(plain.stdout).toMatch(/^# new-versions-only: False$/m);
    const doc = parse(plain.stdout) as Record<string, Record<string, { versions?: Record<string, { labels: string[] }>; labels?: string[] }>>;
    expect(doc['com.ubuntu.maas:v3:download.json']!['com.ubuntu.maas:v3:boot:24.04:amd64:ga-24.04']!.versions).toEqual({ '20260703': { labels: ['candidate'] }, '20260704': { labels: ['candidate'] } });
    expect(doc['com.ubuntu.maas:v3:download.json']!['com.ubuntu.maas:v3:boot:22.04:amd64:ga-22.04']!.labels).toEqual(['candidate']);
    await ok(['diff', '--promote', '--new-versions-only', '--latest-only', 'daily', 'stable', '-o', 'p.yaml']);
    const p = parse(await fs.readFile(path.join(dir, 'p.yaml'), 'utf8')) as typeof doc;
    expect(p['com.ubuntu.maas:v3:download.json']!['com.ubuntu.maas:v3:boot:24.04:amd64:ga-24.04']!.versions).toEqual({ '20260704': { labels: ['candidate', 'stable'] } });
    const same = await ok(['diff', 'daily', 'daily']);
    expect(same.stdout.split('\n').filter((l) => l && !l.startsWith('#'))).toEqual([]);
  });
});

describe('compat meph2-util patch [src] target (-i -n -u)', () => {
  const del = "com.ubuntu.maas:v3:download.json:\n  com.ubuntu.maas:v3:boot:24.04:.*:\n    versions:\n      '20260701': {}\n";
  it('patch target -i delete.yaml (no source needed); -n changes nothing', async () => {
    const s = await copy('stable');
    await fs.writeFile(path.join(dir, 'delete.yaml'), del);
    await ok(['patch', '-n', s, '-i', 'delete.yaml']);
    expect(versionMap(await readProducts(path.join(dir, s), STABLE))[SGA]).toEqual(SERIALS.slice(0, 2));
    await ok(['patch', s, '-i', 'delete.yaml']);
    expect(versionMap(await readProducts(path.join(dir, s), STABLE))[SGA]).toEqual(['20260702']);
    expect(gpgvOk(s)).toBe(true);
  });
  it('patch src target -i promote.yaml -u copies versions with their files', async () => {
    const s = await copy('stable');
    await ok(['diff', '--promote', '--new-versions-only', 'daily', s, '-o', 'promote.yaml']);
    await ok(['patch', '-u', 'daily', s, '-i', 'promote.yaml']);
    expect(versionMap(await readProducts(path.join(dir, s), STABLE))[SGA]).toEqual(SERIALS);
    expect(existsSync(path.join(dir, s, 'noble/amd64/20260704/squashfs'))).toBe(true);
    expect(await signedFiles(s)).toEqual([]);
  });
  it('the patch from stdin (no -i), as a real process', async () => {
    const s = await copy('stable');
    const r = await runAppProcess('meph2-util', ['patch', '-u', s], { cwd: dir, env: env(), input: "com.ubuntu.maas:v3:download.json:\n  com.ubuntu.maas:v3:boot:24.04:.*:\n    versions:\n      '20260702': {}\n" });
    expect(r.code, r.stderr).toBe(0);
    expect(versionMap(await readProducts(path.join(dir, s), STABLE))[SGA]).toEqual(['20260701']);
  });
  it('more than two streams is a usage error (the original raised an AssertionError)', async () => {
    const r = await util(['patch', 'a', 'b', 'c', '-i', 'delete.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('compat meph2-util import import_cfg target (-u --keyring --proposed --max -f)', () => {
  it('import --no-sign release-notification.yaml target publishes the notification', async () => {
    await fs.writeFile(
      path.join(dir, 'release-notifications.yaml'),
      'product_id: com.ubuntu.maas:candidate:1:maas-notification\ncontent_id: com.ubuntu.maas:candidate:1:maas-notification\nrelease-notification:\n  version: 1.0\n  maas_version: "3.5.0"\n  message: "MAAS 3.5 is out"\n',
    );
    await ok(['import', '--no-sign', '--keyring', key.keyring, 'release-notifications.yaml', 'notify.d']);
    const doc = await readProducts(path.join(dir, 'notify.d'), 'streams/v1/com.ubuntu.maas:candidate:1:maas-notification.json');
    expect(doc.datatype).toBe('release-notifications');
  });
  it('image_index (CentOS) / packer-maas imports are refused in one line (not implemented)', async () => {
    await fs.writeFile(path.join(dir, 'centos.yaml'), 'image_index:\n  centos7:\n    release: "7"\n');
    const r = await util(['import', '-u', '-f', '--max', '2', '--proposed', 'centos.yaml', 'bl.d']);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(path.join(dir, 'bl.d'))).toBe(false);
  });
});
