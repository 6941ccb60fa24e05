import { rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { run } from './exec.js';
import { sh } from './chroot.js';

/**
 * `root-image.gz`: the tree as an ext4 image labelled cloudimg-rootfs (`mkfs.ext4 -d`, which
 * keeps owners, modes, xattrs and hard links), sized to the tree plus headroom, then
 * `gzip -9 --rsyncable` as the original publishes it.
 */
export async function makeRootImageGz(tree: string, out: string, scratch: string, signal?: AbortSignal): Promise<void> {
  const { stdout } = await run('du', ['-s', '--block-size=1M', '-x', tree], { signal, what: 'du' });
  const mb = Number(stdout.split(/\s+/)[0]) || 0;
  const size = Math.max(64, Math.ceil(mb * 1.25) + 64);
  const img = path.join(scratch, 'root.img');
  await rm(img, { force: true });
  await run('mkfs.ext4', ['-q', '-F', '-L', 'cloudimg-rootfs', '-d', tree, img, `${size}M`], { signal, what: 'mkfs.ext4 -d', spacePath: scratch });
  await gzipTo(`gzip -9 --rsyncable -c ${sh(img)}`, out, signal);
  await rm(img, { force: true });
}

/** `root-tgz`: the tree as a tar.gz with numeric owners and xattrs. */
export async function makeRootTgz(tree: string, out: string, signal?: AbortSignal): Promise<void> {
  await gzipTo(`tar --numeric-owner --xattrs --xattrs-include='*' -C ${sh(tree)} -cf - . | gzip -6 --rsyncable`, out, signal);
}

async function gzipTo(pipelineCmd: string, out: string, signal?: AbortSignal): Promise<void> {
  const tmp = `${out}.tmp-${process.pid}`;
  try {
    await run('bash', ['-euo', 'pipefail', '-c', `${pipelineCmd} >${sh(tmp)}`], { signal, what: `write ${path.basename(out)}`, spacePath: out });
    await stat(tmp);
    await rename(tmp, out);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}
