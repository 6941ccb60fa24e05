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
    // products document, each entry of an index).
    const view = sortedView(value, { copies: 0 });
    if (view !== CANNOT) {
      let cur = '';
      for (const piece of nativePieces(view, 0)) {
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

/** JSON.stringify(v, null, 1) of a sorted view, re-indented for `depth`, in pieces. */
function* nativePieces(v: unknown, depth: number): Generator<string, void, undefined> {
  if (depth >= NATIVE_BELOW_DEPTH || typeof v !== 'object' || v === null || Array.isArray(v)) {
    yield depth === 0 ? JSON.stringify(v, null, 1) : nativeAt(v as object, depth);
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
    yield* nativePieces(child, depth + 1);
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
function sortedView(v: object, budget: { copies: number }): unknown {
  if (hasToJson(v)) return CANNOT;
  if (Array.isArray(v)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < v.length; i++) {
      const child: unknown = v[i];
      if (typeof child === 'bigint') return CANNOT;
      if (typeof child !== 'object' || child === null) continue;
      const view = sortedView(child, budget);
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
    const view = sortedView(child, budget);
    if (view === CANNOT) return CANNOT;
    if (view !== child) (changed ??= new Map()).set(k, view);
  }
  if (inOrder && !changed) return o;
  if (++budget.copies > MAX_VIEW_COPIES) return CANNOT;
  const keys = Object.keys(o);
  if (!inOrder) {
    keys.sort();
    if (keys.some((k) => ARRAY_INDEX.test(k))) return CANNOT;
  }
  const out: Record<string, unknown> = {};
  for (const k of keys) out[k] = changed?.has(k) ? changed.get(k) : o[k];
  return out;
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
