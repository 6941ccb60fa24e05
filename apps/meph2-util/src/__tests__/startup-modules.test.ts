import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '@meph/test-support';
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
  const record = path.join(dir, `loads-${args[0]}.txt`);
  const r = spawnSync(process.execPath, ['--conditions=@meph/source', '--import', TSX, '--import', RECORDER, CLI, ...args], {
    cwd: dir,
    env: { ...process.env, MEPH_RECORD_LOADS: record },
    encoding: 'utf8',
  });
  expect(r.status, r.stderr).toBe(0);
  return readFileSync(record, 'utf8').split('\n').filter(Boolean);
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
});
