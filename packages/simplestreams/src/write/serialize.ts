import { rememberedText } from '../read/dump-format.js';

/**
 * The original's JSON dump format (`json.dumps(indent=1, sort_keys=True, separators=(',',
 * ': '))` plus a trailing newline): stable and diff-friendly.
 *
 * `JSON.stringify` cannot sort keys without first building sorted copies of every object
 * (twice the memory and time on a 100 MB products file), so this walks the tree itself. Speed
 * comes from two things: every subtree whose keys are already in order at every level (the
 * common case for documents read from a sorted file) is handed to the native
 * `JSON.stringify` in one call and re-indented; and output is gathered in flattened chunks
 * rather than millions of small strings, which keeps the garbage collector out of the way.
 *
 * Keys are sorted by UTF-16 code unit (Python sorts by code point; the two differ only for
 * keys mixing astral characters with U+E000–U+FFFF, which no stream has). Values follow
 * `JSON.stringify` rules: `undefined`, functions and symbols are dropped from objects (null
 * in arrays), non-finite numbers become `null`, `toJSON` is honoured.
 */
export function serializeJson(value: unknown): string {
  return [...serializeJsonChunks(value)].join('');
}

/**
 * {@link serializeJson} as pieces of about {@link CHUNK_CHARS} characters whose concatenation
 * is its text, made as they are taken. A writer that writes each piece as it comes never
 * holds the whole text: for a 70 MB products file that saves two 70 MB copies (the text, and
 * the flat copy V8 makes of the native serialiser's output before encoding it) and the time
 * to make them.
 */
export function* serializeJsonChunks(value: unknown): Generator<string, void, undefined> {
  if (typeof value === 'object' && value !== null) {
    // Common case: a document read from a sorted file with a few objects changed. Copies of
    // just those objects, in key order, make the whole tree serialisable by the native
    // serialiser, called once per subtree below the top two levels (each product of a
    // products document, each entry of an index), or not at all for a product whose text
    // was remembered when it was read (see isTextOf).
    const budget: ViewBudget = { copies: 0, reused: new Map(), check: process.env[CHECK_REUSE_ENV] === '1' };
    const view = sortedView(value, budget, 0);
    if (view !== CANNOT) {
      let cur = '';
      for (const piece of nativePieces(view, 0, budget)) {
        cur += piece;
        if (cur.length >= CHUNK_CHARS) {
          yield cur;
          cur = '';
        }
      }
      yield `${cur}\n`;
      return;
    }
  }
  const out = new ChunkedOutput();
  writeValue(value, 0, out);
  out.push('\n');
  yield* out.finishChunks();
}

/** Size of the pieces {@link serializeJsonChunks} hands out. */
const CHUNK_CHARS = 1 << 20;
/** Objects above this depth are written key by key, deeper subtrees by one native call each. */
const NATIVE_BELOW_DEPTH = 2;

/**
 * Set to 1 (the test suites do), serializeJson checks every reused text against a fresh
 * serialisation and throws on a difference: a product changed in place after it was read.
 */
export const CHECK_REUSE_ENV = 'MEPH_CHECK_REUSED_TEXT';

interface ViewBudget {
  copies: number;
  /** Objects written from their remembered text, and that text. */
  reused: Map<object, string>;
  check: boolean;
}

/** JSON.stringify(v, null, 1) of a sorted view, re-indented for `depth`, in pieces. */
function* nativePieces(v: unknown, depth: number, budget: ViewBudget): Generator<string, void, undefined> {
  if (depth >= NATIVE_BELOW_DEPTH || typeof v !== 'object' || v === null || Array.isArray(v)) {
    if (depth === 0) {
      yield JSON.stringify(v, null, 1);
      return;
    }
    const text = budget.reused.get(v as object);
    if (text === undefined) yield nativeAt(v as object, depth);
    else {
      if (budget.check && text !== nativeAt(v as object, depth)) {
        throw new Error('serializeJson: a product read with its text remembered was changed in place; change a copy instead (see rememberProductTexts)');
      }
      yield text;
    }
    return;
  }
  const o = v as Record<string, unknown>;
  const inner = indent(depth + 1);
  let first = true;
  yield '{';
  for (const k in o) {
    if (!Object.prototype.hasOwnProperty.call(o, k)) continue;
    const child = o[k];
    if (child === undefined || typeof child === 'function' || typeof child === 'symbol') continue; // as JSON.stringify
    yield `${first ? inner : `,${inner}`}${JSON.stringify(k)}: `;
    first = false;
    yield* nativePieces(child, depth + 1, budget);
  }
  yield first ? '}' : `${indent(depth)}}`;
}

