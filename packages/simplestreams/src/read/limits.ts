/**
 * What a reader accepts from a document it did not write: a size and nesting cap (hostile
 * documents must fail in one line, not with a stack overflow or an out-of-memory), and only
 * values meph can write back exactly (a rewrite must never change a number or a character the
 * command did not mean to touch).
 */
import { Buffer, isAscii } from 'node:buffer';
import { TextDecoder } from 'node:util';
import { DocumentLimitError, UnrepresentableValueError } from '../errors.js';
import { lineAndColumn } from './text-position.js';

/** Environment variable that overrides {@link DEFAULT_MAX_DOCUMENT_BYTES}. */
export const MAX_DOCUMENT_BYTES_ENV = 'MEPH_MAX_DOCUMENT_BYTES';
/** Largest metadata document read (the biggest real products files are tens of MB). */
export const DEFAULT_MAX_DOCUMENT_BYTES = 256 * 1024 * 1024;
/** Deepest JSON nesting accepted (real simplestreams documents nest under 10 levels). */
export const MAX_JSON_DEPTH = 64;

/** The document size cap: the option, else `$MEPH_MAX_DOCUMENT_BYTES`, else the default. */
export function maxDocumentBytes(option?: number, env: NodeJS.ProcessEnv = process.env): number {
  if (option !== undefined) return option;
  const raw = env[MAX_DOCUMENT_BYTES_ENV];
  if (raw === undefined || raw === '') return DEFAULT_MAX_DOCUMENT_BYTES;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new DocumentLimitError(MAX_DOCUMENT_BYTES_ENV, `must be a whole number of bytes, got ${JSON.stringify(raw)}`);
  }
  return n;
}

const fatalUtf8 = (): InstanceType<typeof TextDecoder> => new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Decodes UTF-8 strictly: invalid bytes are refused (naming file, line, column and JSON
 * path), never replaced with U+FFFD, which a later rewrite would make permanent.
 */
export function decodeUtf8Strict(bytes: Uint8Array, source: string): string {
  // ASCII (metadata almost always is) is valid UTF-8, and V8 builds it a third faster as latin1.
  if (isAscii(bytes)) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  try {
    return fatalUtf8().decode(bytes);
  } catch {
    // Find the first bad byte: the longest prefix that decodes (a sequence cut at the end is fine in stream mode).
    let lo = 0;
    let hi = bytes.length;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      try {
        fatalUtf8().decode(bytes.subarray(0, mid), { stream: true });
        lo = mid;
      } catch {
        hi = mid - 1;
      }
    }
    let at = lo;
    // When the good prefix ends inside a multi-byte sequence, the bad sequence starts at its lead byte.
    let lead = lo - 1;
    while (lead > 0 && (bytes[lead]! & 0xc0) === 0x80) lead--;
    const b = lead >= 0 ? bytes[lead]! : 0;
    const length = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    if (lead >= 0 && lead + length > lo) at = lead;
    const prefix = new TextDecoder('utf-8').decode(bytes.subarray(0, at));
    const { line, column } = lineAndColumn(prefix, prefix.length);
    const where = jsonPathAt(prefix, prefix.length);
    throw new UnrepresentableValueError(source, where, `invalid UTF-8 (byte 0x${bytes[at]!.toString(16).padStart(2, '0')} at line ${line}, column ${column})`);
  }
}

/**
 * An object key without escapes and its colon, then up to 64 object members (`"key": value`,
 * comma-separated) whose values need no check: strings without escapes and integers of at
 * most 15 digits. Metadata is mostly such runs; matching them natively saves a fifth of the
 * scan (and matching the key of an object or array member saves skipping it by hand).
 * Bounded, so a huge flat object cannot exhaust the regular expression's backtracking stack;
 * anything else (escapes, other numbers, brackets) ends the match and the scan below handles it.
 */
const KEY_COLON = String.raw`"[^"\\]*"\s*:\s*`;
const SCALAR_VALUE = String.raw`(?:"[^"\\]*"|\d{1,15}(?![\d.eE+\-]))`;
const SCALAR_PAIRS = new RegExp(String.raw`${KEY_COLON}(?:${SCALAR_VALUE}(?:\s*,\s*${KEY_COLON}${SCALAR_VALUE}){0,63})?`, 'y');

/**
 * One pass over JSON text (before JSON.parse): refuses nesting deeper than `maxDepth` and
 * numbers a JavaScript number cannot hold exactly (integers beyond 2^53, out-of-range or
 * over-precise decimals), naming the JSON path. Strings are skipped, not decoded.
 */
