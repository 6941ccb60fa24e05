import { errorGuard, mephErrorBase } from '@meph/errors';

/** Base of every @meph/image-transform error; `isImageTransformError` is true for these and no other library's. */
export abstract class ImageTransformError extends mephErrorBase('@meph/image-transform') {}
export const isImageTransformError = errorGuard(ImageTransformError);

/** A config file is invalid: names the file, line and key. */
export class ConfigError extends ImageTransformError {
  override readonly name = 'ConfigError';
  constructor(readonly file: string, readonly detail: string, readonly line?: number, readonly key?: string, options?: { hint?: string }) {
    super(`${file}${line !== undefined ? `:${line}` : ''}: ${key ? `${key}: ` : ''}${detail}`, options);
  }
}

// ---- pipeline (real converter) and boot test ----

/**
 * An external tool failed; `stderrTail` holds the last lines it printed. `toolExitCode` is the
 * tool's, not the one meph exits with.
 */
export class CommandFailedError extends ImageTransformError {
  override readonly name = 'CommandFailedError';
  constructor(readonly command: string, readonly toolExitCode: number | null, readonly stderrTail: string, options?: { cause?: unknown; hint?: string; what?: string }) {
    super(`${options?.what ?? command} failed (exit ${toolExitCode ?? 'signal'})${stderrTail ? `: ${lastLine(stderrTail)}` : ''}`, options);
  }
}

/** A source URL could not be downloaded (HTTP status, e.g. 404, or a network error). */
export class SourceDownloadError extends ImageTransformError {
  override readonly name = 'SourceDownloadError';
  constructor(readonly url: string, readonly status: number | undefined, detail: string, options?: { cause?: unknown }) {
    super(`cannot download source ${url}: ${detail}`, { ...options, hint: status === 404 ? 'check the source URL; the server has no such file' : 'check the URL and the network' });
  }
}

/** A downloaded or local source does not match its expected checksum. */
export class SourceChecksumError extends ImageTransformError {
  override readonly name = 'SourceChecksumError';
  constructor(readonly file: string, readonly expected: string, readonly actual: string) {
    super(`${file}: sha256 ${actual} does not match the expected ${expected}`, { hint: 'the download is damaged or the source changed; remove it from the cache and retry' });
  }
}

/** The source is missing, not a recognised image type, or damaged (truncated/corrupt archive). */
export class SourceFormatError extends ImageTransformError {
  override readonly name = 'SourceFormatError';
  constructor(readonly file: string, detail: string, options?: { cause?: unknown; hint?: string }) {
    super(`${file}: ${detail}`, options);
  }
}

/** An archive member would land outside the work tree (absolute, `..`, through a symlink, hard link out). */
export class UnsafeArchiveMemberError extends ImageTransformError {
  override readonly name = 'UnsafeArchiveMemberError';
  constructor(readonly file: string, readonly member: string, readonly reason: string) {
    super(`${file}: refusing archive member '${member}': ${reason}`, { hint: 'the archive is not a plain root file system; use a trusted source image' });
  }
}

/** The kernel package of a kernel line does not exist in the configured archive. */
export class KernelPackageNotFoundError extends ImageTransformError {
  override readonly name = 'KernelPackageNotFoundError';
  constructor(readonly kernelPackage: string, readonly flavor: string, options?: { cause?: unknown }) {
    super(`kernel package '${kernelPackage}' (flavour ${flavor}) is not available from the image's apt sources`, { ...options, hint: 'fix the kernel line in the config or the mirror/repositories' });
  }
}

/** The work or output file system ran out of space. */
export class NoSpaceError extends ImageTransformError {
  override readonly name = 'NoSpaceError';
  constructor(readonly path: string, readonly step: string, options?: { cause?: unknown }) {
    super(`no space left on the file system of ${path} during ${step}`, { ...options, hint: 'free space there or choose another --work-dir/output directory' });
  }
}

/** A disk image holds no file system that can serve as the root. */
export class NoRootFilesystemError extends ImageTransformError {
  override readonly name = 'NoRootFilesystemError';
  constructor(readonly file: string, detail: string) {
    super(`${file}: no root file system found (${detail})`);
  }
}