/** Collects output in ~64 KiB flattened chunks. */
class ChunkedOutput {
  private readonly chunks: string[] = [];
  private cur = '';
  push(s: string): void {
    this.cur += s;
    if (this.cur.length > 65_536) this.flush();
  }
  private flush(): void {
    // reading a character makes V8 flatten the rope now, while its pieces are still young
    this.cur.charCodeAt(0);
    this.chunks.push(this.cur);
    this.cur = '';
  }
  finishChunks(): string[] {
    if (this.cur !== '') this.flush();
    return this.chunks;
  }
}

const INDENTS: string[] = ['\n'];
function indent(depth: number): string {
  let s = INDENTS[depth];
  if (s === undefined) {
    for (let d = INDENTS.length; d <= depth; d++) INDENTS[d] = '\n' + ' '.repeat(d);
    s = '\n' + ' '.repeat(depth);
  }
  return s;
}

const hasToJson = (v: object): boolean => typeof (v as { toJSON?: unknown }).toJSON === 'function';

/** True when every object below (and including) `v` lists its keys in sorted order. */
function isSortedDeep(v: unknown): boolean {
  if (typeof v !== 'object' || v === null) return true;
  if (hasToJson(v)) return false;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (!isSortedDeep(v[i])) return false;
    return true;
  }
  const o = v as Record<string, unknown>;
  let prev: string | undefined;
  for (const k in o) {
    if (!Object.prototype.hasOwnProperty.call(o, k)) continue;
    if (prev !== undefined && prev > k) return false;
    prev = k;
    const child = o[k];
    if (typeof child === 'object' && child !== null && !isSortedDeep(child)) return false;
  }
  return true;
}

const CANNOT: unique symbol = Symbol('cannot');
/** More copies than this (a tree built out of order) and the streaming writer is used instead, without doubling memory. */
const MAX_VIEW_COPIES = 4096;
const ARRAY_INDEX = /^(?:0|[1-9]\d*)$/;

/**
 * `v` itself when every object below lists its keys in sorted order; otherwise a tree sharing
 * every sorted subtree with `v`, where each object out of order (or holding one) is a shallow
 * copy in sorted key order. CANNOT when a copy cannot list its keys that way (integer-like
 * keys, which objects always list first), for toJSON and BigInt values (left to the streaming
 * writer's rules), or past MAX_VIEW_COPIES copies.
 */
function sortedView(v: object, budget: ViewBudget, depth: number): unknown {
  if (depth === NATIVE_BELOW_DEPTH) {
    const text = rememberedText(v);
    if (text !== undefined && isTextOf(v, text, depth)) {
      budget.reused.set(v, text);
      return v;
    }
  }
  if (hasToJson(v)) return CANNOT;
  if (Array.isArray(v)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < v.length; i++) {
      const child: unknown = v[i];
      if (typeof child === 'bigint') return CANNOT;
      if (typeof child !== 'object' || child === null) continue;
      const view = sortedView(child, budget, depth + 1);
      if (view === CANNOT) return CANNOT;
      if (view !== child) {
        if (!out) {
          if (++budget.copies > MAX_VIEW_COPIES) return CANNOT;
          out = v.slice();
        }
        out[i] = view;
      }
    }
    return out ?? v;
  }
  const o = v as Record<string, unknown>;
  let inOrder = true;
  let prev: string | undefined;
  let changed: Map<string, unknown> | undefined;
  for (const k in o) {
    if (!Object.prototype.hasOwnProperty.call(o, k)) continue;
    if (prev !== undefined && prev > k) inOrder = false;
    prev = k;
    const child = o[k];
    if (typeof child === 'bigint') return CANNOT;
    if (typeof child !== 'object' || child === null) continue;
    const view = sortedView(child, budget, depth + 1);
    if (view === CANNOT) return CANNOT;
    if (view !== child) (changed ??= new Map()).set(k, view);
  }
  if (inOrder && !changed) return o;
  if (++budget.copies > MAX_VIEW_COPIES) return CANNOT;
  const keys = Object.keys(o);
  if (!inOrder) {
    keys.sort();
    if (keys.some(isIndexLike)) return CANNOT;
  }
  const out: Record<string, unknown> = {};
  for (const k of keys) out[k] = changed?.has(k) ? changed.get(k) : o[k];
  return out;
}

