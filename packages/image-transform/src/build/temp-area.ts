import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { pidAlive } from '@meph/sys';

/** Prefix of the scratch directories meph2-build creates inside an output directory. */
export const TEMP_PREFIX = '.meph-build.';

/**
 * Removes scratch directories left in `outputDir` by builds that died (crash, SIGKILL):
 * `.meph-build.<pid>.<random>` whose process no longer runs. Returns what was removed.
 */
export async function removeStaleTempAreas(outputDir: string): Promise<string[]> {
  const names = await fsp.readdir(outputDir).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const name of names) {
    const m = /^\.meph-build\.(\d+)\./.exec(name);
    if (!m || pidAlive(Number(m[1]))) continue;
    await fsp.rm(path.join(outputDir, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

/** A fresh scratch directory inside `outputDir` (same file system, so results can be renamed into place). */
export async function createTempArea(outputDir: string): Promise<string> {
  await fsp.mkdir(outputDir, { recursive: true });
  return fsp.mkdtemp(path.join(outputDir, `${TEMP_PREFIX}${process.pid}.`));
}
