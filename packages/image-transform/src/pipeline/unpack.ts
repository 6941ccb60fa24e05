import { mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { Parser, type ReadEntry } from 'tar';
import type { ConverterEvent } from '../events.js';
import { CommandFailedError, NoRootFilesystemError, NoSpaceError, SourceFormatError, UnsafeArchiveMemberError } from '../errors.js';
import { runInNamespace, sh } from './chroot.js';
import type { SourceType } from './detect.js';
import { run } from './exec.js';
import { attachLoop, detachLoop, LoopRegistry } from './loop.js';

export interface UnpackOptions {
  /** Scratch directory of this run (intermediate raw images go here). */
  scratch: string;
  /** Records the loop devices attached for disk images (default: a registry of its own). */
  loops?: LoopRegistry;
  signal?: AbortSignal;
  onEvent?: (e: ConverterEvent) => void;
}

/** Unpacks any supported source into `dest` (an empty directory) as a root file system tree. */
export async function unpackSource(file: string, type: SourceType, dest: string, options: UnpackOptions): Promise<void> {
  await mkdir(dest, { recursive: true });
  switch (type.format) {
    case 'root-tar':
      return unpackRootTar(file, type.compression, dest, options);
    case 'squashfs-image':
      await run('unsquashfs', ['-no-progress', '-f', '-d', dest, file], { signal: options.signal, what: `unsquashfs ${file}`, spacePath: dest }).catch((e) => rethrowCorrupt(e, file));
      return;
    case 'img-tar': {
      const img = await extractSingleImage(file, type.compression, options);
      return copyOutOfDiskImage(img, dest, options);
    }
    case 'root-image-gz': {
      const raw = path.join(options.scratch, 'source.raw');
      await shell(`gzip -dc -- ${sh(file)} | cp --sparse=always /dev/stdin ${sh(raw)}`, `gunzip ${file}`, options, raw).catch((e) => rethrowCorrupt(e, file));
      return copyOutOfDiskImage(raw, dest, options);
    }
    case 'root-image': {
      let raw = file;
      if (type.container === 'qcow2') {
        raw = path.join(options.scratch, 'source.raw');
        await run('qemu-img', ['convert', '-O', 'raw', file, raw], { signal: options.signal, what: `qemu-img convert ${file}`, spacePath: raw }).catch((e) => rethrowCorrupt(e, file));
      }
      return copyOutOfDiskImage(raw, dest, options, file);
    }
  }
}

/**
 * Streams the archive once: the decompressed bytes go both to GNU tar, which extracts with
 * owners, modes, xattrs, device nodes and links (`-p --numeric-owner --xattrs`), and to a
 * parser that checks every member name and link target. System tar and xz are used rather
 * than the `tar` package because they extract device nodes and xattrs as root, and
 * multi-threaded `xz -T0` is several times faster than an in-process decoder on a root fs.
 * GNU tar itself never writes outside -C (it strips leading "/", refuses "..", and creates
 * symlinks that point outside only after all other members), so a refused member found by
 * the parser mid-stream cannot have escaped before tar is stopped; the tree is then removed.
 */
export async function unpackRootTar(file: string, compression: SourceType['compression'], dest: string, options: UnpackOptions): Promise<void> {
  await mkdir(dest, { recursive: true });
  const abort = new AbortController();
  const onOuterAbort = () => abort.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onOuterAbort, { once: true });
  let refused: UnsafeArchiveMemberError | undefined;
  const checker = new MemberChecker(file);
  let entries = 0;
  let lastEmit = 0;
  const parser = new Parser({
    onReadEntry: (entry: ReadEntry) => {
      entries++;
      if (!refused) {
        try {
          checker.check(entry.path, entry.type, entry.linkpath);
        } catch (e) {
          refused = e as UnsafeArchiveMemberError;
          abort.abort(refused);
        }
      }
      const now = Date.now();
      if (now - lastEmit > 1000) {
        lastEmit = now;
        options.onEvent?.({ type: 'progress', step: 'unpack', done: entries, unit: 'files' });
      }
      entry.resume();
    },
  });
  const tee = new PassThrough({ highWaterMark: 1 << 20 });
  const toTar = new PassThrough({ highWaterMark: 1 << 20 });
  tee.pipe(toTar);
  tee.pipe(parser as unknown as NodeJS.WritableStream);
  const decompress =
    compression === 'xz' ? run('xz', ['-dc', '-T0', '--', file], { stdout: tee, signal: abort.signal, what: `xz -d ${file}` })
    : compression === 'gzip' ? run('gzip', ['-dc', '--', file], { stdout: tee, signal: abort.signal, what: `gzip -d ${file}` })
    : run('cat', ['--', file], { stdout: tee, signal: abort.signal, what: `read ${file}` });
  const extract = run('tar', ['-x', '-p', '--same-owner', '--numeric-owner', '--xattrs', '--xattrs-include=*', '-C', dest, '-f', '-'], { stdin: toTar, signal: abort.signal, what: 'tar -x', spacePath: dest });
  const [d, x] = await Promise.allSettled([decompress, extract]);
  options.signal?.removeEventListener('abort', onOuterAbort);
  options.onEvent?.({ type: 'progress', step: 'unpack', done: entries, total: entries, unit: 'files' });
  const failure = refused ?? (options.signal?.aborted ? options.signal.reason : undefined) ?? noSpace(d, x) ?? (d.status === 'rejected' ? corrupt(file, d.reason) : undefined) ?? (x.status === 'rejected' ? corrupt(file, x.reason) : undefined);
  if (failure) {
    await rm(dest, { recursive: true, force: true });
    throw failure;
  }
  if (entries === 0 || (await readdir(dest)).length === 0) throw new SourceFormatError(file, 'is an empty archive');
}

