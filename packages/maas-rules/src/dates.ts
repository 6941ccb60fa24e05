/**
 * Date formats as MAAS parses them (maas-acceptance.md R-DATE): `updated` with Python's
 * `%a, %d %b %Y %H:%M:%S %z` (English names, numeric zone or `Z`), falling back to ISO 8601 in
 * 3.8; `support_eol` / `support_esm_eol` with `%Y-%m-%d` (unpadded numbers accepted).
 */

const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

const RFC2822 =
  /^([A-Za-z]{3}), (\d{1,2}) ([A-Za-z]{3}) (\d{4}) (\d{1,2}):(\d{1,2}):(\d{1,2}) (Z|[+-]\d{2}:?\d{2}(?::?\d{2})?)$/;
const ISO8601 = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/;

function validDate(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1) return false;
  return d <= new Date(Date.UTC(y, m, 0)).getUTCDate();
}

function validTime(h: number, min: number, s: number): boolean {
  return h <= 23 && min <= 59 && s <= 61;
}

/** True when Python's `strptime(value, "%a, %d %b %Y %H:%M:%S %z")` accepts the value. */
export function isRfc2822Updated(value: string): boolean {
  const m = RFC2822.exec(value);
  if (!m) return false;
  const [, day, d, mon, y, h, min, s] = m;
  if (!DAYS.includes(day!.toLowerCase())) return false;
  const month = MONTHS.indexOf(mon!.toLowerCase()) + 1;
  if (month === 0) return false;
  return validDate(Number(y), month, Number(d)) && validTime(Number(h), Number(min), Number(s));
}

/** True when MAAS 3.8's ISO 8601 fallback would accept the value. */
export function isIsoUpdated(value: string): boolean {
  const m = ISO8601.exec(value);
  if (!m) return false;
  const [, y, mo, d, h, min, s] = m;
  if (!validDate(Number(y), Number(mo), Number(d))) return false;
  return h === undefined || validTime(Number(h), Number(min), Number(s ?? 0));
}

/** `%Y-%m-%d` as both importers read support_eol (unpadded month/day accepted). */
export function isSupportDate(value: string): boolean {
  const m = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(value);
  return m !== null && validDate(Number(m[1]), Number(m[2]), Number(m[3]));
}
