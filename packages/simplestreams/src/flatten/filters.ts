import { FilterSyntaxError } from '../errors.js';
import { pyStr, scalarText } from './expand.js';

export type FilterOp = '=' | '!=' | '~' | '!~';

/** One parsed `key op value` filter; `test` answers for a flat record. */
export interface Filter {
  readonly key: string;
  readonly op: FilterOp;
  readonly value: string;
  /** The text it was parsed from. */
  readonly text: string;
  test(record: Readonly<Record<string, unknown>>): boolean;
  /** The same test on the value of `key` alone (undefined = missing = ""). */
  testValue(value: unknown): boolean;
}

// key (letters, digits, _, |, -), optional spaces, op, optional spaces, rest is the value.
const FILTER_SYNTAX = /^([A-Za-z0-9_|-]+) *(!?[=~]) *(.*)$/;

/**
 * Compiles a Python `re` pattern as a JavaScript RegExp with `re.search` semantics
 * (unanchored). Translates the Python-only spellings that have a JS equivalent: leading
 * inline flags `(?i)`/`(?m)`/`(?s)`, named groups `(?P<n>…)`/`(?P=n)`, `\A` and `\Z`.
 */
export function compilePythonRegex(pattern: string, filterText = pattern): RegExp {
  let src = pattern;
  let flags = '';
  const inline = /^\(\?([aiLmsux]+)\)/.exec(src);
  if (inline) {
    for (const f of inline[1]!) {
      if (f === 'i' || f === 'm' || f === 's') flags += flags.includes(f) ? '' : f;
      else if (f === 'x' || f === 'L') throw new FilterSyntaxError(filterText, `regex flag (?${f}) is not supported`);
    }
    src = src.slice(inline[0].length);
  }
  src = src
    .replace(/\(\?P<([A-Za-z_][A-Za-z0-9_]*)>/g, '(?<$1>')
    .replace(/\(\?P=([A-Za-z_][A-Za-z0-9_]*)\)/g, '\\k<$1>')
    .replace(/(^|[^\\])((?:\\\\)*)\\A/g, '$1$2^')
    .replace(/(^|[^\\])((?:\\\\)*)\\Z/g, '$1$2$');
  try {
    return new RegExp(src, flags);
  } catch (err) {
    throw new FilterSyntaxError(filterText, `bad regular expression: ${(err as Error).message}`);
  }
}

/**
 * Parses one filter in the reference grammar: `key=value`, `key!=value`, `key~regex`,
 * `key!~regex`. `~` is an unanchored regex search; a missing key compares as "".
 */
export function parseFilter(text: string): Filter {
  const m = FILTER_SYNTAX.exec(text);
  if (!m) throw new FilterSyntaxError(text, 'not of the form key, operator, value (key: letters, digits, _ | -)');
  const key = m[1]!;
  const op = m[2] as FilterOp;
  const value = m[3]!;
  const negate = op[0] === '!';
  let matches: (s: string) => boolean;
  if (op === '=' || op === '!=') matches = (s) => s === value;
  else {
    const re = compilePythonRegex(value, text);
    matches = (s) => re.test(s);
  }
  const testValue = (v: unknown): boolean => matches(v === undefined ? '' : typeof v === 'string' ? v : (pyStr(v) ?? scalarText(v))) !== negate;
  return { key, op, value, text, testValue, test: (record) => testValue(record[key]) };
}

export function parseFilters(list: readonly string[]): Filter[] {
  return list.map(parseFilter);
}

/** True when the record passes every filter (they are ANDed; no filters = everything). */
export function matchesFilters(record: Readonly<Record<string, unknown>>, filters: readonly Filter[]): boolean {
  for (let i = 0; i < filters.length; i++) if (!filters[i]!.test(record)) return false;
  return true;
}
