import { describe, expect, it } from 'vitest';
import { errorGuard, isMephError, MEPH_ERROR, MEPH_ERROR_LIBRARY, MephError, mephErrorBase } from './index.js';

abstract class AlphaError extends mephErrorBase('@test/alpha') {}
class AlphaBroken extends AlphaError {
  override readonly name = 'AlphaBroken';
}
abstract class BetaError extends mephErrorBase('@test/beta') {}
class BetaBroken extends BetaError {
  override readonly name = 'BetaBroken';
}
const isAlphaError = errorGuard(AlphaError);
const isBetaError = errorGuard(BetaError);

describe('MephError', () => {
  it('carries message, hint, cause and exit code, and is branded', () => {
    const cause = new Error('root');
    const e = new AlphaBroken('a.json: broken', { hint: 'fix it', cause, exitCode: 3 });
    expect(e).toBeInstanceOf(Error);
    expect(e).toBeInstanceOf(MephError);
    expect(e[MEPH_ERROR_LIBRARY]).toBe('@test/alpha');
    expect([e.name, e.message, e.hint, e.cause, e.exitCode]).toEqual(['AlphaBroken', 'a.json: broken', 'fix it', cause, 3]);
    expect(e[MEPH_ERROR]).toBe(true);
    const plain = new AlphaBroken('x');
    expect([plain.hint, plain.exitCode, 'cause' in plain]).toEqual([undefined, undefined, false]);
  });

  it('isMephError accepts every library and nothing unbranded', () => {
    expect(isMephError(new AlphaBroken('x'))).toBe(true);
    expect(isMephError(new BetaBroken('x'))).toBe(true);
    expect(isMephError(new Error('x'))).toBe(false);
    expect(isMephError(null)).toBe(false);
    expect(isMephError('meph.error')).toBe(false);
  });

  it('a library guard accepts only its own errors', () => {
    expect(isAlphaError(new AlphaBroken('x'))).toBe(true);
    expect(isAlphaError(new BetaBroken('x'))).toBe(false);
    expect(isBetaError(new BetaBroken('x'))).toBe(true);
    expect(isBetaError(new AlphaBroken('x'))).toBe(false);
    expect(isAlphaError(new Error('x'))).toBe(false);
  });

  it('guards hold for an error from another copy of the library (no shared class)', () => {
    const foreign = Object.assign(new Error('from a second install'), {
      name: 'AlphaBroken',
      [Symbol.for('meph.error')]: true,
      [Symbol.for('meph.error.library')]: '@test/alpha',
    });
    expect(isMephError(foreign)).toBe(true);
    expect(isAlphaError(foreign)).toBe(true);
    expect(isBetaError(foreign)).toBe(false);
  });

  it('refuses to make a guard for a base that names no library', () => {
    expect(() => errorGuard(MephError)).toThrow(/names no library/);
  });
});
