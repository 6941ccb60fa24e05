// CI step: every publishable package and app must install and run from its packed tarball in an
// empty directory, outside the monorepo. For each non-private packages/* and apps/* (new ones are
// picked up automatically):
//  1. `npm pack` it (its prepack copies the conf/ it ships, tools/pack-assets.mjs), then check the
//     tarball: no tests, fixtures or build info; no compiled file without a source (stale dist);
//     apps carry dist/help.json, the dist/bundle/ their bin runs and every conf/ file they list;
//     cli-kit its vendored yargs.
//  2. publint on the tarball, and are-the-types-wrong with the esm-only profile (these packages
//     are ESM only, "type": "module", for Node ≥ 20 with node16/nodenext resolution: require()
//     and node10 resolution are out of scope, everything else is checked).
//  3. Install each app into its own scratch project from the tarballs alone (the @meph/* it depends
//     on come from the tarballs through `overrides`; third-party packages from the configured npm
//     registry or the npm cache) and run it as a user: `--help`, then a real command:
//       meph2-build --fake with no --config (the default config shipped in the package), output a stream;
//       meph2-util query and verify --data over that stream;
//       meph2-cloudimg-sync --dry-run, default config, over a local cloud-image products file.
//  4. Install every library into one scratch project, import each entry point and call one function.
// Usage: node tools/pack-check.mjs   (after `npm run build`; exit 0 = all passed, 1 = a failure)
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const repo = path.resolve(import.meta.dirname, '..');
const t0 = Date.now();
const clock = () => `${((Date.now() - t0) / 1000).toFixed(0).padStart(3)}s`;
const say = (line) => console.error(`pack-check [${clock()}] ${line}`);
const failures = [];
const fail = (what, detail) => {
  failures.push(what);
  console.error(`pack-check: FAIL ${what}${detail ? `\n${String(detail).trimEnd().replace(/^/gm, '    ')}` : ''}`);
};

/** Runs a command; resolves with its output, or records a failure naming it and resolves undefined. */
async function step(what, file, args, options = {}) {
  try {
    return await run(file, args, { maxBuffer: 64 << 20, timeout: 180_000, ...options });
  } catch (e) {
    fail(what, `${e.stderr ?? ''}${e.stdout ?? ''}` || e.message);
    return undefined;
  }
}

async function workspaces() {
  const found = [];
  for (const group of ['packages', 'apps']) {
    for (const name of (await readdir(path.join(repo, group))).sort()) {
      const dir = path.join(repo, group, name);
      if (!existsSync(path.join(dir, 'package.json'))) continue;
      const pkg = JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8'));
      found.push({ dir, rel: `${group}/${name}`, pkg, isApp: Boolean(pkg.bin) });
    }
  }
  return found;
}

/** Compiled files in the tarball whose source is gone (left in dist/ by an older build). */
function staleOutputs(ws, files) {
  return files.filter((f) => {
    const m = /^dist\/(.*)\.(?:js|d\.ts)$/.exec(f);
    if (!m || f.startsWith('dist/vendor/') || f.startsWith('dist/bundle/')) return false;
    return !existsSync(path.join(ws.dir, 'src', `${m[1]}.ts`));
  });
}

