import type { Converter } from '../converter.js';
import { ConverterUnavailableError } from '../errors.js';
import { FAKE_CONVERTER_NAMES, fakeConverter } from './fake-converter.js';

/** Names of MAAS_CLOUDIMG2EPH2 that mean "the real pipeline" (the original's default). */
const REAL_NAMES = ['', 'real', 'maas-cloudimg2eph2'];

export interface ConverterChoice {
  converter: Converter;
  name: 'fake' | 'real';
  /** Why: `--fake`, `MAAS_CLOUDIMG2EPH2=…` or the default. */
  reason: string;
}

/**
 * Picks the converter: `--fake` or MAAS_CLOUDIMG2EPH2=fake (or the original's
 * `fake-maas-cloudimg2eph2`) select the fake one; otherwise the real pipeline, which the
 * caller passes in (undefined when this build has none).
 */
export function selectConverter(options: { fake?: boolean; env?: NodeJS.ProcessEnv; real?: Converter }): ConverterChoice {
  const value = (options.env ?? process.env)['MAAS_CLOUDIMG2EPH2'];
  const base = value?.split('/').pop() ?? '';
  if (options.fake) return { converter: fakeConverter, name: 'fake', reason: '--fake' };
  if (value !== undefined && FAKE_CONVERTER_NAMES.includes(base)) return { converter: fakeConverter, name: 'fake', reason: `MAAS_CLOUDIMG2EPH2=${value}` };
  if (value !== undefined && !REAL_NAMES.includes(base)) {
    throw new ConverterUnavailableError(`MAAS_CLOUDIMG2EPH2=${value}: unknown converter`, { hint: `use ${FAKE_CONVERTER_NAMES.join(' or ')} for the fake converter, or unset it for the real pipeline` });
  }
  if (!options.real) {
    throw new ConverterUnavailableError('the real image pipeline is not available in this build', { hint: 'use --fake (or MAAS_CLOUDIMG2EPH2=fake) for a fake build' });
  }
  return { converter: options.real, name: 'real', reason: value ? `MAAS_CLOUDIMG2EPH2=${value}` : 'default' };
}