/**
 * Whether `text`, remembered for the object `v` when it was read (rememberProductTexts), is
 * what serializeJson writes for `v` at `depth`. The dump's layout and values are
 * serializeJson's own (isPlainDump), so it is when the text lists every object's keys in
 * sorted order, each once: dumpLength checks the order on `v` itself, and a key written twice
 * (JSON.parse keeps the last) makes the text longer than that length, as every member counts.
 * Objects list integer-like keys (version names such as `20260720`) first whatever the text
 * said, so for such an object right below `v` (a versions map) the order is read from the text.
 */
function isTextOf(v: object, text: string, depth: number): boolean {
  const integerKeyed: Array<[member: string, object: object]> = [];
  if (dumpLength(v, depth, integerKeyed) !== text.length) return false;
  for (const [member, object] of integerKeyed) if (!keysInOrderInText(text, depth, member, Object.keys(object).sort())) return false;
  return true;
}

/**
 * The length of `v`'s text as serializeJson writes it at `depth` when every object below lists
 * its keys in strictly increasing order, none integer-like; -1 otherwise, or for a value
 * JSON.stringify would drop or change. Strings count as written without escapes, as they were
 * in the plain dump `v` was read from. With `integerKeyed`, a member of `v` that is an object
 * with integer-like keys is counted and listed there (member name, object) for the caller to
 * check its order; `orderFromText` skips the order checks of `v`'s own keys (the caller's).
 */
function dumpLength(v: unknown, depth: number, integerKeyed?: Array<[string, object]>, orderFromText = false): number {
  switch (typeof v) {
    case 'string':
      return v.length + 2;
    case 'number':
      return Number.isFinite(v) ? String(v).length : -1;
    case 'boolean':
      return v ? 4 : 5;
    case 'object':
      break;
    default:
      return -1;
  }
  if (v === null) return 4;
  if (hasToJson(v)) return -1;
  // A non-empty container: "{" or "[", each member on its own line indented depth + 1 (with
  // its key, quoted, and ": " in an object), commas between, the closing bracket on a line
  // indented depth.
  let members: number;
  let total = 0;
  if (Array.isArray(v)) {
    members = v.length;
    for (let i = 0; i < members; i++) {
      const n = dumpLength(v[i], depth + 1);
      if (n < 0) return -1;
      total += n;
    }
  } else {
    const keys = Object.keys(v);
    members = keys.length;
    const o = v as Record<string, unknown>;
    for (let i = 0; i < members; i++) {
      const k = keys[i]!;
      if (!orderFromText && ((i > 0 && !(keys[i - 1]! < k)) || isIndexLike(k))) return -1;
      const child = o[k];
      let n: number;
      if (integerKeyed && typeof child === 'object' && child !== null && !Array.isArray(child) && Object.keys(child).some(isIndexLike)) {
        integerKeyed.push([k, child]);
        n = dumpLength(child, depth + 1, undefined, true);
      } else n = dumpLength(child, depth + 1);
      if (n < 0) return -1;
      total += k.length + 4 + n;
    }
  }
  if (members === 0) return 2;
  return total + members * (depth + 2) + (members - 1) + depth + 3;
}
/** An integer-like key: objects list those first, in numeric order. */
function isIndexLike(k: string): boolean {
  const first = k.charCodeAt(0);
  return first >= 0x30 && first <= 0x39 && ARRAY_INDEX.test(k);
}

