import type { Converter } from './converter.js';
import { commandConverter, findExecutable } from './command-converter.js';
import { ConverterUnavailableError } from './errors.js';

/** Values of MAAS_CLOUDIMG2EPH2 that select the fake converter (ours and the original's). */
export const FAKE_CONVERTER_NAMES: readonly string[] = ['fake', 'fake-maas-cloudimg2eph2'];

/**
 * The fake converter (`@meph/image-transform/fake`), loaded only when chosen: the main entry
 * never imports it.
 */
const fakeConverter: Converter = async (req) => (await import('./fake/fake-converter.js')).fakeConverter(req);

/** Values of MAAS_CLOUDIMG2EPH2 that mean "the built-in real pipeline" (the original's default name). */
const REAL_NAMES = ['', 'real', 'maas-cloudimg2eph2'];

export interface ConverterChoice {
  converter: Converter;
  /** `fake`, `real`, or the command's path. */
  name: string;
  kind: 'fake' | 'real' | 'command';
  /** Why: `--fake`, `MAAS_CLOUDIMG2EPH2=…` or the default. */
  reason: string;
}

/**
 * Picks the converter, as the original reads MAAS_CLOUDIMG2EPH2:
 * - `--fake`, or `fake` / `fake-maas-cloudimg2eph2` (also as the last part of a path): the built-in fake;
 * - unset, empty, `real` or the bare name `maas-cloudimg2eph2`: the built-in real pipeline
 *   (passed in by the caller as `real`; undefined when this build has none);
 * - anything else: a converter command (a path, or a name looked up on PATH) run with the
 *   original's converter contract (see conf/README.md).
 */
export function selectConverter(options: { fake?: boolean; env?: NodeJS.ProcessEnv; real?: Converter; cwd?: string }): ConverterChoice {
  const env = options.env ?? process.env;
  const value = env['MAAS_CLOUDIMG2EPH2'];
  const reason = `MAAS_CLOUDIMG2EPH2=${value}`;
  const base = value?.split('/').pop() ?? '';
  if (options.fake) return { converter: fakeConverter, name: 'fake', kind: 'fake', reason: '--fake' };
  if (value !== undefined && FAKE_CONVERTER_NAMES.includes(base)) return { converter: fakeConverter, name: 'fake', kind: 'fake', reason };
  if (value !== undefined && !REAL_NAMES.includes(value)) {
    const exe = findExecutable(value, env, options.cwd);
    if (!exe) {
      throw new ConverterUnavailableError(`${reason}: no such executable${value.includes('/') ? '' : ' on PATH'}`, {
        hint: `give the path of an executable converter, ${FAKE_CONVERTER_NAMES.join(' or ')} for the fake one, or unset it for the built-in pipeline`,
      });
    }
    return { converter: commandConverter(exe, { env }), name: exe, kind: 'command', reason };
  }
  if (!options.real) {
    throw new ConverterUnavailableError('the real image pipeline is not available in this build', { hint: 'use --fake (or MAAS_CLOUDIMG2EPH2=fake) for a fake build' });
  }
  return { converter: options.real, name: 'real', kind: 'real', reason: value ? reason : 'default' };
}
