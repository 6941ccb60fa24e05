import { errorGuard, mephErrorBase } from '@meph/errors';

/** Base of every @meph/maas-rules error; `isMaasRulesError` is true for these and no other library's. */
export abstract class MaasRulesError extends mephErrorBase('@meph/maas-rules') {}
export const isMaasRulesError = errorGuard(MaasRulesError);

/** The MAAS check was asked to run gpgv (as MAAS does) but gpgv cannot be started. */
export class GpgvUnavailableError extends MaasRulesError {
  override readonly name = 'GpgvUnavailableError';
  constructor(cause: unknown) {
    super(`cannot run gpgv to check signatures the way MAAS does: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
      hint: 'install the gpgv package (apt-get install gpgv)',
    });
  }
}