/** The boot test did not reach userspace on the squashfs root. */
export class BootTestError extends ImageTransformError {
  override readonly name = 'BootTestError';
  constructor(message: string, readonly reachedStage: string, readonly consoleTail: string, options?: { hint?: string }) {
    super(message, options);
  }
}

/** The most telling line of a tool's output: the first error-looking line, else the last line. */
function lastLine(text: string): string {
  const lines = text.trim().split('\n').map((l) => l.trim()).filter(Boolean);
  const telling = lines.find((l) => /^(E:|error|fatal|meph:)|\b(error|invalid|cannot|failed|not found|unexpected)\b/i.test(l));
  return (telling ?? lines[lines.length - 1] ?? '').slice(0, 300);
}

/** The requested release is not in the build config. */
export class UnknownReleaseError extends ImageTransformError {
  override readonly name = 'UnknownReleaseError';
  constructor(readonly file: string, readonly release: string, readonly known: readonly string[]) {
    super(`${file}: release ${JSON.stringify(release)} is not in the config`, { hint: `known releases: ${known.join(', ') || 'none'}` });
  }
}

/** The config expands into something that cannot be built (duplicate product ids, …). */
export class PlanError extends ImageTransformError {
  override readonly name = 'PlanError';
}

/** A converter finished without producing a file it was asked for. */
export class ConverterOutputError extends ImageTransformError {
  override readonly name = 'ConverterOutputError';
  constructor(readonly converter: string, readonly missing: readonly string[]) {
    super(`${converter} did not produce ${missing.length} requested file(s): ${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', …' : ''}`);
  }
}

/** The converter chosen (flag, MAAS_CLOUDIMG2EPH2) cannot be used. */
export class ConverterUnavailableError extends ImageTransformError {
  override readonly name = 'ConverterUnavailableError';
}

/** A bootloader import could not read the archive, find a package or build an archive. */
export class BootloaderImportError extends ImageTransformError {
  override readonly name = 'BootloaderImportError';
}

/** The request matches nothing in the config (e.g. an arch without kernel lines for the release). */
export class NothingToBuildError extends ImageTransformError {
  override readonly name = 'NothingToBuildError';
}

/** The d-i installer archive cannot be read (unreachable, unsigned, or without installers). */
export class DiUnavailableError extends ImageTransformError {
  override readonly name = 'DiUnavailableError';
  constructor(readonly archive: string, detail: string, options?: { cause?: unknown; hint?: string }) {
    super(`d-i archive ${archive}: ${detail}`, { hint: 'check the archive and its keyring (--di-archive URL, --di-keyring FILE), or build without d-i (--disable-di)', ...options });
  }
}

// ---- meph2-cloudimg-sync ----

/** The cloud-image feed or one of its items is unusable. */
export class SyncSourceError extends ImageTransformError {
  override readonly name = 'SyncSourceError';
  constructor(readonly source: string, detail: string, hint?: string) {
    super(`${source}: ${detail}`, hint ? { hint } : undefined);
  }
}

/** Some versions failed to build; says whether the stream was written. */
export class SyncBuildFailedError extends ImageTransformError {
  override readonly name = 'SyncBuildFailedError';
  constructor(readonly failed: number, readonly built: number, readonly streamWritten: boolean) {
    super(
      `${failed} version${failed === 1 ? '' : 's'} failed to build (${built} built${streamWritten ? ' and written' : '; the stream was left untouched'})`,
      { hint: 'see the build-failed messages above; rerun to retry only the failed ones' },
    );
  }
}

/** What a boot test was asked to boot is not in the stream (or not bootable from it): a usage error, exit 2. */
export class BootTargetError extends ImageTransformError {
  override readonly name = 'BootTargetError';
  constructor(message: string, hint?: string) {
    super(message, { exitCode: 2, ...(hint === undefined ? {} : { hint }) });
  }
}

/** A sync request that cannot be carried out as given (bad --rebuild, no arches, no target): exit status 2. */
export class SyncRequestError extends ImageTransformError {
  override readonly name = 'SyncRequestError';
  constructor(detail: string, hint?: string) {
    super(detail, { exitCode: 2, ...(hint ? { hint } : {}) });
  }
}
