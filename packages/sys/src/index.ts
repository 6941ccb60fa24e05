import { constants as fsc, promises as fsp } from 'node:fs';
import path from 'node:path';

/**
 * Whether a process with this pid exists (EPERM: it exists but is not ours). Every "is the
 * writer of this leftover still running?" check uses it: temp files, locks, leases, loop
 * devices and scratch directories named after their writer's pid.
 */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** fsyncs a file already written and closed (e.g. one an earlier run left, or a batch syncs later). */
export async function fsyncFile(file: string): Promise<void> {
  const handle = await fsp.open(file, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** fsyncs a directory so a rename inside it survives a power loss. */
export async function fsyncDir(dir: string): Promise<void> {
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(dir, fsc.O_RDONLY | fsc.O_DIRECTORY);
    await handle.sync();
  } catch (err) {
    // Some file systems refuse fsync on directories; the rename is still atomic there.
    if ((err as NodeJS.ErrnoException).code !== 'EINVAL' && (err as NodeJS.ErrnoException).code !== 'EISDIR') throw err;
  } finally {
    await handle?.close();
  }
}

/** Renames `from` over `to` and fsyncs `to`'s directory: the new name survives a power loss. */
export async function renameDurably(from: string, to: string): Promise<void> {
  await fsp.rename(from, to);
  await fsyncDir(path.dirname(to));
}

/**
 * The one "make it durable and put it in place" step: fsyncs the temp file behind `handle`
 * (closing it), then {@link renameDurably} `tmp` over `dest`.
 */
export async function syncAndRename(handle: fsp.FileHandle, tmp: string, dest: string): Promise<void> {
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
  await renameDurably(tmp, dest);
}
