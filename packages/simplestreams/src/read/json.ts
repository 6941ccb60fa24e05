import { DocumentLimitError, ParseError, UnrepresentableValueError } from '../errors.js';
import { isPlainDump } from './dump-format.js';
import { checkJsonText } from './limits.js';
import { lineAndColumn } from './text-position.js';

/**
 * Parses JSON text. On failure throws a ParseError naming `source` and the line/column of
 * the first offending character (V8's own message does not always carry a position).
 * A leading UTF-8 byte order mark is ignored. Nesting deeper than MAX_JSON_DEPTH and numbers
 * that a JavaScript number cannot hold exactly are refused first (see checkJsonText), except
 * in text laid out as meph writes it with only plain values, which holds neither.
 */
export function parseJson(text: string, source: string): unknown {
  return parseJsonDocument(text, source).value;
}

/**
 * {@link parseJson}, also giving back the text parsed (minus a byte order mark) when it is a
 * plain dump, for rememberProductTexts.
 */
export function parseJsonDocument(text: string, source: string): { value: unknown; plainDump?: string } {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const plain = isPlainDump(body);
  if (!plain) checkJsonText(body, source);
  try {
    const value: unknown = JSON.parse(body);
    return plain ? { value, plainDump: body } : { value };
  } catch (err) {
    const at = locateJsonError(body);
    const { line, column } = lineAndColumn(body, at.offset);
    throw new ParseError(source, at.detail, line, column);
  }
}

/**
 * Parses a JSON bookkeeping file that must hold one object (mirror references, orphans files and
 * their sidecars). What is not JSON, or not an object, becomes the caller's own typed error:
 * `fail` gets a detail such as `not valid JSON (line 3, column 7: expected "," or "}")` or
 * `is not a JSON object` and returns the error to throw, so the message names `file` as that
 * library's errors do.
 */
export function parseJsonObject(text: string, file: string, fail: (detail: string, cause: unknown) => Error): Record<string, unknown> {
  let value: unknown;
  try {
    value = parseJson(text, file);
  } catch (err) {
    if (err instanceof ParseError) {
      const at = err.line !== undefined ? `line ${err.line}${err.column !== undefined ? `, column ${err.column}` : ''}: ` : '';
      throw fail(`not valid JSON (${at}${err.detail})`, err);
    }
    if (err instanceof DocumentLimitError || err instanceof UnrepresentableValueError) throw fail(err.message.slice(file.length + 2), err);
    throw err;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw fail('is not a JSON object', undefined);
  return value as Record<string, unknown>;
}

class Stop extends Error {
  constructor(readonly offset: number, readonly detail: string) {
    super(detail);
  }
}

/**
 * Finds where `text` stops being valid JSON. Only called after JSON.parse failed, so it
 * favours clarity over speed.
 */
export function locateJsonError(text: string): { offset: number; detail: string } {
  let i = 0;
  const n = text.length;
  const describe = (at: number): string => (at >= n ? 'end of input' : `${JSON.stringify(text[at])}`);
  const fail = (expected: string): never => {
    throw new Stop(i, i >= n ? `unexpected end of input, expected ${expected} (truncated file?)` : `unexpected ${describe(i)}, expected ${expected}`);
  };
  const ws = (): void => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else break;
    }
  };
  const literal = (word: string): void => {
    for (let k = 0; k < word.length; k++, i++) if (text[i] !== word[k]) fail(`"${word}"`);
  };
  const string = (): void => {
    i++; // opening quote
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return;
      }
      if (c < 0x20) throw new Stop(i, 'control character inside a string');
      if (c === 0x5c) {
        i++;
        const e = text[i];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) throw new Stop(i, 'bad \\u escape');
          i += 5;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i++;
        else fail('an escape character');
      } else i++;
    }
    fail('closing quote of string');
  };
  const number = (): void => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m) fail('a number');
    i += m![0].length;
  };
  const value = (depth: number): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('a double-quoted property name');
        string();
        ws();
        if (text[i] !== ':') fail('":"');
        i++;
        value(depth + 1);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return;
        }
        fail('"," or "}"');
      }
    } else if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        value(depth + 1);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return;
        }
        fail('"," or "]"');
      }
    } else if (c === '"') string();
    else if (c === 't') literal('true');
    else if (c === 'f') literal('false');
    else if (c === 'n') literal('null');
    else if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) number();
    else fail('a JSON value');
  };
  try {
    value(0);
    ws();
    if (i < n) fail('end of input');
  } catch (e) {
    if (e instanceof Stop) return { offset: e.offset, detail: e.detail };
    if (e instanceof RangeError) return { offset: i, detail: 'nesting too deep' };
    throw e;
  }
  // JSON.parse refused it but the scanner did not: report the engine's message.
  return { offset: 0, detail: 'not valid JSON' };
}