function checkContents(ws, files) {
  const bad = files.filter((f) => /\.test\.|__tests__\/|__fixtures__\/|\.tsbuildinfo$/.test(f));
  if (bad.length) fail(`${ws.pkg.name}: tests or build info in the tarball`, bad.join('\n'));
  const stale = staleOutputs(ws, files);
  if (stale.length) fail(`${ws.pkg.name}: compiled files without a source (stale dist/; rebuild from clean)`, stale.join('\n'));
  const must = [
    ...(ws.isApp ? ['dist/help.json', 'dist/bundle/cli.cjs', 'dist/bundle/launch.cjs', 'bin/package.json', ...Object.values(ws.pkg.bin).map((b) => b.replace(/^\.\//, ''))] : []),
    ...(ws.pkg.files ?? []).filter((f) => f.startsWith('conf/')),
    ...(ws.pkg.imports?.['#yargs'] ? ['dist/vendor/yargs.js'] : []),
  ];
  const missing = must.filter((f) => !files.includes(f));
  if (missing.length) fail(`${ws.pkg.name}: missing from the tarball`, missing.join('\n'));
}

async function lint(ws, tarball) {
  const { publint } = await import('publint');
  const { formatMessage } = await import('publint/utils');
  const data = await readFile(tarball);
  const { messages, pkg } = await publint({ pack: { tarball: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) }, level: 'suggestion', strict: true });
  if (messages.length) fail(`${ws.pkg.name}: publint`, messages.map((m) => `${m.type}: ${formatMessage(m, pkg)}`).join('\n'));
  const attw = path.join(repo, 'node_modules/.bin/attw');
  await step(`${ws.pkg.name}: are-the-types-wrong (--profile esm-only)`, attw, [tarball, '--profile', 'esm-only', '--format', 'ascii', '--no-color', '--no-emoji'], { cwd: path.dirname(tarball) });
}

async function scratchProject(dir, deps, tarballs) {
  await mkdir(dir, { recursive: true });
  const overrides = Object.fromEntries([...tarballs].map(([name, file]) => [name, `file:${file}`]));
  await writeFile(path.join(dir, 'package.json'), `${JSON.stringify({ name: 'meph-pack-check', private: true, type: 'module', dependencies: deps, overrides }, null, 2)}\n`);
  return step(`npm install in ${dir} (${Object.keys(deps).join(', ')})`, 'npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--no-package-lock', '--loglevel=error'], { cwd: dir });
}

/** A minimal cloud-image products file (one noble amd64 version of the daily feed) for cloudimg-sync --dry-run. */
async function cloudFeed(dir) {
  const tarball = Buffer.from('not an image: cloudimg-sync --dry-run reads metadata only\n');
  await mkdir(path.join(dir, 'server/releases/noble/release-20260101'), { recursive: true });
  await writeFile(path.join(dir, 'server/releases/noble/release-20260101/root.tar.xz'), tarball);
  const doc = {
    content_id: 'com.ubuntu.cloud:daily:download',
    datatype: 'image-downloads',
    format: 'products:1.0',
    updated: 'Thu, 01 Jan 2026 00:00:00 +0000',
    products: {
      'com.ubuntu.cloud:server:24.04:amd64': {
        arch: 'amd64', os: 'ubuntu', release: 'noble', release_title: '24.04 LTS', version: '24.04', support_eol: '2029-05-31',
        versions: {
          20260101: { items: { 'root.tar.xz': { ftype: 'root.tar.xz', path: 'server/releases/noble/release-20260101/root.tar.xz', size: tarball.length, sha256: createHash('sha256').update(tarball).digest('hex'), md5: createHash('md5').update(tarball).digest('hex') } } },
        },
      },
    },
  };
  await mkdir(path.join(dir, 'streams/v1'), { recursive: true });
  const file = path.join(dir, 'streams/v1/com.ubuntu.cloud:daily:download.json');
  await writeFile(file, `${JSON.stringify(doc, null, 2)}\n`);
  return file;
}

/** Runs an installed bin in its scratch project, as a user would; checks exit 0 and the output. */
async function userRun(dir, bin, args, expect) {
  const cmd = `${bin} ${args.join(' ')}`;
  const env = { ...process.env, NODE_OPTIONS: '', MEPH_SIGNING_KEY: '', MEPH_GPG_KEY: '', MEPH_KEYRING: '' };
  for (const k of ['MEPH_CONFIG', 'MEPH2_CONFIG_YAML', 'MAAS_CLOUDIMG2EPH2']) delete env[k];
  const r = await step(`${cmd} (in ${dir})`, path.join(dir, 'node_modules/.bin', bin), args, { cwd: dir, env });
  if (!r) return undefined;
  if (!expect.test(r.stdout + r.stderr)) fail(`${cmd}: output does not match ${expect}`, r.stdout + r.stderr);
  else say(`ok: ${cmd}`);
  return r;
}

async function checkApp(ws, tmp, tarballs) {
  const dir = path.join(tmp, ws.pkg.name);
  if (!(await scratchProject(dir, { [ws.pkg.name]: `file:${tarballs.get(ws.pkg.name)}` }, tarballs))) return;
  say(`installed ${ws.pkg.name}`);
  const bin = Object.keys(ws.pkg.bin)[0];
  await userRun(dir, bin, ['--help'], new RegExp(`^${bin} — `));
  if (bin === 'meph2-build') {
    await writeFile(path.join(dir, 'any.img'), 'placeholder source for the fake converter\n');
    // no --config: the default (conf/meph-v3.yaml) must come from the installed package
    await userRun(dir, bin, ['--fake', '--no-sign', 'amd64', 'noble', '20260101', 'any.img', 'out'], /out/);
    const stream = path.join(dir, 'out/streams/v1/index.json');
    if (!existsSync(stream)) fail(`${bin}: wrote no stream (${stream})`);
  } else if (bin === 'meph2-util') {
    // over a stream built by the installed meph2-build (below, in its own project) when there is one,
    // else over the stream of the reference material
    const built = path.join(tmp, 'meph2-build/out');
    const stream = existsSync(path.join(built, 'streams/v1/index.json')) ? built : path.join(repo, '../shared/reference/streams/maas-sitemanager-fixture/ss_product_noble.json');
    await userRun(dir, bin, ['query', '--no-verify', '-o', '%(product_name)s %(version_name)s', stream], /v3:boot:24\.04:amd64:ga-24\.04 20260101/);
    if (stream === built) await userRun(dir, bin, ['verify', '--no-verify', '--data', stream], /verified|0 error/i);
    await userRun(dir, bin, ['import', '--help'], /IMPORT_CFG/);
  } else if (bin === 'meph2-cloudimg-sync') {
    const feed = await cloudFeed(path.join(dir, 'feed'));
    await userRun(dir, bin, ['--dry-run', '--target', 'force', '--arches', 'amd64', '--source', feed, 'out.d'], /noble/);
    if (existsSync(path.join(dir, 'out.d'))) fail(`${bin} --dry-run wrote out.d`);
  } else {
    say(`${ws.pkg.name}: no real command configured in tools/pack-check.mjs; --help only`);
  }
}

/** One cheap, deterministic call per library (new libraries: their entry points are imported). */
const CALLS = {
  '@meph/http': (m) => typeof m.httpSettingsFromEnv({}) === 'object',
  '@meph/simplestreams': (m) => m.compareVersions('20260101', '20260102') < 0,
  '@meph/signer': (m) => m.normalizeKeyId('0xab cd') === 'ABCD',
  '@meph/orphans': (m) => m.parseDuration('3d') === 3 * 86_400_000,
  '@meph/di-crawler': (m) => m.isNetbootPath('main/installer-amd64/current/images/netboot/debian-installer/amd64/linux'),
  '@meph/image-transform': (m) => m.FAKE_CONVERTER_NAMES.includes('fake') && m.selectConverter({ fake: true, env: {} }).kind === 'fake',
  '@meph/publish': (m) => m.md5Hex(Buffer.from('')) === 'd41d8cd98f00b204e9800998ecf8427e',
  '@meph/cli-kit': (m) => m.formatBytes(1536) === '1.5 KiB',
};

async function checkLibraries(libs, tmp, tarballs) {
  const dir = path.join(tmp, 'libraries');
  const deps = Object.fromEntries(libs.map((ws) => [ws.pkg.name, `file:${tarballs.get(ws.pkg.name)}`]));
  if (!(await scratchProject(dir, deps, tarballs))) return;
  say(`installed ${libs.length} libraries`);
  for (const ws of libs) {
    const entries = Object.keys(ws.pkg.exports ?? { '.': null }).filter((e) => e !== './package.json');
    for (const entry of entries) {
      const spec = entry === '.' ? ws.pkg.name : `${ws.pkg.name}/${entry.slice(2)}`;
      const probe = path.join(dir, 'probe.mjs');
      const call = entry === '.' && CALLS[ws.pkg.name] ? `if (!(${CALLS[ws.pkg.name].toString()})(m)) throw new Error('${spec}: unexpected result');` : '';
      await writeFile(probe, `const m = await import(${JSON.stringify(spec)});\nif (!Object.keys(m).length) throw new Error('${spec}: exports nothing');\n${call}\n`);
      const r = await step(`import ${spec}${call ? ' and call one function' : ''}`, process.execPath, [probe], { cwd: dir });
      if (r) say(`ok: import ${spec}${call ? ' + call' : ''}`);
    }
  }
}

const tmp = await mkdtemp(path.join(os.tmpdir(), 'meph-pack-check-'));
try {
  const all = await workspaces();
  const publishable = all.filter((ws) => !ws.pkg.private);
  say(`packing ${publishable.map((ws) => ws.rel).join(' ')} (private, not packed: ${all.filter((ws) => ws.pkg.private).map((ws) => ws.rel).join(' ') || 'none'})`);
  const dest = path.join(tmp, 'tarballs');
  await mkdir(dest);
  const packed = await step('npm pack', 'npm', ['pack', '--json', '--pack-destination', dest, ...publishable.flatMap((ws) => ['-w', ws.rel])], { cwd: repo });
  if (!packed) throw new Error('npm pack failed');
  const results = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('[')));
  const tarballs = new Map();
  for (const r of results) {
    const ws = publishable.find((w) => w.pkg.name === r.name);
    tarballs.set(r.name, path.join(dest, r.filename));
    checkContents(ws, r.files.map((f) => f.path));
  }
  // every @meph/* runtime dependency must come from a tarball made here, never from a registry
  for (const ws of publishable) {
    const unpacked = Object.keys(ws.pkg.dependencies ?? {}).filter((d) => d.startsWith('@meph/') && !tarballs.has(d));
    if (unpacked.length) fail(`${ws.pkg.name} depends on ${unpacked.join(', ')}, which is private or missing (not packed): it could not be installed outside the monorepo`);
  }
  if (failures.length) throw new Error('not installing: fix the failures above first');
  say(`packed ${tarballs.size} tarballs; publint and are-the-types-wrong`);
  await Promise.all(publishable.map((ws) => lint(ws, tarballs.get(ws.pkg.name))));
  say('installing into scratch projects');
  const apps = publishable.filter((ws) => ws.isApp);
  const build = apps.find((ws) => ws.pkg.name === 'meph2-build');
  // meph2-build first: meph2-util queries the stream it writes
  if (build) await checkApp(build, tmp, tarballs);
  await Promise.all([...apps.filter((ws) => ws !== build).map((ws) => checkApp(ws, tmp, tarballs)), checkLibraries(publishable.filter((ws) => !ws.isApp), tmp, tarballs)]);
} catch (e) {
  fail('pack-check', e.stack ?? e);
} finally {
  await rm(tmp, { recursive: true, force: true });
}
say(failures.length ? `${failures.length} failure(s)` : 'every package and app installs and runs from its tarball');
process.exitCode = failures.length ? 1 : 0;
