import { errorGuard, mephErrorBase } from '@meph/errors';

const NETWORK_HINT = 'check the URL, the network and http_proxy/https_proxy/no_proxy';

/** Base of every @meph/http error; `isHttpTransportError` is true for these and no other library's. */
export abstract class HttpTransportError extends mephErrorBase('@meph/http') {}
export const isHttpTransportError = errorGuard(HttpTransportError);

const after = (attempts: number): string => (attempts > 1 ? ` (gave up after ${attempts} attempts)` : '');

/** The server answered with a non-success status (5xx and 429 only after retries). */
export class HttpStatusError extends HttpTransportError {
  override readonly name = 'HttpStatusError';
  constructor(readonly url: string, readonly status: number, readonly statusText = '', readonly attempts = 1) {
    super(`${url}: HTTP ${status}${statusText ? ` ${statusText}` : ''}${after(attempts)}`);
  }
}

/** Which wait ran out: opening the connection (and proxy tunnel/TLS), the response headers, or body progress. */
export type TimeoutPhase = 'connect' | 'headers' | 'body';

export class HttpTimeoutError extends HttpTransportError {
  override readonly name = 'HttpTimeoutError';
  constructor(readonly url: string, readonly phase: TimeoutPhase, readonly ms: number, detail?: string, readonly attempts = 1) {
    const what =
      phase === 'connect' ? `no connection within ${ms} ms` : phase === 'headers' ? `no response headers within ${ms} ms` : (detail ?? `the body stalled for ${ms} ms`);
    super(`${url}: timed out: ${what}${after(attempts)}`, {
      hint: 'check the server and the network; MEPH_HTTP_TIMEOUT=<seconds> changes the limit',
    });
  }
}

/** The connection ended before the whole body arrived. */
export class TruncatedBodyError extends HttpTransportError {
  override readonly name = 'TruncatedBodyError';
  constructor(readonly url: string, readonly received: number, readonly expected?: number, readonly attempts = 1, cause?: unknown) {
    super(`${url}: connection closed after ${received}${expected !== undefined ? ` of ${expected}` : ''} bytes${after(attempts)}`, { cause, hint: NETWORK_HINT });
  }
}

/** A body larger than the caller's limit (refused from Content-Length before reading, or while reading). */
export class TooLargeError extends HttpTransportError {
  override readonly name = 'TooLargeError';
  constructor(readonly url: string, readonly limit: number, readonly declared?: number) {
    super(`${url}: refusing a body of ${declared !== undefined ? `${declared} bytes` : `more than ${limit} bytes`} (the limit for this document is ${limit} bytes)`, {
      hint: 'this is not a document meph expects at this URL; check the URL',
    });
  }
}

/** The server could not be reached or the connection failed before a response (DNS, refused, reset, TLS). */
export class ConnectionError extends HttpTransportError {
  override readonly name = 'ConnectionError';
  /** A failure that may go away (reset, refused, DNS timeout), as opposed to e.g. a bad certificate. */
  readonly transient: boolean;
  constructor(readonly url: string, readonly detail: string, readonly attempts = 1, cause?: unknown, transient = true) {
    super(`${url}: cannot fetch: ${detail}${after(attempts)}`, { cause, hint: NETWORK_HINT });
    this.transient = transient;
  }
}

/** A body that is not what the caller asked for (e.g. getJson on something that is not JSON). */
export class BodyFormatError extends HttpTransportError {
  override readonly name = 'BodyFormatError';
  constructor(readonly url: string, detail: string) {
    super(`${url}: ${detail}`);
  }
}

/** A proxy URL from http_proxy/https_proxy is unusable or refused the tunnel. */
export class ProxyError extends HttpTransportError {
  override readonly name = 'ProxyError';
  constructor(readonly proxy: string, detail: string) {
    super(`proxy ${proxy}: ${detail}`, { hint: 'fix http_proxy/https_proxy, or list the host in no_proxy' });
  }
}

/** Too many redirects, a redirect without Location, or an https → http downgrade. */
export class RedirectError extends HttpTransportError {
  override readonly name = 'RedirectError';
  constructor(readonly url: string, detail: string) {
    super(`${url}: ${detail}`);
  }
}

/** An HTTP setting from the environment or options is not usable. */
export class HttpConfigError extends HttpTransportError {
  override readonly name = 'HttpConfigError';
  constructor(readonly setting: string, detail: string) {
    super(`${setting}: ${detail}`);
  }
}

export class ChecksumMismatchError extends HttpTransportError {
  override readonly name = 'ChecksumMismatchError';
  constructor(readonly path: string, readonly algorithm: string, readonly expected: string, readonly actual: string) {
    super(`${path}: ${algorithm} mismatch: expected ${expected}, got ${actual}`);
  }
}

export class SizeMismatchError extends HttpTransportError {
  override readonly name = 'SizeMismatchError';
  constructor(readonly path: string, readonly expected: number, readonly actual: number) {
    super(`${path}: size mismatch: expected ${expected} bytes, got ${actual}`);
  }
}
