import { MAX_JSON_DEPTH } from './limits.js';

/*
 * The layout serializeJson writes (the original's `json.dumps(indent=1, …)` plus a newline):
 * one member or element per line, indented one space per level, `": "` after a key, `{}` and
 * `[]` when empty. Each line is checked against the next: after an opening bracket it is one
 * space deeper, after a comma just as deep, otherwise (the last member) one space shallower.
 */
const STRING = String.raw`"[^"\\\x00-\x1f]*"`;
/** Values that need no check: strings without escapes and integers of up to 15 digits (not -0). */
const VALUE = String.raw`(?:${STRING}|0|-?[1-9][0-9]{0,14}|true|false|null|\{\}|\[\])`;
const SAME = String.raw`\n(?=\1 (?! ))`;
const DEEPER = String.raw`\n(?=\1  (?! ))`;
const SHALLOWER = String.raw`\n(?=\1(?! ))`;

/**
 * Up to 512 lines below the first. Each is indented 1 to MAX_JSON_DEPTH - 1 spaces (\1 holds
 * one less), so no bracket opened on one nests deeper than MAX_JSON_DEPTH. Bounded, so a huge
 * document cannot exhaust the backtracking stack.
 */
const LINE = String.raw`( {0,${MAX_JSON_DEPTH - 2}}) (?! )(?:(?:${STRING}: )?(?:[{\[]${DEEPER}|${VALUE}(?:,${SAME}|${SHALLOWER}))|[}\]](?:,${SAME}|${SHALLOWER}))`;
const LINES = new RegExp(String.raw`(?:${LINE}){1,512}`, 'y');

/**
 * True when `text` is an object laid out exactly as serializeJson writes it whose values are
 * all plain: no escapes in strings, no numbers but integers of up to 15 digits. Such text, if
 * it parses, nests no deeper than MAX_JSON_DEPTH and holds only numbers a JavaScript number
 * keeps exactly, so it needs no checkJsonText pass; every file meph (or the original) writes
 * is such text unless it holds an escape or a fraction. Native matching, about twice as fast as
 * that pass. Says nothing about whether the text is valid JSON (JSON.parse does) or whether
 * its keys are in order.
 */
export function isPlainDump(text: string): boolean {
  if (text === '{}\n') return true;
  const end = text.length - 2; // the closing "}\n"
  if (!text.startsWith('{\n ') || text.charCodeAt(3) === 0x20 || !text.endsWith('\n}\n')) return false;
  let i = 2;
  while (i < end) {
    LINES.lastIndex = i;
    if (!LINES.test(text)) return false;
    i = LINES.lastIndex;
  }
  return i === end;
}

/** The text each product had in the plain dump it was read from (see rememberProductTexts). */
const productTexts = new WeakMap<object, string>();

/** Where the products map of a plain dump opens: its first product's key line follows. */
const PRODUCTS_OPEN = '\n "products": {';

/**
 * Remembers the text each product of `products` has in `text`, the plain dump (isPlainDump)
 * the document was parsed from, so that serializeJson can write a product the caller did not
 * change by reusing its text instead of serialising it again (it first checks that the text can
 * still be the product's: see serialize.ts). Products are found by their key lines, two spaces
 * deep, in document order; when the text does not line up with the map (a key written twice,
 * integer-like keys, which objects list first) nothing is remembered.
 *
 * The texts keep `text` in memory as long as the products live. A caller that asks for this
 * must treat the products as read-only: a product changed in place would be written as it was
 * read. Change a copy (stream-ops' editableCopy and friends do).
 */
export function rememberProductTexts(products: Record<string, unknown>, text: string): void {
  const open = text.indexOf(PRODUCTS_OPEN);
  if (open < 0 || text.charCodeAt(open + PRODUCTS_OPEN.length) !== 0x0a) return;
  const found: Array<[object, string]> = [];
  let at = open + PRODUCTS_OPEN.length; // the line break before the next key line
  let last = false;
  for (const name in products) {
    const product = products[name];
    if (last || typeof product !== 'object' || product === null) return;
    const head = `\n  ${JSON.stringify(name)}: `;
    if (!text.startsWith(head, at)) return;
    const start = at + head.length;
    let end: number;
    if (text.startsWith('{}', start)) end = start + 2;
    else if (text.startsWith('{\n', start)) {
      const close = text.indexOf('\n  }', start);
      if (close < 0) return;
      end = close + 4;
    } else return;
    found.push([product, text.slice(start, end)]);
    last = text.charCodeAt(end) !== 0x2c;
    at = last ? end : end + 1;
  }
  // Every key line consumed: the products map closes right after the last one.
  if (!text.startsWith('\n }', at)) return;
  for (const [product, productText] of found) productTexts.set(product, productText);
}

/** The text `object` had in the plain dump it was read from, if remembered. */
export function rememberedText(object: object): string | undefined {
  return productTexts.get(object);
}
