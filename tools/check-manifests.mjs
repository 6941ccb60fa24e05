// Part of `npm run lint`: every package and app declares exactly what it imports.
//  - a bare import in non-test source (src/, bin/) is in `dependencies` (or peer/optional);
//  - a bare import in a test (*.test.ts, __tests__/, __fixtures__/) is in `dependencies` or
//    `devDependencies`, or is workspace test tooling (a root devDependency such as vitest);
//  - every `dependencies` entry is imported by non-test source (directly or through the
//    package's `imports` map, e.g. cli-kit's `#yargs`).
// Workspaces are read from the root package.json, so new packages are checked without being
// listed. Prints one line per problem and exits 1 if there is any.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import ts from 'typescript';

const repo = path.resolve(import.meta.dirname, '..');
const SOURCE = /\.(?:[cm]?ts|[cm]?js)$/;
const TEST = /(?:\.test\.[cm]?ts$|(?:^|\/)__tests__\/|(?:^|\/)__fixtures__\/)/;
const builtins = new Set(builtinModules);

/** The workspace directories named by the root package.json's `workspaces` globs (`dir/*`). */
export function workspaceDirs(root = repo) {
  const globs = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).workspaces ?? [];
  const dirs = [];
  for (const g of globs) {
    if (!g.endsWith('/*')) throw new Error(`check-manifests: workspace glob ${g} is not of the form dir/*`);
    const parent = path.join(root, g.slice(0, -2));
    if (!existsSync(parent)) continue;
    for (const d of readdirSync(parent).sort()) if (existsSync(path.join(parent, d, 'package.json'))) dirs.push(path.join(parent, d));
  }
  return dirs;
}

function walk(dir, out = []) {
  if (!existsSync(dir)) return out;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name === 'dist') continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (SOURCE.test(e.name) && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** Module specifiers a file loads: static and dynamic imports, re-exports, require/resolve calls. */
export function specifiers(text) {
  const found = ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName);
  // require('x'), require.resolve('x'), import.meta.resolve('x'), createRequire(…).resolve('x')
  for (const m of text.matchAll(/(?:\b(?:require|require\.resolve|import\.meta\.resolve)|\)\.resolve)\(\s*['"]([^'"]+)['"]\s*\)/g)) found.push(m[1]);
  return found;
}

/** The package a bare specifier names, or undefined for relative, builtin and `#` imports. */
export function packageOf(spec) {
  if (spec.startsWith('.') || spec.startsWith('/') || spec.startsWith('#') || spec.startsWith('node:')) return undefined;
  const parts = spec.split('/');
  const name = spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
  return builtins.has(name) ? undefined : name;
}

/** Bare packages an `imports` map entry (`#x`) can resolve to. */
function importsTargets(map, key) {
  const out = [];
  const visit = (v) => {
    if (typeof v === 'string') {
      const p = packageOf(v);
      if (p) out.push(p);
    } else if (v && typeof v === 'object') Object.values(v).forEach(visit);
  };
  visit(map?.[key]);
  return out;
}

/** Problems of one package directory, as printable lines. */
export function checkPackage(dir, root = repo) {
  const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
  const rel = path.relative(root, dir);
  const runtime = new Set([...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {}), ...Object.keys(pkg.optionalDependencies ?? {})]);
  const rootPkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  const dev = new Set([...Object.keys(pkg.devDependencies ?? {}), ...Object.keys(rootPkg.devDependencies ?? {})]);
  const used = new Set();
  const problems = [];
  const files = [...walk(path.join(dir, 'src')), ...walk(path.join(dir, 'bin'))];
  for (const file of files) {
    const fileRel = path.relative(dir, file);
    const isTest = TEST.test(fileRel);
    for (const spec of specifiers(readFileSync(file, 'utf8'))) {
      const names = spec.startsWith('#') ? importsTargets(pkg.imports, spec) : [packageOf(spec)].filter(Boolean);
      for (const name of names) {
        if (name === pkg.name) continue;
        if (!isTest) used.add(name);
        if (runtime.has(name) || (isTest && dev.has(name))) continue;
        const where = isTest ? 'dependencies or devDependencies' : dev.has(name) ? 'dependencies (it is only a devDependency)' : 'dependencies';
        problems.push(`${rel}/${fileRel}: imports ${name}, which ${rel}/package.json does not declare in ${where}`);
      }
    }
  }
  for (const name of Object.keys(pkg.dependencies ?? {})) {
    if (!used.has(name)) problems.push(`${rel}/package.json: dependency ${name} is imported by no non-test source (remove it, or move it to devDependencies if tests use it)`);
  }
  return [...new Set(problems)];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const problems = workspaceDirs().flatMap((d) => checkPackage(d));
  for (const p of problems) console.error(p);
  if (problems.length) {
    console.error(`check-manifests: ${problems.length} problem(s)`);
    process.exit(1);
  }
  console.error(`check-manifests: ${workspaceDirs().length} package.json files match their imports`);
}
