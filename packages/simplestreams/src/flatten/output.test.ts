import { describe, expect, it } from 'vitest';
import { OutputFormatError } from '../errors.js';
import { compilePercentFormat, pyRepr, toPythonJson } from './output.js';

describe('pyRepr', () => {
  it('spells dicts and strings like Python', () => {
    expect(pyRepr({ a: 'x', 'b c': "it's", d: 'say "hi"', e: `both ' "` })).toBe(`{'a': 'x', 'b c': "it's", 'd': 'say "hi"', 'e': 'both \\' "'}`);
    expect(pyRepr('tab\there\n\u0001\u00e9\u00a0\u2028\\')).toBe("'tab\\there\\n\\x01é\\xa0\\u2028\\\\'");
  });
});

describe('compilePercentFormat', () => {
  const rec = { product_name: 'p', size: '38', item_url: './x' };
  it('formats %(key)s, %%, width and precision', () => {
    expect(compilePercentFormat('%(product_name)s %(size)s %(item_url)s')(rec)).toEqual({ ok: true, text: 'p 38 ./x' });
    expect(compilePercentFormat('100%% %(product_name)-3s|%(size)5s|%(item_url).2s|%(size)r')(rec)).toEqual({ ok: true, text: "100% p  |   38|./|'38'" });
    expect(compilePercentFormat('%s')({ a: 'b' })).toEqual({ ok: true, text: "{'a': 'b'}" });
  });
  it('reports a missing key for the caller to skip the record', () => {
    expect(compilePercentFormat('%(nope)s')(rec)).toEqual({ ok: false, missing: 'nope' });
  });
  it.each(['%(size)d', '%(a)s %', '%(a)s %s', '%s %s', '%(a)y'])('rejects %s', (fmt) => {
    expect(() => compilePercentFormat(fmt)).toThrow(OutputFormatError);
  });
});

describe('toPythonJson', () => {
  it('is json.dumps(indent=2, sort_keys=True) with ensure_ascii', () => {
    expect(toPythonJson([])).toBe('[]');
    expect(toPythonJson([{ b: '2', a: 'é\u007f"' }, { c: '3' }])).toBe('[\n  {\n    "a": "\\u00e9\\u007f\\"",\n    "b": "2"\n  },\n  {\n    "c": "3"\n  }\n]');
  });
  it('sorts keys as strings (integer-like ones too) in records with different keys, and keeps non-string values typed', () => {
    const text = toPythonJson([{ x: 'c', '9': 'b', '10': 'a' }, { b: '1', a: '2' }, { n: 1, m: true }, { x: 'd' }]);
    expect(text).toBe(
      ['[', '  {', '    "10": "a",', '    "9": "b",', '    "x": "c"', '  },', '  {', '    "a": "2",', '    "b": "1"', '  },', '  {', '    "m": true,', '    "n": 1', '  },', '  {', '    "x": "d"', '  }', ']'].join('\n'),
    );
    expect(text.indexOf('"10"')).toBeLessThan(text.indexOf('"9"'));
  });
});
