// Build step after `tsc -b` (npm run build): what the command-line tools load at start-up.
//  1. packages/cli-kit/dist/vendor/yargs.js: yargs and its dependencies bundled into one ES
//     module (cli-kit's `#yargs` import in dist; sources keep importing the yargs package).
//     Loading 40 small modules cost more than the rest of a `--help`; string-width is swapped
//     for a printable-ASCII fast path (packages/cli-kit/vendor/fast-string-width.mjs), and the
//     help page yargs renders after starting every subcommand (kept for a failure message
//     that meph never prints: its fail handler throws one line) is not rendered: 50-100 ms
//     of every command run.
//  2. apps/<app>/dist/help.json: every help page of the app rendered by its own yargs
//     definitions at 100 columns, which the bin prints for `--help` on a non-terminal
//     (packages/cli-kit/src/fast-help.ts). apps/*/src/__tests__/help-cache.test.ts keeps it
//     equal to the live rendering.
//  3. apps/<app>/dist/bundle/: what the bin runs. `cli.cjs`: the app and the @meph libraries it
//     uses (from their dist/) in one CommonJS script, stamped with a hash of its content, which
//     the bin runs with a V8 code cache (cli-kit's runBundle; Node 20 has none for ES modules):
//     resolving and loading ~90 small modules was ~25 ms of every stream command, and compiling
//     them again on every run ~15 ms more. Commands stay lazy: a command's code runs only when it
//     is chosen. `launch.cjs`: the help cache and runBundle, all the bin requires. Third-party
//     packages stay require()s resolved from the installed app, but for ES-module-only ones.
//     Linked source maps (`node --enable-source-maps`, which runs the bundle without the cache)
//     map stack traces back to the TypeScript sources.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { rm, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const repo = path.resolve(import.meta.dirname, '..');
const cliKit = path.join(repo, 'packages/cli-kit');

async function vendorYargs() {
  const shim = path.join(cliKit, 'vendor/fast-string-width.mjs');
  await build({
    stdin: { contents: "export { default } from 'yargs';", resolveDir: cliKit, sourcefile: 'yargs-entry.mjs' },
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    minify: true,
    legalComments: 'inline',
    outfile: path.join(cliKit, 'dist/vendor/yargs.js'),
    logLevel: 'warning',
    // y18n and yargs-parser reach require() for JSON locale files and fs.
    banner: { js: "import { createRequire as __mephCreateRequire } from 'node:module'; const require = __mephCreateRequire(import.meta.url);" },
    plugins: [
      {
        name: 'no-help-render-per-command',
        setup(b) {
          b.onLoad({ filter: /yargs[\\/]build[\\/]lib[\\/]command\.js$/ }, async (args) => {
            const source = await readFile(args.path, 'utf8');
            const call = 'yargs.getInternalMethods().getUsageInstance().cacheHelpMessage();';
            if (source.split(call).length !== 2) throw new Error(`${args.path}: expected one "${call}" to drop; yargs changed, review this step`);
            return { contents: source.replace(call, '/* help not pre-rendered (tools/build-cli-assets.mjs) */'), loader: 'js' };
          });
        },
      },
      {
        // YargsFactory calls .version() with no argument on every new instance, which walks up
        // from the cwd for a package.json to guess one (reading a stranger's package.json, or
        // failing an assertion when there is none): meph always sets .version(spec.version).
        name: 'no-version-guess',
        setup(b) {
          b.onLoad({ filter: /yargs[\\/]build[\\/]lib[\\/]yargs-factory\.js$/ }, async (args) => {
            const source = await readFile(args.path, 'utf8');
            const call = '        yargs.version();\n        return yargs;';
            if (source.split(call).length !== 2) throw new Error(`${args.path}: expected one "yargs.version();" in YargsFactory to drop; yargs changed, review this step`);
            return { contents: source.replace(call, '        /* no version guess (tools/build-cli-assets.mjs) */\n        return yargs;'), loader: 'js' };
          });
        },
      },
      {
        name: 'lazy-assert',
        setup(b) {
          b.onResolve({ filter: /^(node:)?assert$/ }, (args) => (args.importer.endsWith('lazy-assert.mjs') ? undefined : { path: path.join(cliKit, 'vendor/lazy-assert.mjs') }));
        },
      },
      {
        name: 'fast-string-width',
        setup(b) {
          b.onResolve({ filter: /^string-width$/ }, (args) => (args.pluginData?.real ? undefined : { path: shim }));
          b.onResolve({ filter: /^meph-real-string-width$/ }, () =>
            // the string-width yargs itself depends on
            b.resolve('string-width', { kind: 'import-statement', resolveDir: path.dirname(createRequire(`${cliKit}/`).resolve('yargs/package.json')), pluginData: { real: true } }),
          );
        },
      },
    ],
  });
}

/**
 * import.meta in bundled code means the bundle's location, not the module's own. Allowed:
 * `createRequire(import.meta.url)` (the names it requires resolve from the installed app, like
 * the bundle's other third-party imports), anything in the app itself (the bundle stays inside
 * the app's package), and cli-kit's vendored yargs (locale files it finds in neither place).
 * Anything else fails the build, naming the file.
 */
function checkLocationUse(file, text, appDir) {
  if (file.startsWith(appDir + path.sep) || file.startsWith(path.join(cliKit, 'dist/vendor') + path.sep)) return;
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '').replace(/createRequire\(import\.meta\.url\)/g, '');
  if (/import\.meta\b/.test(code))
    throw new Error(`${path.relative(repo, file)}: uses import.meta (its own location), which bundling into ${path.relative(repo, appDir)}/dist/bundle would change; resolve through the package name instead (createRequire(import.meta.url).resolve('<package>/…'))`);
}

