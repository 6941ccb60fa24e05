import { existsSync, promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { generateKey } from 'openpgp';
import { REPO_ROOT, runAppProcess, runCliCaptured, SHARED_DIR } from '@meph/test-support';
import { loadStream } from '@meph/simplestreams';
import { checkMaasStream } from '@meph/maas-rules';
import { spec } from '../main.js';

const V3 = path.join(SHARED_DIR, 'reference/conf/meph-v3.yaml');
const CID = 'com.ubuntu.maas:candidate:v3:download';
const FAKE = { ...process.env, MAAS_CLOUDIMG2EPH2: 'fake' };
const DEBIAN_KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';
const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await fsp.rm(d, { recursive: true, force: true });
});

async function tmp(): Promise<string> {
  const d = await fsp.mkdtemp(path.join(os.tmpdir(), 'meph2-build-cli-'));
  dirs.push(d);
  await fsp.writeFile(path.join(d, 'noble.squashfs'), 'source');
  return d;
}

function build(args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }) {
  return runCliCaptured(spec, args, { cwd: options.cwd, env: options.env ?? FAKE });
}

describe('meph2-build', () => {
  it('--help is complete, with examples and the precedence', async () => {
    const r = await runCliCaptured(spec, ['--help']);
    expect(r.code).toBe(0);
    for (const flag of ['--config', '--image-format', '--proposed', '--enable-di', '--disable-di', '--flat-json', '--squashfs-compression', '--squashfs-block-size', '--dry-run', '--no-sign', '--json', '--verbose', '--log-file', '--fake']) {
      expect(r.stdout).toContain(flag);
    }
    expect(r.stdout).toMatch(/Examples:\n\s+meph2-build --config conf\/debian-bookworm\.yaml/);
    expect(r.stdout).toContain('MEPH2_CONFIG_YAML');
  });

  it('builds a stream with the fake converter (MAAS_CLOUDIMG2EPH2=fake) that MAAS 3.7 and 3.8 accept', async () => {
    const d = await tmp();
    const r = await build(['--config', V3, '-u', 'amd64', 'noble', '20240101', 'noble.squashfs', 'out'], { cwd: d });
    expect(r.stderr).toContain('converting');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${path.join(d, 'out')}\n`);
    expect(r.stderr).toMatch(/wrote .*com\.ubuntu\.maas:candidate:v3:download\.json \(6 products\)/);
    const stream = await loadStream(path.join(d, 'out'));
    expect(Object.keys(stream.products[0]!.doc.products)).toHaveLength(6);
    const findings = await checkMaasStream(stream, { checkData: true, commissioningRelease: 'noble' });
    expect(findings.filter((f) => f.severity !== 'warning')).toEqual([]);
    expect(existsSync(path.join(d, 'out/streams/v1/index.sjson'))).toBe(false);
  });

  it('uses conf/meph-v3.yaml by default and MEPH2_CONFIG_YAML when set', async () => {
    const d = await tmp();
    let r = await build(['--dry-run', 'amd64', 'resolute', '20260501', 'noble.squashfs', 'out'], { cwd: d });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('product com.ubuntu.maas.candidate:v3:boot:26.04:amd64:ga-26.04');
    r = await build(['--dry-run', '--disable-di', 'amd64', 'resolute', '20260501', 'noble.squashfs', 'out'], { cwd: d, env: { ...FAKE, MEPH2_CONFIG_YAML: path.join(SHARED_DIR, 'reference/conf/meph-v2.yaml') } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/meph-v2\.yaml: release "resolute" is not in the config \(known releases: bionic, xenial, trusty, precise\)\n$/);
  });

  it('--dry-run prints products, items and paths and writes nothing', async () => {
    const d = await tmp();
    const r = await build(['--config', V3, '--dry-run', 'amd64', 'noble', '20240101', 'noble.squashfs', 'out'], { cwd: d });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('product com.ubuntu.maas.candidate:v3:boot:24.04:amd64:hwe-24.04-lowlatency-edge');
    expect(r.stdout).toContain('boot-kernel    noble/amd64/20240101/hwe-24.04-edge/lowlatency/boot-kernel  (kpackage linux-lowlatency-hwe-24.04-edge)');
    expect(r.stdout).toContain('squashfs       noble/amd64/20240101/squashfs');
    expect(r.stdout).toMatch(/dry run: nothing was written\n$/);
    expect(await fsp.readdir(d)).toEqual(['noble.squashfs']);
  });

  it('--json: NDJSON events on stdout, the plan in detail on --dry-run', async () => {
    const d = await tmp();
    const r = await build(['--json', '--config', V3, '-u', 'amd64', 'noble', '20240101', 'noble.squashfs', 'out'], { cwd: d });
    expect(r.code).toBe(0);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string });
    const types = events.map((e) => e.type);
    for (const t of ['plan', 'converter-start', 'progress', 'item-built', 'products-written', 'index-written', 'build-done']) expect(types).toContain(t);
    expect(types.filter((t) => t === 'item-built')).toHaveLength(24);
    const dry = await build(['--json', '--dry-run', '--config', V3, 'amd64', 'noble', '20240102', 'noble.squashfs', 'out'], { cwd: d });
    const detail = dry.stdout.trim().split('\n').map((l) => JSON.parse(l)).find((e) => e.type === 'plan-detail');
    expect(detail.plan.products).toHaveLength(6);
    expect(existsSync(path.join(d, 'out/noble/amd64/20240102'))).toBe(false);
  });

  it('-v lists every item; --log-file gets timestamped lines', async () => {
    const d = await tmp();
    const quiet = await build(['--config', V3, '-u', 'amd64', 'noble', '20240101', 'noble.squashfs', 'o1'], { cwd: d });
    expect(quiet.stderr).not.toContain('sha256');
    const r = await build(['--config', V3, '-u', '-v', '--log-file', 'build.log', 'amd64', 'noble', '20240101', 'noble.squashfs', 'o2'], { cwd: d });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/hwe-24\.04-edge 20240101 boot-kernel: noble\/amd64\/20240101\/hwe-24\.04-edge\/generic\/boot-kernel \d+ bytes sha256 [0-9a-f]{64}/);
    const log = await fsp.readFile(path.join(d, 'build.log'), 'utf8');
    expect(log).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z building noble\/amd64 20240101: 6 products, 14 files$/m);
    expect(log).toContain('sha256');
  });

  it('--log-file in a missing directory: one clear line, exit 2, nothing built', async () => {
    const d = await tmp();
    const r = await build(['--config', V3, '-u', '--log-file', 'logs/build.log', 'amd64', 'noble', '20240101', 'noble.squashfs', 'out'], { cwd: d });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`meph2-build: error: --log-file ${d}/logs/build.log: no such directory ${d}/logs (create the directory first, or give another path)\n`);
    expect(existsSync(path.join(d, 'out'))).toBe(false);
  });

  it('--flat-json, --squashfs-compression and --squashfs-block-size reach the output', async () => {
    const d = await tmp();
    const r = await build(['--config', V3, '-u', '--flat-json', 'items.json', '--squashfs-compression', 'zstd', '--squashfs-block-size', '64K', 'amd64', 'noble', '20240101', 'noble.squashfs', 'out'], { cwd: d });
    expect(r.code).toBe(0);
    expect(JSON.parse(await fsp.readFile(path.join(d, 'items.json'), 'utf8'))).toHaveLength(24);
    const sq = await fsp.readFile(path.join(d, 'out/noble/amd64/20240101/squashfs'));
    expect(sq.readUInt16LE(20)).toBe(6); // squashfs superblock: compression id 6 = zstd
    expect(sq.readUInt32LE(12)).toBe(65536); // block size
  });

  it('seed 6 from the command line: a re-run says so and does not convert again', async () => {
    const d = await tmp();
    await build(['--config', V3, '-u', 'amd64', 'noble', '20240101', 'noble.squashfs', 'out'], { cwd: d });
    const r = await build(['--config', V3, '-u', 'amd64', 'noble', '20240101', 'noble.squashfs', 'out'], { cwd: d });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('all 14 output files exist; not re-generating');
    expect(r.stderr).not.toContain('converting');
  });

  it('seed 4: an arch without kernel lines fails naming what matched nothing (the original: exit 0, empty products)', async () => {
    const d = await tmp();
    for (const extra of [[], ['--dry-run']]) {
      const r = await build(['--config', V3, ...extra, 'riscv64', 'plucky', '20250101', 'noble.squashfs', 'out'], { cwd: d });
      expect(r.code).toBe(1);
      expect(r.stderr.trim()).toMatch(/^meph2-build: error: .*meph-v3\.yaml: release plucky has no kernel lines for arch riscv64; nothing to build \(arches with kernel lines for plucky: amd64, arm64, armhf, ppc64el, s390x\)$/);
      expect(existsSync(path.join(d, 'out'))).toBe(false);
    }
  });

  it('like the original, the output is unsigned unless --sign or a key is given', async () => {
    const d = await tmp();
    const env = { ...FAKE, MEPH_SIGNING_KEY: '', MEPH_GPG_KEY: '' };
    const r = await build(['--config', V3, 'amd64', 'noble', '20240101', 'noble.squashfs', 'out'], { cwd: d, env });
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(path.join(d, 'out/streams/v1/index.json'))).toBe(true);
    expect((await fsp.readdir(path.join(d, 'out/streams/v1'))).filter((f) => /\.(sjson|gpg)$/.test(f))).toEqual([]);
    const asked = await build(['--config', V3, '--sign', 'amd64', 'noble', '20240102', 'noble.squashfs', 'out2'], { cwd: d, env });
    expect(asked.code).toBe(2);
    expect(asked.stderr).toMatch(/^meph2-build: error: no signing key configured/m);
    expect(existsSync(path.join(d, 'out2'))).toBe(false);
  });

  it('user errors are one line with a non-zero exit and nothing written', async () => {
    const d = await tmp();
    const bad = path.join(d, 'bad.yaml');
    await fsp.writeFile(bad, (await fsp.readFile(V3, 'utf8')).replace('version: "24.04"', 'version: 24.04'));
    const cases: Array<[string[], number, RegExp, NodeJS.ProcessEnv?]> = [
      [['--config', bad, '-u', 'amd64', 'noble', '1', 'noble.squashfs', 'out'], 1, /^meph2-build: error: .*bad\.yaml:\d+: releases\[noble\]\.version: must be a quoted string such as "24.04", not a YAML number/m],
      [['--config', V3, '-u', 'amd64', 'nobel', '1', 'noble.squashfs', 'out'], 1, /^meph2-build: error: .*release "nobel" is not in the config \(known releases: resolute, /m],
      [['--config', V3, '-u', 'amd64', 'noble', '1'], 2, /^meph2-build: error: Not enough non-option arguments/m],
      [['--config', V3, '-u', '--image-format', 'iso', 'amd64', 'noble', '1', 'noble.squashfs', 'out'], 2, /^meph2-build: error: Invalid values:/m],
      [['--config', V3, '-u', '--enable-di', '--disable-di', 'amd64', 'noble', '1', 'noble.squashfs', 'out'], 2, /^meph2-build: error: Arguments enable-di and disable-di are mutually exclusive/m],
      [['--config', V3, '-u', '--squashfs-block-size', '3K', 'amd64', 'noble', '1', 'noble.squashfs', 'out'], 1, /^meph2-build: error: --squashfs-block-size: "3K" is not a squashfs block size/m],
      [['--config', V3, '-u', '--enable-di', '--di-archive', 'http://127.0.0.1:1/ubuntu', '--di-keyring', DEBIAN_KEYRING, 'amd64', 'noble', '1', 'noble.squashfs', 'out'], 1, /^meph2-build: error: d-i archive http:\/\/127\.0\.0\.1:1\/ubuntu: cannot crawl the installer for noble\/amd64: .*ECONNREFUSED.* \(check the archive and its keyring/m],
      [['--config', V3, '-u', '--enable-di', '--di-keyring', 'no-such.gpg', 'amd64', 'noble', '1', 'noble.squashfs', 'out'], 1, /^meph2-build: error: d-i archive of ubuntu: keyring .*no-such\.gpg does not exist \(give an existing keyring with --di-keyring\)/m],
      [['--config', V3, '-u', 'amd64', 'noble', '1', 'missing.img', 'out'], 1, /^meph2-build: error: .*missing\.img: no such source file/m],
      [['--config', V3, '--sign', 'amd64', 'noble', '1', 'noble.squashfs', 'out'], 2, /^meph2-build: error: no signing key configured/m, { ...FAKE, MEPH_SIGNING_KEY: '', MEPH_GPG_KEY: '' }],
      [['--config', V3, '-u', 'amd64', 'noble', '1', 'noble.squashfs', 'out'], 1, /^meph2-build: error: MAAS_CLOUDIMG2EPH2=\/opt\/conv: no such executable \(give the path of an executable converter/m, { MAAS_CLOUDIMG2EPH2: '/opt/conv' }],
      [['--config', V3, '-u', 'amd64', 'noble', '1', 'noble.squashfs', 'out'], 1, /^meph2-build: error: environment: MEPH_PROPOSED: "perhaps" is not a boolean/m, { ...FAKE, MEPH_PROPOSED: 'perhaps' }],
    ];
    for (const [args, code, message, env] of cases) {
      const r = await build(args, { cwd: d, ...(env ? { env } : {}) });
      expect({ args, code: r.code }).toEqual({ args, code });
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n').filter((l) => l.includes('error'))).toHaveLength(1);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(existsSync(path.join(d, 'out', 'streams'))).toBe(false);
    }
  });

  it('signs the stream when a key is given (index.sjson and products .sjson)', async () => {
    const d = await tmp();
    const { privateKey } = await generateKey({ type: 'ecc', curve: 'ed25519Legacy', userIDs: [{ name: 'meph test', email: 'test@example.invalid' }], format: 'armored' });
    await fsp.writeFile(path.join(d, 'key.asc'), privateKey);
    const r = await build(['--config', V3, '--key', 'key.asc', 'amd64', 'noble', '20240101', 'noble.squashfs', 'out'], { cwd: d });
    expect(r.stderr).toBe(r.stderr);
    expect(r.code).toBe(0);
    const sjson = await fsp.readFile(path.join(d, 'out/streams/v1/index.sjson'), 'utf8');
    expect(sjson.startsWith('-----BEGIN PGP SIGNED MESSAGE-----\n')).toBe(true);
    expect(sjson).toContain(`streams/v1/${CID}.sjson`);
    expect(existsSync(path.join(d, `out/streams/v1/${CID}.sjson`))).toBe(true);
  });

  it('runs as a real process: exit code and stream path', async () => {
    const d = await tmp();
    const r = await runAppProcess('meph2-build', ['--fake', '--config', path.join(REPO_ROOT, 'conf/debian-bookworm.yaml'), '-u', 'amd64', 'bookworm', '20260101', 'noble.squashfs', 'out'], { cwd: d, env: { MAAS_CLOUDIMG2EPH2: '' } });
    expect(r.stderr).toContain('fake converter');
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(path.join(d, 'out'));
    expect(existsSync(path.join(d, 'out/bookworm/amd64/20260101/ga-12/cloud/boot-kernel'))).toBe(true);
  });
});

describe('event rendering', () => {
  it('shows pipeline steps by default and their logs with -v', async () => {
    const { describeEvent, eventVerbosity } = await import('../render.js');
    expect(describeEvent({ type: 'step', step: 'kernel:cloud', state: 'done', seconds: 41.26, verflav: '6.1.0-28-cloud-amd64' })).toBe('kernel:cloud: done in 41.3 s (kernel 6.1.0-28-cloud-amd64)');
    expect(describeEvent({ type: 'step', step: 'kernel:generic', state: 'start', package: 'linux-image-amd64' })).toBe('kernel:generic (linux-image-amd64): started');
    expect(eventVerbosity({ type: 'step', step: 'unpack', detail: 'copying' })).toBe(0);
    expect(eventVerbosity({ type: 'log', step: 'customise', message: 'x' })).toBe(1);
    expect(describeEvent({ type: 'cleanup', device: '/dev/loop7', reason: 'left over' })).toBe('removed /dev/loop7 (left over)');
    // The events are a typed union: an event name the library does not emit does not compile.
    // @ts-expect-error 'whatever' is no BuildEvent
    expect(() => eventVerbosity({ type: 'whatever' })).toThrow(/unknown build event/);
  });
});
