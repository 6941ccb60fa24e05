import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The conf/ directory of the app whose module is `moduleUrl` (pass `import.meta.url`): the
 * nearest directory above it holding a package.json is the app's package. Installed from its
 * tarball, that package carries its own `conf/` (copied from the repository's at pack time,
 * tools/pack-assets.mjs); in the checkout (no copy there) it is the repository's `conf/`, two
 * levels up (`apps/<app>/` → `conf/`).
 */
export function packageConfDir(moduleUrl: string): string {
  let dir = path.dirname(fileURLToPath(moduleUrl));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`${fileURLToPath(moduleUrl)}: not inside a package (no package.json above it)`);
    dir = up;
  }
  const own = path.join(dir, 'conf');
  return existsSync(own) ? own : path.resolve(dir, '../../conf');
}
