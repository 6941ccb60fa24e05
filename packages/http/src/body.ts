import type http from 'node:http';
import { Readable } from 'node:stream';
import { HttpTimeoutError, TooLargeError, TruncatedBodyError } from './errors.js';

export interface BodyGuardOptions {
  url: string;
  /** Content-Length of this response, when given. */
  declared: number | undefined;
  maxBytes: number | undefined;
  idleMs: number;
  minBytesPerSecond: number;
  attempt: number;
  signal: AbortSignal | undefined;
  /** Called once when the body is finished with (ended, failed or destroyed). */
  onClose: () => void;
}

/**
 * Wraps a response body: counts bytes, fails with TooLargeError past `maxBytes`, with
 * HttpTimeoutError when the server makes too little progress in an idle window (waiting for a
 * slow consumer does not count), and with TruncatedBodyError when the connection ends early.
 */
export function guardBody(res: http.IncomingMessage, o: BodyGuardOptions): Readable {
  let received = 0;
  let windowBytes = 0;
  let waitingForConsumer = false;
  const minPerWindow = Math.max(1, Math.floor((o.minBytesPerSecond * o.idleMs) / 1000));
  const body = new Readable({
    highWaterMark: 1 << 20,
    read() {
      waitingForConsumer = false;
      res.resume();
    },
    destroy(err, cb) {
      cleanup();
      if (!res.destroyed) res.destroy();
      cb(err);
    },
  });
  // The consumer may not be reading yet (e.g. still opening its file) when the connection
  // drops: the error must not become an uncaught 'error' event. It stays in body.errored,
  // and async iteration / pipeline still reject with it.
  body.on('error', () => {});
  const fail = (err: Error): void => {
    if (!body.destroyed) body.destroy(err);
  };
  const timer = setInterval(() => {
    if (!waitingForConsumer && windowBytes < minPerWindow) {
      const detail = windowBytes === 0 ? `no data for ${o.idleMs} ms` : `only ${windowBytes} bytes in ${o.idleMs} ms (a stalled transfer)`;
      fail(new HttpTimeoutError(o.url, 'body', o.idleMs, `the body stalled: ${detail} after ${received} bytes`, o.attempt));
    }
    windowBytes = 0;
  }, o.idleMs);
  const onAbort = (): void => fail(o.signal!.reason as Error);
  o.signal?.addEventListener('abort', onAbort, { once: true });
  let closed = false;
  function cleanup(): void {
    clearInterval(timer);
    o.signal?.removeEventListener('abort', onAbort);
    if (!closed) {
      closed = true;
      o.onClose();
    }
  }
  res.on('data', (chunk: Buffer) => {
    received += chunk.length;
    windowBytes += chunk.length;
    if (o.maxBytes !== undefined && received > o.maxBytes) return fail(new TooLargeError(o.url, o.maxBytes));
    if (!body.push(chunk)) {
      waitingForConsumer = true;
      res.pause();
    }
  });
  res.on('end', () => {
    if (o.declared !== undefined && received < o.declared) return fail(new TruncatedBodyError(o.url, received, o.declared, o.attempt));
    cleanup();
    body.push(null);
  });
  const early = (err?: Error): void => {
    if (res.complete) return;
    fail(new TruncatedBodyError(o.url, received, o.declared, o.attempt, err));
  };
  res.on('error', early);
  res.on('close', () => {
    if (!res.complete) early();
  });
  if (o.signal?.aborted) onAbort();
  return body;
}
