import { execFile } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import type { ConvertRequest, ConvertResult, Converter } from '../converter.js';
import { ConverterUnavailableError, SourceFormatError } from '../errors.js';

const run = promisify(execFile);


async function write(file: string, data: string | Uint8Array): Promise<string> {
  await fsp.mkdir(path.dirname(file), { recursive: true });
  await fsp.writeFile(file, data);
  return file;
}

/** Deterministic filler so different kernels get different checksums but equal runs equal bytes. */
function payload(header: string, size: number): Buffer {
  const buf = Buffer.alloc(size);
  const text = Buffer.from(header);
  for (let off = 0; off < size; off += text.length) text.copy(buf, off, 0, Math.min(text.length, size - off));
  return buf;
}

function describe(req: ConvertRequest, what: string, extra: Record<string, string> = {}): string {
  const fields = { fake: what, release: req.release, arch: req.arch, version: req.version, source: req.source, ...extra };
  return `${Object.entries(fields).map(([k, v]) => `${k}=${v}`).join('\n')}\n`;
}

async function checkSource(source: string): Promise<void> {
  if (/^https?:\/\//.test(source)) return; // the fake never downloads
  try {
    await fsp.access(source.replace(/^file:\/\//, ''));
  } catch {
    throw new SourceFormatError(source, 'no such source file', { hint: 'give an existing file or an http(s) URL' });
  }
}

/** A tiny but real squashfs: a root tree with os-release and an init, built by mksquashfs. */
async function makeSquashfs(req: ConvertRequest, tree: string, out: NonNullable<ConvertRequest['squashfs']>): Promise<void> {
  await write(path.join(tree, 'etc/os-release'), `NAME="meph fake image"\nID=meph-fake\nVERSION_CODENAME=${req.release}\n`);
  await write(path.join(tree, 'etc/meph-fake-build'), describe(req, 'root'));
  await fsp.mkdir(path.join(tree, 'sbin'), { recursive: true });
  await fsp.writeFile(path.join(tree, 'sbin/init'), '#!/bin/sh\necho "meph fake image: nothing to boot"\n', { mode: 0o755 });
  await fsp.mkdir(path.dirname(out.path), { recursive: true });
  await fsp.rm(out.path, { force: true });
  const args = [tree, out.path, '-noappend', '-comp', out.compression, '-all-root', '-mkfs-time', '0', '-all-time', '0', '-quiet', '-no-progress', '-processors', '1'];
  if (out.blockSize) args.push('-b', out.blockSize);
  try {
    await run('mksquashfs', args, req.signal ? { signal: req.signal } : {});
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new ConverterUnavailableError('the fake converter needs mksquashfs', { hint: 'apt-get install squashfs-tools' });
    }
    throw err;
  }
}

function manifest(req: ConvertRequest): string {
  const pkgs = new Map<string, string>([
    ['base-files', '0.meph-fake'],
    ['cloud-init', '0.meph-fake'],
    ['overlayroot', '0.meph-fake'],
  ]);
  for (const k of req.kernels) pkgs.set(k.package, '0.meph-fake');
  for (const p of req.addPackages) pkgs.set(p, '0.meph-fake');
  for (const p of req.prePurgePackages) pkgs.delete(p);
  // With -proposed on, what came from it carries a recognisable version (all, or only the
  // selected proposed_packages), so tests can see that the switch reached the converter.
  if (req.proposed) for (const p of pkgs.keys()) if (!req.proposedPackages.length || req.proposedPackages.includes(p)) pkgs.set(p, '0.meph-fake+proposed');
  return [...pkgs].sort(([a], [b]) => (a < b ? -1 : 1)).map(([p, v]) => `${p}\t${v}\n`).join('');
}

/**
 * A fast stand-in for the real pipeline (the original's `fake-maas-cloudimg2eph2`): writes
 * every requested output, correctly shaped and small, in well under a second — a real
 * squashfs (mksquashfs of a tiny tree), a dpkg-query style manifest, and recognisable
 * kernel/initrd/dtb/root-image.gz bytes that boot nothing. Output is deterministic: the
 * same request gives byte-identical files. For stream-tooling tests only.
 */
export const fakeConverter: Converter = async function fakeConverter(req: ConvertRequest): Promise<ConvertResult> {
  const started = Date.now();
  const emit = req.onEvent ?? (() => {});
  req.signal?.throwIfAborted();
  await checkSource(req.source);
  const files: string[] = [];
  const total = req.kernels.length + 2;
  let done = 0;
  const tick = (): void => emit({ type: 'progress', step: 'fake convert', done: ++done, total, unit: 'steps' });

  await fsp.mkdir(req.workDir, { recursive: true });
  const tree = await fsp.mkdtemp(path.join(req.workDir, 'fake-root-'));
  try {
    if (req.squashfs) {
      await makeSquashfs(req, tree, req.squashfs);
      files.push(req.squashfs.path);
    }
    tick();
    files.push(await write(req.manifestPath, manifest(req)));
    if (req.rootImageGzPath) files.push(await write(req.rootImageGzPath, gzipSync(payload(describe(req, 'root-image'), 64 * 1024), { level: 9 })));
    if (req.rootTgzPath) files.push(await write(req.rootTgzPath, gzipSync(payload(describe(req, 'root-tgz'), 64 * 1024), { level: 9 })));
    tick();
    for (const k of req.kernels) {
      req.signal?.throwIfAborted();
      const extra = { package: k.package, flavor: k.flavor };
      files.push(await write(k.kernelPath, payload(describe(req, 'kernel', extra), 16 * 1024 + 1)));
      files.push(await write(k.initrdPath, gzipSync(payload(describe(req, 'initrd', extra), 32 * 1024), { level: 9 })));
      if (k.dtb) files.push(await write(k.dtb.path, payload(describe(req, 'dtb', { ...extra, dtb: k.dtb.name }), 1024)));
      tick();
    }
  } finally {
    await fsp.rm(tree, { recursive: true, force: true });
  }
  return { files, timings: { total: (Date.now() - started) / 1000 } };
};
