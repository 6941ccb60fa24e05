import { accessSync, constants as fsc, promises as fsp, statSync } from 'node:fs';
import path from 'node:path';
import { hashFile } from '@meph/simplestreams';
import type { ConvertRequest, ConvertResult, Converter } from './converter.js';
import { ConverterUnavailableError, SourceChecksumError } from './errors.js';
import { run } from './pipeline/exec.js';

/**
 * The original's converter command line for a request (`meph2/stream.py` calling
 * `maas-cloudimg2eph2`):
 *
 *   CMD [-v…] [--format=F] [--proposed [--proposed-packages=CSV]] [--pre-purge-packages=CSV]
 *       [--no-gzip] [--no-squashfs] --kernel=K --arch=A --manifest=M SOURCE OUTPUT
 *       --krd-pack=PKG,KERNEL,INITRD[,--dtb=NAME=PATH][,--kihelper=PROG] …
 *
 * OUTPUT is the root-image.gz path; the squashfs goes to `<dirname OUTPUT>/squashfs`. With
 * `--no-gzip` (no root-image.gz wanted) the raw image written to OUTPUT is deleted afterwards.
 */
export function converterArgv(req: ConvertRequest): { args: string[]; output: string; squashfsAt?: string; discardOutput: boolean } {
  if (!req.rootImageGzPath && !req.squashfs) throw new ConverterUnavailableError('a command converter needs a root-image.gz or a squashfs output to write');
  const args: string[] = [];
  for (let i = 0; i < (req.verbosity ?? 0); i++) args.push('-v');
  if (req.imageFormat !== 'auto') args.push(`--format=${req.imageFormat}`);
  if (req.proposed) {
    args.push('--proposed');
    if (req.proposedPackages.length) args.push(`--proposed-packages=${req.proposedPackages.join(',')}`);
  }
  if (req.prePurgePackages.length) args.push(`--pre-purge-packages=${req.prePurgePackages.join(',')}`);
  const output = req.rootImageGzPath ?? path.join(path.dirname(req.squashfs!.path), 'root-image.gz');
  if (!req.rootImageGzPath) args.push('--no-gzip');
  if (!req.squashfs) args.push('--no-squashfs');
  args.push(`--kernel=${req.builtinKernel ?? 'linux-generic'}`, `--arch=${req.arch}`, `--manifest=${req.manifestPath}`, req.source, output);
  for (const k of req.kernels) {
    const parts = [k.package, k.kernelPath, k.initrdPath];
    if (k.dtb) parts.push(`--dtb=${k.dtb.name}=${k.dtb.path}`);
    if (k.kihelper) parts.push(`--kihelper=${k.kihelper}`);
    args.push(`--krd-pack=${parts.join(',')}`);
  }
  return { args, output, ...(req.squashfs ? { squashfsAt: path.join(path.dirname(output), 'squashfs') } : {}), discardOutput: !req.rootImageGzPath };
}

/** Finds an executable: a path (with `/`) as given, else the first match on PATH. */
export function findExecutable(command: string, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string | undefined {
  const candidates = command.includes('/') ? [path.resolve(cwd, command)] : (env['PATH'] ?? '').split(':').filter(Boolean).map((d) => path.join(d, command));
  for (const c of candidates) {
    try {
      if (statSync(c).isFile()) {
        accessSync(c, fsc.X_OK);
        return c;
      }
    } catch {
      /* not this one */
    }
  }
  return undefined;
}

/**
 * A converter that runs an external command with the original's converter contract
 * (documented in conf/README.md): the argument vector of {@link converterArgv}, the caller's
 * environment plus M2E_ADD_REPOS/M2E_ADD_PACKAGES from the request, the work directory as the
 * current directory. Its stdout/stderr lines become `log` events; a non-zero exit is a
 * CommandFailedError with the telling line of its output. The apt mirror goes in the
 * original's UBUNTU_MIRROR / UBUNTU_MIRROR_PORTS (unless already set); settings the contract
 * has no place for (squashfs compression/block size) are reported as warnings.
 */
export function commandConverter(executable: string, options: { env?: NodeJS.ProcessEnv } = {}): Converter {
  const name = path.basename(executable);
  const converter: Converter = async (req: ConvertRequest): Promise<ConvertResult> => {
    const started = Date.now();
    const emit = req.onEvent ?? (() => {});
    if (req.rootTgzPath) throw new ConverterUnavailableError(`converter ${executable}: the converter contract has no root tarball output`);
    if (req.sourceSha256 && !/^[a-z][a-z0-9+.-]*:\/\//i.test(req.source)) {
      const d = await hashFile(req.source, ['sha256']);
      if (d.sha256 !== req.sourceSha256) throw new SourceChecksumError(req.source, req.sourceSha256, d.sha256!);
    }
    const ignored: string[] = [];
    if (req.squashfs && req.squashfs.compression !== 'xz') ignored.push(`squashfs compression ${req.squashfs.compression}`);
    if (req.squashfs?.blockSize) ignored.push(`squashfs block size ${req.squashfs.blockSize}`);
    if (ignored.length) emit({ type: 'warning', message: `converter ${executable} is not told the ${ignored.join(', ')} (the converter contract has no such option; it uses its own)` });

    const { args, output, squashfsAt, discardOutput } = converterArgv(req);
    await fsp.mkdir(req.workDir, { recursive: true });
    const env: NodeJS.ProcessEnv = { ...(options.env ?? process.env), M2E_ADD_REPOS: req.addRepos.join(' '), M2E_ADD_PACKAGES: req.addPackages.join(' ') };
    // The original's scripts take the apt mirror from UBUNTU_MIRROR (i386/amd64) or UBUNTU_MIRROR_PORTS.
    const mirrorVar = req.arch === 'amd64' || req.arch === 'i386' ? 'UBUNTU_MIRROR' : 'UBUNTU_MIRROR_PORTS';
    if (req.mirror && !env[mirrorVar]) env[mirrorVar] = req.mirror;
    emit({ type: 'log', step: 'converter', message: `${executable} ${args.join(' ')}` });
    await run(executable, args, {
      cwd: req.workDir,
      env,
      what: `converter ${executable}`,
      spacePath: req.workDir,
      ...(req.signal ? { signal: req.signal } : {}),
      onLine: (line) => {
        if (line.trim()) emit({ type: 'log', step: name, message: line });
      },
    });
    if (discardOutput) await fsp.rm(output, { force: true });
    if (squashfsAt && req.squashfs && squashfsAt !== req.squashfs.path) await fsp.rename(squashfsAt, req.squashfs.path).catch(() => undefined);
    const files = [req.manifestPath, ...req.kernels.flatMap((k) => [k.kernelPath, k.initrdPath, ...(k.dtb ? [k.dtb.path] : [])])];
    if (req.squashfs) files.push(req.squashfs.path);
    if (req.rootImageGzPath) files.push(req.rootImageGzPath);
    return { files, timings: { total: (Date.now() - started) / 1000 } };
  };
  Object.defineProperty(converter, 'name', { value: name });
  return converter;
}
