import { describe, expect, it } from 'vitest';
import { ParseError } from '../errors.js';
import { parseJson, parseJsonObject } from './json.js';
import { lineAndColumn } from './text-position.js';

function parseError(text: string): ParseError {
  try {
    parseJson(text, 'streams/v1/x.json');
  } catch (err) {
    expect(err).toBeInstanceOf(ParseError);
    return err as ParseError;
  }
  throw new Error('expected a ParseError');
}

describe('parseJson', () => {
  it('parses valid JSON and ignores a byte order mark', () => {
    expect(parseJson('\uFEFF{"a": [1, true, null]}', 'x')).toEqual({ a: [1, true, null] });
  });

  it('locates a truncated document at its end, naming the file', () => {
    const text = '{\n "format": "products:1.0",\n "products": {\n  "p": {';
    const err = parseError(text);
    expect(err.line).toBe(4);
    expect(err.column).toBe(9);
    expect(err.message).toBe('streams/v1/x.json:4:9: invalid JSON: unexpected end of input, expected a double-quoted property name (truncated file?)');
  });

  it('locates errors V8 reports without a position', () => {
    const err = parseError('{\n "a": tru}');
    expect([err.line, err.column]).toEqual([2, 10]);
    expect(err.detail).toContain('"true"');
  });

  it('locates a missing comma, trailing garbage and bad escapes', () => {
    expect(parseError('{"a": 1\n "b": 2}')).toMatchObject({ line: 2, column: 2 });
    expect(parseError('[1]\nx')).toMatchObject({ line: 2, column: 1 });
    expect(parseError('["\\q"]')).toMatchObject({ line: 1, column: 4 });
    expect(parseError('')).toMatchObject({ line: 1, column: 1 });
  });

  it('computes 1-based line and column', () => {
    expect(lineAndColumn('ab\ncd\nef', 0)).toEqual({ line: 1, column: 1 });
    expect(lineAndColumn('ab\ncd\nef', 4)).toEqual({ line: 2, column: 2 });
    expect(lineAndColumn('ab\ncd\nef', 8)).toEqual({ line: 3, column: 3 });
  });
});

describe('parseJsonObject', () => {
  class BookkeepingError extends Error {
    constructor(readonly file: string, readonly detail: string, readonly hadCause: boolean) {
      super(`${file}: ${detail}`);
    }
  }
  const fail = (file: string) => (detail: string, cause: unknown) => new BookkeepingError(file, detail, cause !== undefined);

  it('returns the object of a JSON object file', () => {
    expect(parseJsonObject('{"a/b": ["x"]}', 'refs.json', fail('refs.json'))).toEqual({ 'a/b': ['x'] });
  });

  it("throws the caller's error naming the file and where the JSON breaks", () => {
    let err: unknown;
    try {
      parseJsonObject('{\n "a": 1\n "b": 2}', 'o.json', fail('o.json'));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BookkeepingError);
    expect((err as BookkeepingError).message).toBe('o.json: not valid JSON (line 3, column 2: unexpected "\\"", expected "," or "}")');
    expect((err as BookkeepingError).hadCause).toBe(true);
  });

  it.each([['[]'], ['"text"'], ['null'], ['3']])('refuses %s: JSON, but not an object', (text) => {
    expect(() => parseJsonObject(text, 'o.json', fail('o.json'))).toThrow(new BookkeepingError('o.json', 'is not a JSON object', false));
  });

  it('reports a document limit through the caller too', () => {
    expect(() => parseJsonObject('{"a":'.repeat(300) + '1' + '}'.repeat(300), 'deep.json', fail('deep.json'))).toThrow(/^deep\.json: JSON nested deeper than/);
  });
});