/** Refuses members that would land outside the tree, judged as a sequence (links seen so far). */
export class MemberChecker {
  private readonly symlinks = new Set<string>();
  constructor(private readonly file: string) {}

  check(name: string, type: string, linkpath?: string): void {
    const rel = normalise(name);
    if (rel === undefined) throw new UnsafeArchiveMemberError(this.file, name, 'absolute path or ".." segment');
    if (rel === '') return;
    const parts = rel.split('/');
    for (let i = 1; i < parts.length; i++) {
      const prefix = parts.slice(0, i).join('/');
      if (this.symlinks.has(prefix)) throw new UnsafeArchiveMemberError(this.file, name, `its parent ${prefix} is a symbolic link in the archive`);
    }
    if (type === 'Link') {
      if (!linkpath || normalise(linkpath) === undefined) throw new UnsafeArchiveMemberError(this.file, name, `hard link to '${linkpath ?? ''}' outside the tree`);
    } else if (type === 'SymbolicLink') {
      // Absolute targets are fine: they resolve inside the chroot. Relative ones must not climb out.
      const target = linkpath ?? '';
      if (!target.startsWith('/')) {
        const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(rel), target));
        if (resolved === '..' || resolved.startsWith('../')) throw new UnsafeArchiveMemberError(this.file, name, `symbolic link to '${target}' leaves the tree`);
      }
      this.symlinks.add(rel);
    } else {
      this.symlinks.delete(rel);
    }
  }
}

/** `./a/b/` → `a/b`; undefined when absolute or with a ".." segment. */
function normalise(name: string): string | undefined {
  if (name.startsWith('/') || name.includes('\0')) return undefined;
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.some((p) => p === '..')) return undefined;
  return parts.join('/');
}

function noSpace(...results: PromiseSettledResult<unknown>[]): NoSpaceError | undefined {
  for (const r of results) if (r.status === 'rejected' && r.reason instanceof NoSpaceError) return r.reason;
  return undefined;
}

function corrupt(file: string, e: unknown): Error {
  if (e instanceof CommandFailedError) return new SourceFormatError(file, `is corrupt or truncated (${e.message})`, { cause: e, hint: 'download the source again' });
  return e as Error;
}

function rethrowCorrupt(e: unknown, file: string): never {
  if (e instanceof CommandFailedError) throw corrupt(file, e);
  throw e;
}

function shell(script: string, what: string, options: UnpackOptions, spacePath: string) {
  return run('bash', ['-euo', 'pipefail', '-c', script], { signal: options.signal, what, spacePath });
}