/**
 * Whether the object `member` of the object whose text is `text` (written at `depth`, so its
 * members' lines are indented depth + 1) lists `sortedKeys` in that order: each key's line is
 * found after the previous one and before the object's closing line. (Every key of the object
 * is looked for and none is written twice, so the lines found are all its lines.)
 */
function keysInOrderInText(text: string, depth: number, member: string, sortedKeys: readonly string[]): boolean {
  const indent = ' '.repeat(depth + 1);
  const head = `\n${indent}${JSON.stringify(member)}: {`;
  const open = text.indexOf(head);
  if (open < 0) return false;
  const close = text.indexOf(`\n${indent}}`, open);
  let at = open + head.length;
  for (const key of sortedKeys) {
    const line = `\n${indent} ${JSON.stringify(key)}: `;
    const found = text.indexOf(line, at);
    if (found < 0 || (close >= 0 && found > close)) return false;
    at = found + line.length;
  }
  return true;
}

/** The native serialisation of an already-sorted subtree, indented for `depth`. */
function nativeAt(v: object, depth: number): string {
  if (depth === 0 || typeof v !== 'object' || v === null) return JSON.stringify(v, null, 1);
  // Serialised inside `depth` single-key wrappers, the subtree comes out already indented for
  // its depth: slicing it out costs less than re-indenting (a copy of every line break).
  let wrapped: unknown = v;
  for (let d = 0; d < depth; d++) wrapped = { '': wrapped };
  const s = JSON.stringify(wrapped, null, 1);
  const [head, tail] = wrapperText(depth);
  return s.slice(head, s.length - tail);
}

/** Lengths of the text JSON.stringify(…, null, 1) puts before and after a value wrapped `depth` times in `{"": …}`. */
const WRAPPERS: Array<[number, number]> = [];
function wrapperText(depth: number): [number, number] {
  let w = WRAPPERS[depth];
  if (w === undefined) {
    let head = 0;
    let tail = 0;
    for (let i = 0; i < depth; i++) {
      head += `{\n${' '.repeat(i + 1)}"": `.length;
      tail += `\n${' '.repeat(i)}}`.length;
    }
    w = WRAPPERS[depth] = [head, tail];
  }
  return w;
}

function writeValue(value: unknown, depth: number, out: ChunkedOutput): void {
  switch (typeof value) {
    case 'string':
      out.push(JSON.stringify(value));
      return;
    case 'number':
      out.push(Number.isFinite(value) ? String(value) : 'null');
      return;
    case 'boolean':
      out.push(value ? 'true' : 'false');
      return;
    case 'bigint':
      throw new TypeError('serializeJson: cannot serialise a BigInt');
    case 'object':
      break;
    default:
      out.push('null'); // undefined/function/symbol at top level or in an array
      return;
  }
  if (value === null) {
    out.push('null');
    return;
  }
  if (hasToJson(value)) {
    writeValue((value as { toJSON: () => unknown }).toJSON(), depth, out);
    return;
  }
  if (isSortedDeep(value)) {
    out.push(nativeAt(value, depth));
    return;
  }
  if (Array.isArray(value)) {
    const inner = indent(depth + 1);
    out.push('[');
    for (let i = 0; i < value.length; i++) {
      out.push(i === 0 ? inner : ',' + inner);
      writeValue(value[i], depth + 1, out);
    }
    out.push(indent(depth) + ']');
    return;
  }
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).sort();
  const inner = indent(depth + 1);
  let first = true;
  out.push('{');
  for (const key of keys) {
    const v = obj[key];
    if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
    out.push((first ? inner : ',' + inner) + JSON.stringify(key) + ': ');
    writeValue(v, depth + 1, out);
    first = false;
  }
  out.push(first ? '}' : indent(depth) + '}');
}
