/**
 * Output in the reference client's spellings, so query answers compare 1:1: Python `repr`
 * of a record (its default output), `%(key)s` formats (`-o`), and `json.dumps(records,
 * indent=2, sort_keys=True)` (`--json`).
 */
import { OutputFormatError } from '../errors.js';

const NOT_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u;

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

/** Python `repr()` of a str. */
const PLAIN_ASCII = /^[\x20-\x26\x28-\x5b\x5d-\x7e]*$/;

export function pyReprString(s: string): string {
  if (PLAIN_ASCII.test(s)) return `'${s}'`; // printable ASCII without ' or \: nothing to escape
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === '\\') out += '\\\\';
    else if (ch === quote) out += `\\${quote}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${hex(cp, 2)}`;
    else if (cp < 0x7f || ch === ' ' || !NOT_PRINTABLE.test(ch)) out += ch;
    else if (cp < 0x100) out += `\\x${hex(cp, 2)}`;
    else if (cp < 0x10000) out += `\\u${hex(cp, 4)}`;
    else out += `\\U${hex(cp, 8)}`;
  }
  return out + quote;
}

/** Python `repr()` of a scalar or a flat dict (insertion order kept, like a Python dict). */
export function pyRepr(value: unknown): string {
  if (typeof value === 'string') return pyReprString(value);
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number') return String(value);
  if (value === null || value === undefined) return 'None';
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(', ')}]`;
  const parts: string[] = [];
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) parts.push(`${pyReprString(k)}: ${pyRepr(v)}`);
  return `{${parts.join(', ')}}`;
}

/** Python `str()` of a value (what `%s` prints). */
function pyStrOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null) return pyRepr(value);
  return pyRepr(value);
}

export type PercentResult = { ok: true; text: string } | { ok: false; missing: string };

type Token = string | { key: string | undefined; flags: string; width: number | undefined; precision: number | undefined; conv: string };

const SPEC = /%(?:\(([^)]*)\))?([-+ #0]*)(\d+)?(?:\.(\d*))?[hlL]?(.)?/y;

/**
 * Compiles a Python %-format (`%(product_name)s %(item_url)s`, `%%`, width/precision,
 * `-` flag, conversions s/r/a; a bare `%s` formats the whole record) into a function of a
 * record. A missing key yields `{ ok: false, missing }` so the caller can skip the record
 * like the reference client. Malformed formats throw OutputFormatError at compile time.
 */
export function compilePercentFormat(format: string): (record: Readonly<Record<string, unknown>>) => PercentResult {
  const tokens: Token[] = [];
  let literal = '';
  let positional = 0;
  let keyed = 0;
  for (let i = 0; i < format.length; ) {
    const pct = format.indexOf('%', i);
    if (pct === -1) {
      literal += format.slice(i);
      break;
    }
    literal += format.slice(i, pct);
    SPEC.lastIndex = pct;
    const m = SPEC.exec(format);
    if (!m || m[5] === undefined) throw new OutputFormatError(format, 'incomplete format (a "%" without a conversion)');
    const [whole, key, flags = '', width, precision, conv] = m;
    i = pct + whole.length;
    if (conv === '%') {
      literal += '%';
      continue;
    }
    if (!'sra'.includes(conv)) {
      if ('diouxXeEfFgGc'.includes(conv)) throw new OutputFormatError(format, `%${conv} needs a number, but every field is a string; use %(key)s`);
      throw new OutputFormatError(format, `unsupported format character ${JSON.stringify(conv)}`);
    }
    if (key === undefined) positional++;
    else keyed++;
    if (literal) tokens.push(literal);
    literal = '';
    tokens.push({ key, flags, width: width === undefined ? undefined : Number(width), precision: precision === undefined ? undefined : Number(precision || '0'), conv });
  }
  if (literal) tokens.push(literal);
  if (positional > 1) throw new OutputFormatError(format, 'only one positional %s is possible (it prints the whole record); name fields with %(key)s');
  if (positional && keyed) throw new OutputFormatError(format, 'cannot mix %s with %(key)s');

  return (record) => {
    let text = '';
    for (const t of tokens) {
      if (typeof t === 'string') {
        text += t;
        continue;
      }
      let value: unknown;
      if (t.key === undefined) value = record;
      else {
        if (!Object.hasOwn(record, t.key)) return { ok: false, missing: t.key };
        value = record[t.key];
      }
      let s = t.conv === 's' ? pyStrOf(value) : pyRepr(value);
      if (t.precision !== undefined) s = s.slice(0, t.precision);
      if (t.width !== undefined && s.length < t.width) s = t.flags.includes('-') ? s.padEnd(t.width) : s.padStart(t.width);
      text += s;
    }
    return { ok: true, text };
  };
}

/** Python json.dumps string escaping with ensure_ascii (non-ASCII and DEL as \uXXXX). */
export function pyJsonString(s: string): string {
  return JSON.stringify(s).replace(/[\u007f-\uffff]/g, (c) => `\\u${hex(c.charCodeAt(0), 4)}`);
}

const NON_ASCII = /[\u007f-\uffff]/g;

function escapeNonAscii(text: string): string {
  // byteLength === length: no code unit above 0x7f (native, much faster than a regex scan)
  if (Buffer.byteLength(text, 'utf8') === text.length && !text.includes('\u007f')) return text;
  return text.replace(NON_ASCII, (c) => `\\u${hex(c.charCodeAt(0), 4)}`);
}

/** True when every value of the record is a string (query records always are). */
function allStrings(r: Readonly<Record<string, unknown>>): boolean {
  for (const k in r) if (typeof r[k] !== 'string') return false;
  return true;
}

/** One record, indented as an element of the top-level list, without separators. */
function pyJsonRecord(r: Readonly<Record<string, unknown>>): string {
  // An array replacer lists the keys in the order given: sorted, like sort_keys=True. With
  // indent 2 and ", " → ",\n" this is Python's layout once re-indented one level (values
  // are escaped, so the only raw newlines are the ones between keys).
  return `  ${JSON.stringify(r, Object.keys(r).sort(), 2).replace(/\n/g, '\n  ')}`;
}

/** Records per piece: JSON.stringify of a list of them is one native call per piece. */
const RECORDS_PER_CHUNK = 256;

/**
 * What `print(json.dumps(records, indent=2, sort_keys=True))` writes, in pieces of whole
 * lines (a few hundred records each) so a quarter of a million records never become one
 * giant string. Flat string-valued records (query output) are written by one JSON.stringify
 * of a list per piece, with the sorted union of the piece's keys as the property list: it
 * lists each record's keys in that (sorted) order without copying any record, and Python's
 * layout for `indent=2` is the same as JavaScript's.
 */
export function* pythonJsonChunks(records: Iterable<Readonly<Record<string, unknown>>>): Generator<string> {
  let first = true;
  let batch: Array<Readonly<Record<string, unknown>>> = [];
  // Records of a query come product by product and share their keys: the key list is only
  // merged into the piece's set when it differs from the previous record's.
  let lastKeys: string[] = [];
  const keySet = new Set<string>();
  const flush = (): string => {
    const text = JSON.stringify(batch, [...keySet].sort(), 2);
    batch = [];
    keySet.clear();
    lastKeys = [];
    // "[\n  {…},\n  {…}\n]" → the records' lines without the brackets
    return escapeNonAscii(text.slice(2, -2));
  };
  for (const r of records) {
    let piece: string | undefined;
    if (allStrings(r)) {
      const keys = Object.keys(r);
      let same = keys.length === lastKeys.length;
      for (let i = 0; same && i < keys.length; i++) same = keys[i] === lastKeys[i];
      if (!same) {
        for (const k of keys) keySet.add(k);
        lastKeys = keys;
      }
      batch.push(r);
      if (batch.length >= RECORDS_PER_CHUNK) piece = flush();
    } else {
      piece = `${batch.length ? `${flush()},\n` : ''}${escapeNonAscii(pyJsonRecord(r))}`;
    }
    if (piece !== undefined) {
      yield `${first ? '[\n' : ',\n'}${piece}`;
      first = false;
    }
  }
  if (batch.length) {
    yield `${first ? '[\n' : ',\n'}${flush()}`;
    first = false;
  }
  yield first ? '[]\n' : '\n]\n';
}

/** `json.dumps(records, indent=2, sort_keys=True)` (no trailing newline). */
export function toPythonJson(records: Iterable<Readonly<Record<string, unknown>>>): string {
  return [...pythonJsonChunks(records)].join('').slice(0, -1);
}
