import { DurationError } from './errors.js';

const UNIT_MS = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000 } as const;

/**
 * Parses the original's `--older` syntax: one or more `<int><d|h|m|s>` tokens summed
 * (`1d12h`), a bare number meaning days, `0` meaning "anything older than now".
 * Returns milliseconds.
 */
export function parseDuration(text: string): number {
  const s = text.trim();
  if (/^\d+$/.test(s)) return Number(s) * UNIT_MS.d;
  if (!/^(\d+[dhms])+$/.test(s)) throw new DurationError(text);
  let ms = 0;
  for (const m of s.matchAll(/(\d+)([dhms])/g)) ms += Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
  return ms;
}
