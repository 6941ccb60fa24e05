import { describe, expect, it } from 'vitest';
import { isIsoUpdated, isRfc2822Updated, isSupportDate } from './dates.js';
import { findDuplicateKeys } from './duplicate-keys.js';
import { maasPathProblem } from './paths.js';

describe('updated as MAAS 3.8 parses it', () => {
  it.each([
    ['Thu, 24 Jul 2025 08:01:49 +0000', true],
    ['Thu, 24 Jul 2025 08:01:49 +00:00', true],
    ['Thu, 24 Jul 2025 08:01:49 Z', true],
    ['Mon, 1 Jan 2024 00:00:00 -0400', true],
    ['thu, 24 jul 2025 08:01:49 +0000', true], // strptime ignores case
    ['Thu, 24 Jul 2025 08:01:49 GMT', false],
    ['Thu, 24 Jul 2025 08:01:49 UTC', false],
    ['Thu, 24 Jul 2025 08:01:49', false],
    ['Thu, 31 Feb 2025 08:01:49 +0000', false],
    ['Thursday, 24 Jul 2025 08:01:49 +0000', false],
    ['Thu, 24 Juli 2025 08:01:49 +0000', false],
    ['2025-07-24T08:01:49Z', false],
  ])('%s → %s', (value, ok) => expect(isRfc2822Updated(value)).toBe(ok));

  it('knows the ISO 8601 fallback', () => {
    expect(isIsoUpdated('2025-07-24T08:01:49Z')).toBe(true);
    expect(isIsoUpdated('2025-07-24 08:01:49.123+02:00')).toBe(true);
    expect(isIsoUpdated('2025-13-24T08:01:49Z')).toBe(false);
    expect(isIsoUpdated('Thu, 24 Jul 2025 08:01:49 +0000')).toBe(false);
  });

  it('reads support_eol as %Y-%m-%d', () => {
    expect(isSupportDate('2029-05-31')).toBe(true);
    expect(isSupportDate('2029-5-1')).toBe(true);
    expect(isSupportDate('2029/05/31')).toBe(false);
    expect(isSupportDate('2029-02-30')).toBe(false);
    expect(isSupportDate('')).toBe(false);
  });
});

describe('duplicate JSON keys', () => {
  it('names each duplicated key with its location', () => {
    const text = '{"products": {"a": {"x": 1, "x": 2}, "b": {"s": "\\"x\\"", "y": [{"k": 1, "k": 2}]}}, "products": {}}';
    expect(findDuplicateKeys(text)).toEqual(['products.a.x', 'products.b.y.[].k', 'products']);
    expect(findDuplicateKeys('{"a": {"b": 1}, "c": {"b": 2}}')).toEqual([]);
  });
});

describe('item and index paths', () => {
  it.each([
    ['noble/amd64/20250805/squashfs', undefined],
    ['streams/v1/com.ubuntu.maas:stable:v3:download.json', undefined],
    ['noble:amd64/squashfs', ['3.8']],
    ['/noble/squashfs', ['3.7', '3.8']],
    ['noble/../../etc/passwd', ['3.7', '3.8']],
    ['http://example.com/squashfs', ['3.7', '3.8']],
    ['noble/amd64/squash fs', ['3.7', '3.8']],
    ['noble/amd64/squashfs#1', ['3.7', '3.8']],
    ['', ['3.7', '3.8']],
  ])('%s', (p, maas) => expect(maasPathProblem(p)?.maas).toEqual(maas));
});
