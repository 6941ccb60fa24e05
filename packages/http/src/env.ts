import { HttpConfigError } from './errors.js';

export interface HttpTimeouts {
  /** Opening the connection: TCP, a proxy's CONNECT tunnel and the TLS handshake. */
  connectMs: number;
  /** From the request being sent to the response headers. */
  headersMs: number;
  /**
   * Body progress: within every window of this length the body must bring at least
   * `minBytesPerSecond × window` bytes (a trickling server fails as surely as a silent one).
   * Time spent waiting for a slow consumer does not count.
   */
  idleMs: number;
}

export const DEFAULT_TIMEOUTS: HttpTimeouts = { connectMs: 30_000, headersMs: 60_000, idleMs: 60_000 };

/** `30`, `2.5`, `30s`, `200ms` → milliseconds. */
function parseDuration(name: string, raw: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s)?\s*$/.exec(raw);
  const ms = m ? Number(m[1]) * (m[2] === 'ms' ? 1 : 1000) : NaN;
  if (!Number.isFinite(ms) || ms <= 0) throw new HttpConfigError(name, `${JSON.stringify(raw)} is not a positive duration (seconds, e.g. 30 or 0.5, or 200ms)`);
  return Math.round(ms);
}

/**
 * Settings from the environment:
 * - `MEPH_HTTP_TIMEOUT`: every timeout (connect, headers, body progress), seconds or `<n>ms`;
 * - `MEPH_HTTP_CONNECT_TIMEOUT`, `MEPH_HTTP_HEADERS_TIMEOUT`, `MEPH_HTTP_IDLE_TIMEOUT`: one of them;
 * - `MEPH_HTTP_RETRIES`: extra attempts after the first (0 disables retries).
 */
export function httpSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): { timeouts: Partial<HttpTimeouts>; retries?: number } {
  const timeouts: Partial<HttpTimeouts> = {};
  const all = env['MEPH_HTTP_TIMEOUT'];
  if (all !== undefined && all !== '') {
    const ms = parseDuration('MEPH_HTTP_TIMEOUT', all);
    Object.assign(timeouts, { connectMs: ms, headersMs: ms, idleMs: ms });
  }
  const one = (name: string, key: keyof HttpTimeouts): void => {
    const raw = env[name];
    if (raw !== undefined && raw !== '') timeouts[key] = parseDuration(name, raw);
  };
  one('MEPH_HTTP_CONNECT_TIMEOUT', 'connectMs');
  one('MEPH_HTTP_HEADERS_TIMEOUT', 'headersMs');
  one('MEPH_HTTP_IDLE_TIMEOUT', 'idleMs');
  const r = env['MEPH_HTTP_RETRIES'];
  if (r !== undefined && r !== '') {
    if (!/^\d+$/.test(r.trim())) throw new HttpConfigError('MEPH_HTTP_RETRIES', `${JSON.stringify(r)} is not a whole number of retries`);
    return { timeouts, retries: Number(r) };
  }
  return { timeouts };
}
