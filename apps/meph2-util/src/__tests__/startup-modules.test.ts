import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runCliCaptured } from '@meph/test-support';
import { spec } from '../main.js';
import { makeStream, tempDir, NOBLE } from './stream-fixture.js';

// Start-up (issue 14): a command loads what it uses. Reading a local unsigned stream must not
// load the HTTP stack, OpenPGP or the YAML parser; they cost tens of milliseconds per run.
const TSX = createRequire(import.meta.url).resolve('tsx');
const CLI = path.join(REPO_ROOT, 'apps/meph2-util/src/cli.ts');
const RECORDER = path.join(import.meta.dirname, '__fixtures__/record-loads.mjs');
const HEAVY = [/^node:https?$/, /^node:tls$/, /\/node_modules\/yaml\//, /^require:yaml$/, /\/node_modules\/openpgp\//, /^require:node:https?$/, /^require:node:tls$/];

let dir: string;
beforeAll(async () => {
  dir = await tempDir('meph-startup-');
  await makeStream(path.join(dir, 'stream'), { label: 'stable', serials: ['20250101', '20250102'], releases: [NOBLE] });
});
afterAll(() => fs.rm(dir, { recursive: true, force: true }));

function loadsOf(args: string[]): string[] {
  return run(['--conditions=@meph/source', '--import', TSX, '--import', RECORDER, CLI], args).loads;
}

let runs = 0;
function run(node: string[], args: string[], env: Record<string, string> = {}): { loads: string[]; stdout: string } {
  const record = path.join(dir, `loads-${++runs}.txt`);
  const r = spawnSync(process.execPath, [...node, ...args], { cwd: dir, env: { ...process.env, ...env, MEPH_RECORD_LOADS: record }, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  const loads = readFileSync(record, 'utf8').split('\n').filter(Boolean);
  return { loads, stdout: r.stdout };
}

describe('what a command loads', () => {
  it('query of a local unsigned stream: no HTTP stack, OpenPGP or YAML', () => {
    const loads = loadsOf(['query', '--json', path.join(dir, 'stream/streams/v1/index.json'), 'arch=amd64', '--max=1']);
    expect(loads.some((u) => u.includes('/simplestreams/src/flatten/query.ts'))).toBe(true);
    expect(loads.filter((u) => HEAVY.some((re) => re.test(u)))).toEqual([]);
  });

  it('clean-md of a local stream: no HTTP stack, OpenPGP or YAML', () => {
    const loads = loadsOf(['clean-md', '--dry-run', '1', path.join(dir, 'stream')]);
    expect(loads.some((u) => u.includes('/stream-ops/src/clean-md.ts'))).toBe(true);
    expect(loads.filter((u) => HEAVY.some((re) => re.test(u)))).toEqual([]);
  });

  it('verify of a local stream: its library call (@meph/publish/verify) without the object stores (AWS SDK) or the MAAS rules', () => {
    const loads = loadsOf(['verify', '--no-verify', path.join(dir, 'stream')]);
    expect(loads.some((u) => u.includes('/publish/src/verify.ts'))).toBe(true);
    expect(loads.filter((u) => /\/node_modules\/@aws-sdk\/|\/publish\/src\/s3-store\.ts|\/maas-rules\//.test(u))).toEqual([]);
  });
});

// The installed bin runs the app bundled (tools/build-cli-assets.mjs, `npm run build`): its own
// code and the @meph libraries in one script, run with a code cache (cli-kit's runBundle).
describe('the built bin', () => {
  const BIN = path.join(REPO_ROOT, 'apps/meph2-util/bin/meph2-util.js');

  it.each([
    ['query', ['query', '--json', 'stream/streams/v1/index.json', 'arch=amd64', '--max=1']],
    ['clean-md', ['clean-md', '--dry-run', '1', 'stream']],
  ])('%s loads its bundle and third-party packages only, and answers as the sources do', async (_name, args) => {
    const { loads, stdout } = run(['--import', RECORDER, BIN], args, { MEPH_CODE_CACHE: path.join(dir, 'code-cache') });
    expect(loads.filter((u) => u.startsWith('file:'))).toEqual([`file://${BIN}`]);
    expect(loads.filter((u) => u.startsWith('require:') && !/^require:(node:)?[a-z_/]+$/.test(u))).toEqual(['require:../dist/bundle/launch.cjs']);
    expect(loads.filter((u) => HEAVY.some((re) => re.test(u)))).toEqual([]);
    expect(stdout).toBe((await runCliCaptured(spec, args, { cwd: dir })).stdout);
  });
});