/** The one top-level `*.img` of an img-tar, extracted (sparse) into scratch. */
async function extractSingleImage(file: string, compression: SourceType['compression'], options: UnpackOptions): Promise<string> {
  const z = compression === 'xz' ? ['-J'] : compression === 'gzip' ? ['-z'] : [];
  const { stdout } = await run('tar', ['-t', ...z, '-f', file], { signal: options.signal, what: `tar -t ${file}` }).catch((e) => rethrowCorrupt(e, file));
  const checker = new MemberChecker(file);
  const names = stdout.split('\n').filter(Boolean);
  for (const n of names) checker.check(n, 'File');
  const imgs = names.filter((n) => /^(\.\/)?[^/]+\.img$/.test(n));
  if (imgs.length !== 1) throw new SourceFormatError(file, `must contain exactly one top-level *.img, found ${imgs.length}`);
  const dir = path.join(options.scratch, 'img-tar');
  await mkdir(dir, { recursive: true });
  await run('tar', ['-x', '-S', ...z, '-f', file, '-C', dir, '--', imgs[0]!], { signal: options.signal, what: `tar -x ${file}`, spacePath: dir }).catch((e) => rethrowCorrupt(e, file));
  return path.join(dir, imgs[0]!);
}

interface Partition {
  start: number;
  size: number;
}

const ROOT_FS = new Set(['ext4', 'ext3', 'ext2', 'xfs', 'btrfs']);

/**
 * Copies the root file system out of a raw disk image: each partition (from its partition
 * table, or the whole image when it is a bare file system) gets its own read-only loop device
 * by offset, so no partition device nodes are needed (`partx -a` may not create them in a
 * container). The root is the partition labelled cloudimg-rootfs, else the largest Linux
 * file system. It is mounted read-only in a private mount namespace and copied with `cp -a`
 * (owners, modes, xattrs, hard links, device nodes); every loop device is detached afterwards.
 */
export async function copyOutOfDiskImage(raw: string, dest: string, options: UnpackOptions, shownName = raw): Promise<void> {
  const loops = options.loops ?? new LoopRegistry();
  const parts = await partitions(raw, options.signal, shownName);
  const candidates: Array<{ dev: string; type: string; label: string; size: number }> = [];
  const attached: string[] = [];
  try {
    for (const p of parts) {
      const dev = await attachLoop(raw, { offset: p.start, sizeLimit: p.size, readOnly: true }, loops, options.signal);
      attached.push(dev);
      const probe = await run('blkid', ['-p', '-o', 'export', dev], { signal: options.signal, what: 'blkid' }).catch(() => ({ stdout: '' }));
      const kv = Object.fromEntries(probe.stdout.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
      if (kv.TYPE && ROOT_FS.has(kv.TYPE)) candidates.push({ dev, type: kv.TYPE, label: kv.LABEL ?? '', size: p.size });
    }
    if (candidates.length === 0) throw new NoRootFilesystemError(shownName, `none of ${parts.length} partition(s) holds an ext2/3/4, xfs or btrfs file system`);
    const root = candidates.find((c) => c.label === 'cloudimg-rootfs') ?? [...candidates].sort((a, b) => b.size - a.size)[0]!;
    const mnt = path.join(options.scratch, 'source-mnt');
    await mkdir(mnt, { recursive: true });
    const opts = root.type.startsWith('ext') ? 'ro,noload' : root.type === 'xfs' ? 'ro,norecovery' : 'ro';
    options.onEvent?.({ type: 'step', step: 'unpack', detail: `copying ${root.type} root file system out of ${shownName}` });
    await runInNamespace(`mount -t ${root.type} -o ${opts} ${sh(root.dev)} ${sh(mnt)}\ncp -a -- ${sh(mnt)}/. ${sh(dest)}/\n`, { signal: options.signal, what: `copy root file system out of ${shownName}`, spacePath: dest });
  } finally {
    for (const dev of attached.reverse()) await detachLoop(dev, loops);
  }
}

async function partitions(raw: string, signal: AbortSignal | undefined, shownName: string): Promise<Partition[]> {
  const res = await run('sfdisk', ['--json', raw], { signal, what: 'sfdisk --json' }).catch(() => undefined);
  if (res?.stdout.trim()) {
    const table = JSON.parse(res.stdout) as { partitiontable?: { sectorsize?: number; partitions?: Array<{ start: number; size: number }> } };
    const sector = table.partitiontable?.sectorsize ?? 512;
    const list = table.partitiontable?.partitions ?? [];
    if (list.length > 0) return list.map((p) => ({ start: p.start * sector, size: p.size * sector }));
  }
  const { stat } = await import('node:fs/promises');
  const st = await stat(raw).catch(() => undefined);
  if (!st) throw new SourceFormatError(shownName, 'does not exist');
  return [{ start: 0, size: st.size }];
}
