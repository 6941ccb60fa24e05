import type { CleanupEvent } from '../events.js';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { run } from './exec.js';
import { pidAlive } from '@meph/sys';
import { detachLoop, releaseStaleLoops, type LoopRegistry } from './loop.js';

const PREFIX = 'meph-convert-';

/** Mount points at or under `dir` in this mount namespace, deepest first (octal escapes decoded). */
export async function mountsUnder(dir: string): Promise<string[]> {
  const text = await readFile('/proc/self/mounts', 'utf8');
  const base = path.resolve(dir);
  return text
    .split('\n')
    .map((l) => l.split(' ')[1])
    .filter((m): m is string => !!m)
    .map((m) => m.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((m) => m === base || m.startsWith(base + '/'))
    .sort((a, b) => b.length - a.length);
}

/** Creates this run's directory under workDir, marked with our pid so concurrent runs leave it alone. */
export async function createRunDir(workDir: string): Promise<string> {
  await mkdir(workDir, { recursive: true });
  const dir = await mkdtemp(path.join(workDir, PREFIX));
  await writeFile(path.join(dir, 'owner.pid'), `${process.pid}\n`);
  return dir;
}

/**
 * Releases one run directory: detaches its loop devices, unmounts whatever is mounted below it
 * (nothing in normal operation: the pipeline mounts only inside private namespaces), deletes it.
 */
export async function releaseRunDir(dir: string, loops?: LoopRegistry): Promise<void> {
  for (const dev of [...(loops?.active ?? [])]) await detachLoop(dev, loops);
  for (const m of await mountsUnder(dir)) await run('umount', ['-l', m]).catch(() => {});
  if ((await mountsUnder(dir)).length === 0) await rm(dir, { recursive: true, force: true });
}

/**
 * Cleans what crashed earlier runs left: their loop devices (machine-wide registry), and run
 * directories under workDir whose owner process is gone, with anything still mounted there.
 * A live owner is another build running right now and is left alone.
 */
export async function cleanupStale(workDir: string, onEvent?: (e: CleanupEvent) => void): Promise<string[]> {
  const cleaned: string[] = [];
  for (const dev of await releaseStaleLoops()) {
    onEvent?.({ type: 'cleanup', device: dev, reason: 'loop device left by an earlier run that did not finish' });
    cleaned.push(dev);
  }
  for (const name of await readdir(workDir).catch(() => [] as string[])) {
    if (!name.startsWith(PREFIX)) continue;
    const dir = path.join(workDir, name);
    const pid = Number((await readFile(path.join(dir, 'owner.pid'), 'utf8').catch(() => '')).trim());
    if (pid && (pid === process.pid || pidAlive(pid))) continue;
    onEvent?.({ type: 'cleanup', dir, reason: 'left by an earlier run that did not finish' });
    await releaseRunDir(dir);
    cleaned.push(dir);
  }
  return cleaned;
}
