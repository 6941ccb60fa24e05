/**
 * Finds object keys that occur twice in one object of a JSON text. JSON.parse (and Python's
 * json) silently keep the last one, so a duplicated product or item hides the first copy.
 * The text is assumed to be valid JSON (it has been parsed already).
 * Returns the dotted locations, e.g. `products.com.ubuntu.maas:…:ga-24.04.versions.20250805`.
 */
export function findDuplicateKeys(text: string): string[] {
  interface Frame {
    isObject: boolean;
    keys?: Set<string>;
    expectKey: boolean;
    key?: string;
  }
  const QUOTE = 0x22;
  const BACKSLASH = 0x5c;
  const stack: Frame[] = [];
  const found: string[] = [];
  const where = (key: string) => [...stack.slice(0, -1).map((f) => f.key ?? '[]'), key].join('.');
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      // the closing quote is the next one not preceded by an odd number of backslashes
      let j = text.indexOf('"', i + 1);
      let escaped = false;
      while (j > 0) {
        let b = 0;
        while (text.charCodeAt(j - 1 - b) === BACKSLASH) b++;
        if (b % 2 === 0) break;
        escaped = true;
        j = text.indexOf('"', j + 1);
      }
      if (j < 0) break;
      const top = stack[stack.length - 1];
      if (top?.isObject && top.expectKey) {
        const raw = text.slice(i + 1, j);
        const key = escaped || raw.includes('\\') ? (JSON.parse(`"${raw}"`) as string) : raw;
        top.keys ??= new Set();
        if (top.keys.has(key)) found.push(where(key));
        top.keys.add(key);
        top.key = key;
        top.expectKey = false;
      }
      i = j;
    } else if (c === 0x7b /* { */) {
      stack.push({ isObject: true, expectKey: true });
    } else if (c === 0x5b /* [ */) {
      stack.push({ isObject: false, expectKey: false });
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
    } else if (c === 0x2c /* , */) {
      const top = stack[stack.length - 1];
      if (top?.isObject) top.expectKey = true;
    }
  }
  return found;
}
