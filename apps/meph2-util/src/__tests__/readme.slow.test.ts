/**
 * The README's "Everyday use" block, run exactly as written (the first ```sh block under that
 * heading, extracted from README.md at test time), on two days of main-job output.
 *
 * In place of the main job's real build (minutes of debootstrap and kernels) the stream comes
 * from the same command the main job runs — `meph2-build --config conf/debian-bookworm.yaml
 * --no-sign amd64 bookworm SERIAL SOURCE OUT` — with the fake converter
 * (MAAS_CLOUDIMG2EPH2=fake), so it has the main job's shape (content id, products, items,
 * paths) and only the file contents differ. The block finds it through MEPH_MAIN_JOB_OUT, the
 * main job's own variable. The block runs in a directory inside the repository (so `npx`
 * finds the workspace's bins, offline) with bash -e -o pipefail and its own TMPDIR, where its
 * throw-away GNUPGHOME lands so the test can stop that home's gpg-agent afterwards.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runAppProcess } from '@meph/test-support';
import { readProducts, versionMap } from './stream-fixture.js';

function everydayBlock(readme: string): string {
  const at = readme.indexOf('\n## Everyday use\n');
  if (at < 0) throw new Error('README.md has no "## Everyday use" section');
  const next = readme.indexOf('\n## ', at + 1);
  const section = readme.slice(at, next < 0 ? undefined : next);
  const m = /```sh\n([\s\S]*?)```/.exec(section);
  if (!m) throw new Error('the "Everyday use" section has no ```sh block');
  return m[1] as string;
}

let work: string;
let mainJobOut: string;
let source: string;
let block: string;

const cleanEnv = (): NodeJS.ProcessEnv => {
  const env = { ...process.env };
  for (const k of ['MEPH_SIGNING_KEY', 'MEPH_SIGNING_KEY_ID', 'MEPH_GPG_KEY', 'SS_GPG_DEFAULT_KEY', 'GNUPGHOME', 'MEPH_KEYRING', 'MEPH_CONFIG', 'MEPH2_CONFIG_YAML']) delete env[k];
  return env;
};

beforeAll(async () => {
  block = everydayBlock(await fs.readFile(path.join(REPO_ROOT, 'README.md'), 'utf8'));
  // `npx meph2-util` runs the built bin (dist/); tools/test.sh builds first, this makes a direct run safe too.
  const tsc = spawnSync('npx', ['tsc', '-b', 'tsconfig.json'], { cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, NPM_CONFIG_OFFLINE: 'true' } });
  if (tsc.status !== 0) throw new Error(`build failed: ${tsc.stdout}${tsc.stderr}`);
  await fs.mkdir(path.join(REPO_ROOT, 'tmp'), { recursive: true });
  work = await fs.mkdtemp(path.join(REPO_ROOT, 'tmp', 'readme-everyday-'));
  mainJobOut = path.join(work, 'main-job', 'stream');
  source = path.join(work, 'main-job', 'rootfs.tar');
  await fs.mkdir(path.dirname(source), { recursive: true });
  await fs.writeFile(source, 'stand-in for the minbase root tarball (the fake converter does not read it)\n');
}, 600_000);

afterAll(async () => {
  if (!work) return;
  for (const e of await fs.readdir(work, { withFileTypes: true }).catch(() => [])) {
    if (e.isDirectory() && e.name.startsWith('tmp.')) spawnSync('gpgconf', ['--homedir', path.join(work, e.name), '--kill', 'gpg-agent']);
  }
  await fs.rm(work, { recursive: true, force: true });
});

async function mainJobBuild(serial: string): Promise<void> {
  const r = await runAppProcess('meph2-build', ['--config', 'conf/debian-bookworm.yaml', '--no-sign', 'amd64', 'bookworm', serial, source, mainJobOut], {
    cwd: REPO_ROOT,
    env: { ...cleanEnv(), MAAS_CLOUDIMG2EPH2: 'fake' },
  });
  expect(r.code, r.stderr).toBe(0);
}

function runBlock(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-e', '-o', 'pipefail', '-c', block], {
      cwd: work,
      env: { ...cleanEnv(), MEPH_MAIN_JOB_OUT: mainJobOut, TMPDIR: work, NPM_CONFIG_OFFLINE: 'true', npm_config_yes: 'false' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const STABLE = 'streams/v1/org.debian.meph:stable:v3:download.json';
const DAILY = 'streams/v1/org.debian.meph:candidate:v3:download.json';

describe('README "Everyday use"', () => {
  it('the block is the release engineer\'s day: key, insert, promote or diff+patch, clean-md, orphans, sign, verify, query', () => {
    expect(block).toMatch(/^npx meph2-util insert /m);
    expect(block).toMatch(/^npx meph2-util verify /m);
    expect(block).not.toMatch(/meph2-build|cloudimg-sync/); // building is its own block
  });

  it('runs as pasted on the first day (empty stable stream) and on the next (diff + patch promote)', async () => {
    await mainJobBuild('20260101');
    const day1 = await runBlock();
    expect(day1.code, day1.stderr).toBe(0);
    expect(day1.stderr).not.toMatch(/error:/);
    expect(day1.stdout).toMatch(/^OK: stable\.d\/: .*signature\(s\) good.*0 error\(s\)/m);
    expect(day1.stdout).toContain('org.debian.meph.stable:v3:boot:12:amd64:ga-12 20260101\norg.debian.meph.stable:v3:boot:12:amd64:ga-12-cloud 20260101\n');
    expect(versionMap(await readProducts(path.join(work, 'stable.d'), STABLE))).toEqual({
      'org.debian.meph.stable:v3:boot:12:amd64:ga-12': ['20260101'],
      'org.debian.meph.stable:v3:boot:12:amd64:ga-12-cloud': ['20260101'],
    });

    // the next day's main job replaces its output with the new version only
    await mainJobBuild('20260102');
    const day2 = await runBlock();
    expect(day2.code, day2.stderr).toBe(0);
    expect(day2.stderr).not.toMatch(/error:/);
    expect(day2.stderr).toMatch(/patch: 2 version-added/);
    expect(day2.stdout).toContain('org.debian.meph.stable:v3:boot:12:amd64:ga-12 20260102\n');
    expect(versionMap(await readProducts(path.join(work, 'stable.d'), STABLE))['org.debian.meph.stable:v3:boot:12:amd64:ga-12']).toEqual(['20260101', '20260102']);
    expect(versionMap(await readProducts(path.join(work, 'daily.d'), DAILY))['org.debian.meph.candidate:v3:boot:12:amd64:ga-12']).toEqual(['20260101', '20260102']);
    for (const f of ['index.sjson', 'index.json.gpg', 'org.debian.meph:stable:v3:download.sjson']) await fs.access(path.join(work, 'stable.d/streams/v1', f));
  }, 600_000);
});
