import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { useTempDir } from '@meph/test-support';

const TSX = createRequire(import.meta.url).resolve('tsx');
const RUNNER = path.join(import.meta.dirname, '__fixtures__/run-bundle.ts');
// A stand-in for an app bundle (tools/build-cli-assets.mjs): CommonJS, stamped with a hash.
const BUNDLE = `/*meph-bundle:0123456789abcdef*/
const path = require('node:path');
function answer(args) { return args.map((a) => a.toUpperCase()).join(' '); }
process.stdout.write(answer(process.argv.slice(2)) + ' ' + path.basename(__filename) + '\\n');
`;

const dir = useTempDir('meph-launch-');
let bundle: string;
let cache: string;
beforeEach(() => {
  bundle = path.join(dir.path, 'demo-app/dist/bundle/cli.cjs');
  mkdirSync(path.dirname(bundle), { recursive: true });
  writeFileSync(bundle, BUNDLE);
  cache = path.join(dir.path, 'cache');
});

function run(args: string[], env: Record<string, string> = { MEPH_CODE_CACHE: cache }): string {
  const r = spawnSync(process.execPath, ['--import', TSX, RUNNER, ...args], { encoding: 'utf8', env: { ...process.env, MEPH_TEST_BUNDLE: bundle, ...env } });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return r.stdout;
}
const cacheFiles = (): string[] => readdirSync(cache).sort();

describe('runBundle', () => {
  it('writes a code cache per command on the first run and uses it, unchanged, on the next', () => {
    expect(run(['query', 'x'])).toBe('QUERY X cli.cjs\n');
    const [file, ...rest] = cacheFiles();
    expect(rest).toEqual([]);
    expect(file).toMatch(new RegExp(`^demo-app\\.0123456789abcdef-query-${process.version.replace(/\./g, '\\.')}-${process.arch}\\.v8cache$`));
    expect(statSync(cache).mode & 0o777).toBe(0o700);
    const first = statSync(path.join(cache, file!));
    expect(run(['query', 'y'])).toBe('QUERY Y cli.cjs\n');
    expect(statSync(path.join(cache, file!)).ino).toBe(first.ino); // accepted: a rejected cache is replaced
    expect(run(['--help'])).toBe('--HELP cli.cjs\n');
    expect(cacheFiles()).toEqual([expect.stringMatching(/^demo-app\.0123456789abcdef-_-/), file]);
  });

  it("removes the caches of the app's earlier builds when it writes one, not other apps'", () => {
    run(['query']);
    const older = `demo-app.1111111111111111-query-${process.version}-${process.arch}.v8cache`;
    const other = `other.1111111111111111-query-${process.version}-${process.arch}.v8cache`;
    writeFileSync(path.join(cache, older), 'old');
    writeFileSync(path.join(cache, other), 'other');
    writeFileSync(bundle, BUNDLE.replace('0123456789abcdef', 'fedcba9876543210'));
    expect(run(['query'])).toBe('QUERY cli.cjs\n');
    expect(cacheFiles()).toEqual([expect.stringMatching(/^demo-app\.fedcba9876543210-query-/), other]);
  });

  it('replaces a cache V8 rejects, and still runs', () => {
    mkdirSync(cache, { mode: 0o700 });
    run(['query']);
    const [file] = cacheFiles();
    writeFileSync(path.join(cache, file!), 'not bytecode');
    expect(run(['query'])).toBe('QUERY cli.cjs\n');
    expect(readFileSync(path.join(cache, file!)).toString()).not.toBe('not bytecode');
  });

  it('neither reads nor writes a cache directory others can write to', () => {
    mkdirSync(cache);
    chmodSync(cache, 0o777);
    const planted = path.join(cache, `demo-app.0123456789abcdef-query-${process.version}-${process.arch}.v8cache`);
    writeFileSync(planted, 'planted');
    expect(run(['query'])).toBe('QUERY cli.cjs\n');
    expect(cacheFiles()).toEqual([path.basename(planted)]);
    expect(readFileSync(planted, 'utf8')).toBe('planted');
  });

  it("keeps it in the user's cache directory, but not in one that belongs to someone else (sudo)", () => {
    const home = path.join(dir.path, 'home');
    mkdirSync(home);
    const env = { MEPH_CODE_CACHE: '', XDG_CACHE_HOME: '', HOME: home };
    expect(run(['query'], env)).toBe('QUERY cli.cjs\n');
    expect(readdirSync(path.join(home, '.cache/meph/code-cache'))).toHaveLength(1);
    const xdg = path.join(dir.path, 'xdg');
    mkdirSync(xdg);
    expect(run(['query'], { ...env, XDG_CACHE_HOME: xdg })).toBe('QUERY cli.cjs\n');
    expect(readdirSync(path.join(xdg, 'meph/code-cache'))).toHaveLength(1);
    const theirs = path.join(dir.path, 'theirs');
    mkdirSync(theirs);
    chownSync(theirs, 65534, 65534);
    expect(run(['query'], { ...env, HOME: theirs })).toBe('QUERY cli.cjs\n');
    expect(readdirSync(theirs)).toEqual([]);
  });

  it('runs without a cache when MEPH_CODE_CACHE=off, or for a bundle without a stamp', () => {
    expect(run(['query'], { MEPH_CODE_CACHE: 'off' })).toBe('QUERY cli.cjs\n');
    writeFileSync(bundle, BUNDLE.replace(/^\/\*meph-bundle:\w+\*\//, ''));
    expect(run(['query'])).toBe('QUERY cli.cjs\n');
    expect(() => readdirSync(cache)).toThrow(/ENOENT/);
  });
});
