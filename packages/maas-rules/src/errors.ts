import { SimplestreamsError } from '@meph/simplestreams';

/** The MAAS check was asked to run gpgv (as MAAS does) but gpgv cannot be started. */
export class GpgvUnavailableError extends SimplestreamsError {
  override readonly name = 'GpgvUnavailableError';
  constructor(cause: unknown) {
    super(`cannot run gpgv to check signatures the way MAAS does: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
      hint: 'install the gpgv package (apt-get install gpgv)',
    });
  }
}
