// npm pack/publish lifecycle of the apps and cli-kit (their package.json `prepack`/`postpack`):
// what a package needs at run time that is not compiled into dist/ by `tsc -b`.
//  prepack:  copies the repository's conf/ files the package lists in `files` ("conf/NAME")
//            into the package's own conf/ (the installed app finds its default configs there,
//            cli-kit `packageConfDir`), and refuses to pack without the build-time assets of
//            tools/build-cli-assets.mjs (apps: dist/help.json, dist/bundle/; cli-kit: dist/vendor/yargs.js).
//  postpack: removes that copy again, so a checkout keeps reading the repository's conf/.
// Run from the package directory (npm does): node ../../tools/pack-assets.mjs prepack|postpack
import { copyFile, mkdir, readFile, rm, access } from 'node:fs/promises';
import path from 'node:path';

const repo = path.resolve(import.meta.dirname, '..');
const pkgDir = process.cwd();
const pkg = JSON.parse(await readFile(path.join(pkgDir, 'package.json'), 'utf8'));
const confFiles = (pkg.files ?? []).filter((f) => f.startsWith('conf/')).map((f) => f.slice('conf/'.length));
const phase = process.argv[2];

if (phase === 'prepack') {
  const needed = [...(pkg.bin ? ['dist/help.json', 'dist/bundle/cli.cjs', 'dist/bundle/launch.cjs'] : []), ...(pkg.imports?.['#yargs'] ? ['dist/vendor/yargs.js'] : [])];
  for (const f of needed) {
    try {
      await access(path.join(pkgDir, f));
    } catch {
      console.error(`${pkg.name}: ${f} is missing: run \`npm run build\` at the repository root before packing`);
      process.exit(1);
    }
  }
  await rm(path.join(pkgDir, 'conf'), { recursive: true, force: true });
  if (confFiles.length) await mkdir(path.join(pkgDir, 'conf'));
  for (const f of confFiles) await copyFile(path.join(repo, 'conf', f), path.join(pkgDir, 'conf', f));
} else if (phase === 'postpack') {
  if (confFiles.length) await rm(path.join(pkgDir, 'conf'), { recursive: true, force: true });
} else {
  console.error('usage: node ../../tools/pack-assets.mjs prepack|postpack (from a package directory)');
  process.exit(2);
}