/** Third-party packages Node 20.11 cannot require() (ES modules only): bundled into the CommonJS bundle. */
function isEsmOnly(name, resolveDir) {
  const dir = createRequire(`${resolveDir}/`).resolve.paths(name)?.map((d) => path.join(d, name)).find((d) => existsSync(path.join(d, 'package.json')));
  if (dir === undefined) return false;
  const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
  return pkg.type === 'module' && !JSON.stringify(pkg.exports ?? {}).includes('"require"');
}

const STAMP_PLACEHOLDER = '/*meph-bundle:0000000000000000*/';

async function bundleApp(appDir) {
  const outdir = path.join(appDir, 'dist/bundle');
  await rm(outdir, { recursive: true, force: true });
  const common = { bundle: true, platform: 'node', target: 'node20', sourcemap: 'linked', minifyWhitespace: true, minifySyntax: true, sourcesContent: false, legalComments: 'inline', logLevel: 'warning', metafile: true };
  // What the bin requires: the help cache and the bundle runner, nothing else. The bin and this
  // are CommonJS (bin/package.json): starting Node's ES module loader costs a run 4 ms.
  const launcher = await build({
    ...common,
    stdin: { contents: "export { printCachedHelp } from './dist/fast-help.js'; export { runBundle } from './dist/launch.js';", resolveDir: cliKit, sourcefile: 'launch-entry.mjs' },
    format: 'cjs',
    outfile: path.join(outdir, 'launch.cjs'),
  });
  // The app: one CommonJS script, so that the bin can run it with a V8 code cache (launch.ts).
  const cli = path.join(outdir, 'cli.cjs');
  const app = await build({
    ...common,
    entryPoints: [path.join(appDir, 'dist/cli.js')],
    format: 'cjs',
    // import() becomes require(): a script run from a code cache cannot import() (Node 20).
    supported: { 'dynamic-import': false },
    outfile: cli,
    define: { 'import.meta.url': '__mephBundleUrl', 'import.meta.dirname': '__dirname', 'import.meta.filename': '__filename' },
    banner: { js: `${STAMP_PLACEHOLDER}const __mephBundleUrl = require('node:url').pathToFileURL(__filename).href;` },
    plugins: [
      {
        name: 'meph-app-bundle',
        setup(b) {
          // Workspace libraries are bundled; builtins and third-party packages stay require()s
          // resolved from the installed app, but for the few that are ES modules only.
          b.onResolve({ filter: /^[^./#]/ }, (args) => {
            if (args.path.startsWith('@meph/')) return undefined;
            const name = args.path.split('/').slice(0, args.path.startsWith('@') ? 2 : 1).join('/');
            return isEsmOnly(name, args.resolveDir) ? undefined : { path: args.path, external: true };
          });
          b.onLoad({ filter: /\.js$/ }, async (args) => {
            checkLocationUse(args.path, await readFile(args.path, 'utf8'), appDir);
            return undefined;
          });
        },
      },
    ],
  });
  // The stamp: a hash of the bundle, the name of its code caches (same length as the placeholder).
  const text = await readFile(cli, 'utf8');
  if (!text.startsWith(STAMP_PLACEHOLDER)) throw new Error(`${cli}: expected the bundle to begin with ${STAMP_PLACEHOLDER}`);
  const dynamicImport = /(?<![\w$.])import\(/.exec(text);
  if (dynamicImport) throw new Error(`${cli}: an import() is left at offset ${dynamicImport.index} (${text.slice(dynamicImport.index, dynamicImport.index + 60)}…); a script run from a code cache cannot import(): require() it`);
  const hash = createHash('sha256').update(text).digest('hex').slice(0, 16);
  await writeFile(cli, text.replace(STAMP_PLACEHOLDER, `/*meph-bundle:${hash}*/`));
  return [launcher, app].flatMap((r) => Object.keys(r.metafile.outputs)).filter((o) => /\.c?js$/.test(o)).length;
}

async function helpPages(appDir) {
  const { spec } = await import(pathToFileURL(path.join(appDir, 'dist/main.js')).href);
  const { runCli } = await import(pathToFileURL(path.join(cliKit, 'dist/index.js')).href);
  const render = async (argv) => {
    const stdout = new PassThrough();
    const chunks = [];
    stdout.on('data', (c) => chunks.push(c));
    const code = await runCli(spec, argv, { stdout, stderr: new PassThrough(), env: {}, cwd: repo });
    if (code !== 0) throw new Error(`${spec.name} ${argv.join(' ')} exited ${code}`);
    return Buffer.concat(chunks).toString('utf8');
  };
  const pages = { '': await render(['--help']) };
  for (const c of spec.commands) if ('load' in c) pages[c.name] = await render([c.name, '--help']);
  await writeFile(path.join(appDir, 'dist/help.json'), `${JSON.stringify(pages)}\n`);
  return Object.keys(pages).length;
}

// No arguments: everything (npm run build). Nx runs the parts per project (the `cli-assets`
// targets in packages/cli-kit and apps/*/package.json): `--vendor` and/or app directories.
const args = process.argv.slice(2);
const vendor = args.length === 0 || args.includes('--vendor');
const apps = args.length === 0
  ? (await readdir(path.join(repo, 'apps'))).map((a) => path.join(repo, 'apps', a))
  : args.filter((a) => a !== '--vendor').map((a) => path.resolve(repo, a));
if (vendor) {
  await mkdir(path.join(cliKit, 'dist/vendor'), { recursive: true });
  await vendorYargs();
}
for (const appDir of apps) {
  const n = await helpPages(appDir);
  const files = await bundleApp(appDir);
  console.error(`build-cli-assets: ${path.basename(appDir)}: ${n} help page(s), dist/bundle in ${files} file(s)`);
}
