import { describe, expect, it } from 'vitest';
import { FilterSyntaxError } from '../errors.js';
import { compilePythonRegex, matchesFilters, parseFilter, parseFilters } from './filters.js';

describe('parseFilter', () => {
  it.each([
    ['arch=amd64', 'arch', '=', 'amd64'],
    ['label!=beta2', 'label', '!=', 'beta2'],
    ['root_store~^ebs$', 'root_store', '~', '^ebs$'],
    ['ftype!~tar', 'ftype', '!~', 'tar'],
    ['root_store=', 'root_store', '=', ''],
    ['key = a=b ', 'key', '=', 'a=b '],
    ['key==x', 'key', '=', '=x'],
    ['sub-arch|x~y', 'sub-arch|x', '~', 'y'],
  ])('%s', (text, key, op, value) => {
    expect(parseFilter(text)).toMatchObject({ key, op, value, text });
  });

  it.each(['arch', '=x', 'a.b=c', 'a b=c', 'ftype~(unclosed'])('rejects %s', (text) => {
    expect(() => parseFilter(text)).toThrow(FilterSyntaxError);
  });
});

describe('matching', () => {
  const item = { arch: 'amd64', ftype: 'disk1.img', size: '57', count: 3, ok: true };
  it('compares strings, searches regexes unanchored, and treats a missing key as ""', () => {
    expect(matchesFilters(item, parseFilters(['arch=amd64', 'ftype~img']))).toBe(true);
    expect(matchesFilters(item, parseFilters(['arch=amd6']))).toBe(false);
    expect(matchesFilters(item, parseFilters(['ftype~^disk1\\.img$', 'arch!~i386']))).toBe(true);
    expect(matchesFilters(item, parseFilters(['root_store=']))).toBe(true);
    expect(matchesFilters(item, parseFilters(['root_store!~tar']))).toBe(true);
    expect(matchesFilters(item, parseFilters(['root_store~.']))).toBe(false);
    expect(matchesFilters(item, parseFilters(['count=3', 'ok=True', 'size=57']))).toBe(true);
    expect(matchesFilters(item, [])).toBe(true);
  });

  it('translates Python-only regex spellings', () => {
    expect(compilePythonRegex('(?i)AMD').test('amd64')).toBe(true);
    expect(compilePythonRegex('(?P<a>x)(?P=a)').test('xx')).toBe(true);
    expect(compilePythonRegex('\\Aamd64\\Z').test('amd64')).toBe(true);
    expect(compilePythonRegex('\\\\A').test('\\A')).toBe(true);
  });
});