export function checkJsonText(text: string, source: string, maxDepth = MAX_JSON_DEPTH): void {
  const n = text.length;
  let depth = 0;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c <= 0x20) continue; // whitespace, the commonest character outside strings
    if (c === 0x22) {
      // A run of "key": value pairs with nothing to check in them, skipped in one native match.
      SCALAR_PAIRS.lastIndex = i;
      if (SCALAR_PAIRS.test(text)) {
        i = SCALAR_PAIRS.lastIndex - 1;
        continue;
      }
      // Skip the string: the next quote not escaped by an odd number of backslashes.
      let j = text.indexOf('"', i + 1);
      while (j > 0 && text.charCodeAt(j - 1) === 0x5c) {
        let k = j - 1;
        while (text.charCodeAt(k - 1) === 0x5c) k--;
        if ((j - k) % 2 === 0) break;
        j = text.indexOf('"', j + 1);
      }
      if (j < 0) return; // unterminated: JSON.parse reports it
      i = j;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > maxDepth) {
        throw new DocumentLimitError(source, `JSON nested deeper than ${maxDepth} levels at ${jsonPathAt(text, i)}`);
      }
    } else if (c === 0x7d || c === 0x5d) depth--;
    else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      let j = i + 1;
      let plain = true;
      for (; j < n; j++) {
        const d = text.charCodeAt(j);
        if (d >= 0x30 && d <= 0x39) continue;
        if (d === 0x2e || d === 0x65 || d === 0x45 || d === 0x2b || d === 0x2d) plain = false;
        else break;
      }
      // Fast path: integers of up to 15 digits are always exact.
      if (!plain || j - i > 15) {
        const token = text.slice(i, j);
        const problem = numberProblem(token);
        if (problem) throw new UnrepresentableValueError(source, jsonPathAt(text, i), problem);
      }
      i = j - 1;
    }
  }
}

/** Why `token` (a JSON number) cannot be held exactly, or undefined when it can. */
function numberProblem(token: string): string | undefined {
  const value = Number(token);
  if (Number.isNaN(value)) return undefined; // not a number at all: JSON.parse reports it
  if (!Number.isFinite(value)) return `number ${token} is out of range (it would become null)`;
  if (/^-?\d+$/.test(token)) {
    const big = BigInt(token);
    if (big > BigInt(Number.MAX_SAFE_INTEGER) || big < -BigInt(Number.MAX_SAFE_INTEGER)) return `integer ${token} is larger than 2^53 and cannot be held exactly (it would become ${String(value)})`;
    return undefined;
  }
  const a = decimal(token);
  const b = decimal(String(value));
  if (a.digits !== b.digits || a.exponent !== b.exponent || (a.digits !== '0' && a.negative !== b.negative)) {
    return `number ${token} cannot be held exactly (it would become ${String(value)})`;
  }
  return undefined;
}

/** A decimal number as sign, significant digits and exponent: 12.50e1 → (false, "125", 0). */
function decimal(text: string): { negative: boolean; digits: string; exponent: number } {
  const m = /^(-?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!m) return { negative: false, digits: text, exponent: 0 };
  const frac = m[3] ?? '';
  let digits = `${m[2] ?? ''}${frac}`.replace(/^0+/, '');
  let exponent = Number(m[4] ?? 0) - frac.length;
  while (digits.endsWith('0')) {
    digits = digits.slice(0, -1);
    exponent++;
  }
  if (digits === '') return { negative: m[1] === '-', digits: '0', exponent: 0 };
  return { negative: m[1] === '-', digits, exponent };
}

/**
 * The JSON path (`$.products["a:b"].versions…`) of the value at `offset` of `text` (which
 * may be cut short there). For messages only: linear, called on the error path.
 */
export function jsonPathAt(text: string, offset: number): string {
  type Frame = { kind: 'object'; key: string | undefined } | { kind: 'array'; index: number };
  const stack: Frame[] = [];
  let i = 0;
  const readString = (): string => {
    const start = i;
    for (i++; i < text.length; i++) {
      const d = text.charCodeAt(i);
      if (d === 0x5c) i++;
      else if (d === 0x22) break;
    }
    const raw = text.slice(start, i + 1);
    try {
      return JSON.parse(raw) as string;
    } catch {
      return raw.slice(1, -1);
    }
  };
  let expectKey = false;
  for (; i < offset && i < text.length; i++) {
    const c = text[i];
    const top = stack[stack.length - 1];
    if (c === '"') {
      const s = readString();
      if (expectKey && top?.kind === 'object') {
        top.key = s;
        expectKey = false;
      }
    } else if (c === '{') {
      stack.push({ kind: 'object', key: undefined });
      expectKey = true;
    } else if (c === '[') stack.push({ kind: 'array', index: 0 });
    else if (c === '}' || c === ']') stack.pop();
    else if (c === ',') {
      if (top?.kind === 'array') top.index++;
      else if (top?.kind === 'object') {
        top.key = undefined;
        expectKey = true;
      }
    }
  }
  let out = '$';
  const shown = stack.length > 12 ? stack.slice(0, 10) : stack;
  for (const f of shown) {
    if (f.kind === 'array') out += `[${f.index}]`;
    else if (f.key !== undefined) out += /^[A-Za-z_][A-Za-z0-9_]*$/.test(f.key) ? `.${f.key}` : `[${JSON.stringify(f.key)}]`;
  }
  return shown.length < stack.length ? `${out}…(${stack.length} levels)` : out;
}
