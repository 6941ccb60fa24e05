const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;

const pad2 = (n: number): string => (n < 10 ? `0${n}` : String(n));

/**
 * The `updated` timestamp in the form every simplestreams producer writes and MAAS parses:
 * RFC 2822 in UTC with English names, e.g. `Thu, 23 Jul 2026 10:07:14 +0000`.
 */
export function formatUpdated(date: Date = new Date()): string {
  if (Number.isNaN(date.getTime())) throw new RangeError('formatUpdated: invalid date');
  return (
    `${DAYS[date.getUTCDay()]}, ${pad2(date.getUTCDate())} ${MONTHS[date.getUTCMonth()]} ${date.getUTCFullYear()} ` +
    `${pad2(date.getUTCHours())}:${pad2(date.getUTCMinutes())}:${pad2(date.getUTCSeconds())} +0000`
  );
}
