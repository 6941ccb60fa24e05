import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

/**
 * First bytes of an app bundle (tools/build-cli-assets.mjs): a hash of its content. V8 checks a
 * code cache against the length of the source only, so the cache is named after this hash.
 */
const STAMP = /^\/\*meph-bundle:([0-9a-f]{16})\*\//;

/** A command name as the cache key's part (anything else shares one cache). */
const COMMAND = /^[a-z][a-z0-9-]{0,31}$/;

/**
 * Runs an app's CommonJS bundle (`dist/bundle/cli.cjs`) with a V8 code cache: the bytecode of
 * the functions its last run of the same command compiled, kept per user, so a run skips most
 * of parsing and compiling the bundle (Node 20 has no compile cache of its own). A missing or
 * rejected cache (another node, other V8 flags) is written at exit; any problem with the cache
 * only costs the compile it would have saved. `MEPH_CODE_CACHE=off` disables it, a path moves
 * it (default `$XDG_CACHE_HOME/meph/code-cache`, else `~/.cache/meph/code-cache`). Under
 * `--enable-source-maps` the bundle is required as usual, so stack traces map to the sources.
 * The bundle must not `import()`: code run from a cache cannot (Node 20 loses the callback).
 */
export function runBundle(bundle: URL, argv: readonly string[] = process.argv.slice(2)): void {
  const file = fileURLToPath(bundle);
  const source = readFileSync(file, 'utf8');
  const cacheFile = process.sourceMapsEnabled ? undefined : codeCacheFile(source, argv);
  if (cacheFile === undefined) {
    createRequire(file)(file);
    return;
  }
  const cachedData = readCodeCache(cacheFile);
  const script = new vm.Script(Module.wrap(source), { filename: file, cachedData });
  if (cachedData === undefined || script.cachedDataRejected) process.once('exit', () => saveCodeCache(script, cacheFile));
  const module = { exports: {} };
  (script.runInThisContext() as (...args: unknown[]) => void)(module.exports, createRequire(file), module, file, path.dirname(file));
}

/** Where this bundle's cache for this command lives, or undefined when there is to be none. */
function codeCacheFile(source: string, argv: readonly string[]): string | undefined {
  const hash = STAMP.exec(source)?.[1];
  const dir = codeCacheDir();
  if (hash === undefined || dir === undefined) return undefined;
  const command = argv[0] !== undefined && COMMAND.test(argv[0]) ? argv[0] : '_';
  return path.join(dir, `${hash}-${command}-${process.version}-${process.arch}.v8cache`);
}

/**
 * `$MEPH_CODE_CACHE`, else under the user's cache directory: not when that belongs to someone
 * else (root run by `sudo` with the user's HOME), whose cache root must not come to own.
 */
function codeCacheDir(): string | undefined {
  const setting = process.env['MEPH_CODE_CACHE'];
  if (setting === 'off' || setting === '0') return undefined;
  if (setting) return path.resolve(setting);
  const xdg = process.env['XDG_CACHE_HOME'];
  const owner = statSync(xdg || os.homedir(), { throwIfNoEntry: false })?.uid;
  if (owner !== process.getuid?.()) return undefined;
  return path.join(xdg || path.join(os.homedir(), '.cache'), 'meph', 'code-cache');
}

/** Only a directory this user owns and others cannot write is trusted: bytecode is code. */
function isPrivateDir(dir: string): boolean {
  const st = statSync(dir, { throwIfNoEntry: false });
  return st !== undefined && st.isDirectory() && st.uid === process.getuid?.() && (st.mode & 0o022) === 0;
}

function readCodeCache(cacheFile: string): Buffer | undefined {
  try {
    return isPrivateDir(path.dirname(cacheFile)) ? readFileSync(cacheFile) : undefined;
  } catch {
    return undefined;
  }
}

/** Writes the cache with temp + rename, so parallel runs never read half a file. */
function saveCodeCache(script: vm.Script, cacheFile: string): void {
  const dir = path.dirname(cacheFile);
  const tmp = `${cacheFile}.${process.pid}.tmp`;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (!isPrivateDir(dir)) return;
    writeFileSync(tmp, script.createCachedData(), { mode: 0o600 });
    renameSync(tmp, cacheFile);
  } catch {
    try {
      rmSync(tmp, { force: true });
    } catch {
      // the cache is an optimisation: nothing to report
    }
  }
}
