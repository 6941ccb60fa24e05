import { isAscii } from 'node:buffer';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
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

/** A command or package name as part of a cache's name (anything else becomes `_`). */
const NAME = /^[a-z][a-z0-9-]{0,31}$/;

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
  const bytes = readFileSync(file);
  // A bundle is ASCII (esbuild escapes the rest), which becomes a string in half the time as latin1.
  const source = bytes.toString(isAscii(bytes) ? 'latin1' : 'utf8');
  const cache = process.sourceMapsEnabled ? undefined : codeCacheFor(file, source, argv);
  if (cache === undefined) {
    createRequire(file)(file);
    return;
  }
  const cachedData = readCodeCache(cache.file);
  const script = new vm.Script(Module.wrap(source), { filename: file, cachedData });
  if (cachedData === undefined || script.cachedDataRejected) process.once('exit', () => saveCodeCache(script, cache));
  const module = { exports: {} };
  (script.runInThisContext() as (...args: unknown[]) => void)(module.exports, createRequire(file), module, file, path.dirname(file));
}

interface CodeCache {
  file: string;
  /** Name prefix of this app's caches (`meph2-util.`), and of this build's (`meph2-util.HASH-`). */
  app: string;
  build: string;
}

/**
 * Where this bundle's cache for this command lives, or undefined when there is to be none:
 * `APP.HASH-COMMAND-NODE-ARCH.v8cache`, APP being the package directory the bundle is in.
 */
function codeCacheFor(file: string, source: string, argv: readonly string[]): CodeCache | undefined {
  const hash = STAMP.exec(source)?.[1];
  const dir = codeCacheDir();
  if (hash === undefined || dir === undefined) return undefined;
  const pkg = path.basename(path.resolve(file, '../../..'));
  const app = `${NAME.test(pkg) ? pkg : '_'}.`;
  const command = argv[0] !== undefined && NAME.test(argv[0]) ? argv[0] : '_';
  return { file: path.join(dir, `${app}${hash}-${command}-${process.version}-${process.arch}.v8cache`), app, build: `${app}${hash}-` };
}

/**
 * `$MEPH_CODE_CACHE`, else under the user's cache directory, unless that belongs to someone
 * else: root run by `sudo` with the caller's HOME must not leave root-owned files there.
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

/**
 * Writes the cache with temp + rename, so parallel runs never read half a file, and removes
 * the caches of this app's earlier builds (an upgrade would otherwise leave them for good).
 */
function saveCodeCache(script: vm.Script, cache: CodeCache): void {
  const dir = path.dirname(cache.file);
  const tmp = `${cache.file}.${process.pid}.tmp`;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (!isPrivateDir(dir)) return;
    writeFileSync(tmp, script.createCachedData(), { mode: 0o600 });
    renameSync(tmp, cache.file);
    for (const name of readdirSync(dir)) {
      if (name.startsWith(cache.app) && !name.startsWith(cache.build) && name.endsWith('.v8cache')) rmSync(path.join(dir, name), { force: true });
    }
  } catch {
    try {
      rmSync(tmp, { force: true });
    } catch {
      // the cache is an optimisation: nothing to report
    }
  }
}
