import { errorGuard, mephErrorBase } from '@meph/errors';

/** Base of every @meph/di-crawler error; `isDiCrawlerError` is true for these and no other library's. */
export abstract class DiCrawlerError extends mephErrorBase('@meph/di-crawler') {}
export const isDiCrawlerError = errorGuard(DiCrawlerError);

/** A SHA256SUMS / Release file could not be parsed. */
export class ChecksumListError extends DiCrawlerError {
  override readonly name = 'ChecksumListError';
  constructor(readonly source: string, detail: string) {
    super(`${source}: ${detail}`);
  }
}

/** A checksum list could not be tied to a valid signature (neither SHA256SUMS.gpg nor Release chain). */
export class UnverifiedChecksumsError extends DiCrawlerError {
  override readonly name = 'UnverifiedChecksumsError';
  constructor(readonly source: string, detail: string, cause?: unknown) {
    super(`${source}: ${detail}`, {
      cause,
      hint: 'pass the archive signing key with --keyring FILE (for Ubuntu: /usr/share/keyrings/ubuntu-archive-keyring.gpg)',
    });
  }
}

/** Two different files map to the same item key in one installer version. */
export class NameCollisionError extends DiCrawlerError {
  override readonly name = 'NameCollisionError';
  constructor(readonly key: string, readonly first: string, readonly second: string, readonly product: string) {
    super(`${product}: name collision: ${first} and ${second} both map to item ${key}`);
  }
}

/** Two different items would be stored at the same local path. */
export class PathCollisionError extends DiCrawlerError {
  override readonly name = 'PathCollisionError';
  constructor(readonly path: string, readonly first: string, readonly second: string) {
    super(`path collision: ${first} and ${second} would both be stored as ${path}`);
  }
}

/** Asked for d-i data (release/arch/flavor/krel/format) the crawl did not find. */
export class DiKernelInfoMissingError extends DiCrawlerError {
  override readonly name = 'DiKernelInfoMissingError';
  constructor(readonly what: string) {
    super(`no d-i kernel info for ${what}`, { hint: 'check that the archive has an installer for this release/arch, or build with --disable-di' });
  }
}

/** distro-info calls no release of the distro supported (or distro-info-data is not installed). */
export class NoSupportedReleaseError extends DiCrawlerError {
  override readonly name = 'NoSupportedReleaseError';
  constructor(readonly distro: string) {
    super(`no ${distro} release is supported according to distro-info`, { exitCode: 2, hint: 'name them with --releases' });
  }
}
