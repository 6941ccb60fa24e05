import { createHash } from 'node:crypto';
import { mkdir, stat, writeFile, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { ChecksumMismatchError, defaultHttpClient, digestFile, HttpStatusError, type HttpClient } from '@meph/http';
import { isHttpUrl } from '@meph/simplestreams';
import { NoSpaceError, SourceChecksumError, SourceDownloadError, SourceFormatError } from '../errors.js';
import type { ConverterEvent } from '../events.js';

export interface AcquireOptions {
  /** Where http(s) sources are downloaded to (kept between runs). */
  cacheDir: string;
  /** Expected sha256 of the source (hex); checked for local files and downloads. */
  sha256?: string;
  signal?: AbortSignal;
  onEvent?: (e: ConverterEvent) => void;
  /** The HTTP transport (proxies, retries, timeouts); default: the process-wide @meph/http client. */
  http?: HttpClient;
}

export interface Acquired {
  /** Local path of the source. */
  file: string;
  size: number;
  sha256?: string;
  /** True when a download was (re)used from the cache without transferring bytes. */
  cached: boolean;
}

/** An http(s) source (simplestreams' isHttpUrl, under the name this package exports). */
export const isUrl: (source: string) => boolean = isHttpUrl;

/**
 * Makes the source available as a local file: a local path (or file:// URL) is used in place;
 * an http(s) URL is streamed to `cacheDir/<hash>-<name>` through a `.part` file, resuming with
 * a Range request when a previous download was interrupted, then verified and renamed.
 */
export async function acquireSource(source: string, options: AcquireOptions): Promise<Acquired> {
  if (!isUrl(source)) {
    const file = source.startsWith('file://') ? new URL(source).pathname : source;
    let st;
    try {
      st = await stat(file);
    } catch (e) {
      throw new SourceFormatError(file, 'does not exist', { cause: e, hint: 'give an existing file or an http(s) URL as SOURCE' });
    }
    if (!st.isFile()) throw new SourceFormatError(file, 'is not a regular file');
    if (options.sha256) await checkSha256(file, options.sha256, options.signal);
    return { file, size: st.size, sha256: options.sha256, cached: true };
  }
  return download(source, options);
}

async function download(url: string, options: AcquireOptions): Promise<Acquired> {
  const client = options.http ?? defaultHttpClient();
  const name = path.basename(new URL(url).pathname) || 'source';
  const key = createHash('sha256').update(url).digest('hex').slice(0, 16);
  await mkdir(options.cacheDir, { recursive: true });
  const final = path.join(options.cacheDir, `${key}-${name}`);
  const meta = `${final}.meta.json`;

  const known = await readMeta(meta);
  const done = await stat(final).catch(() => undefined);
  if (done && known?.complete && known.size === done.size && (!options.sha256 || known.sha256 === options.sha256)) {
    return { file: final, size: done.size, sha256: known.sha256, cached: true };
  }
  await rm(final, { force: true });
  // The .part (kept when a transfer is interrupted) is resumed with Range only while the
  // server still has the object it came from (If-Range); resumed bytes are verified too.
  const ifRange = known?.etag ?? known?.lastModified;
  let result;
  try {
    result = await client.download(url, final, {
      partPath: `${final}.part`,
      ...(options.sha256 ? { checksums: { sha256: options.sha256 } } : {}),
      ...(ifRange ? { ifRange } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      onResponse: (r) => writeFile(meta, JSON.stringify({ url, etag: r.etag, lastModified: r.lastModified, complete: false })),
      onProgress: (p) => options.onEvent?.({ type: 'progress', step: 'download', done: p.received, total: p.total, unit: 'bytes' }),
    });
  } catch (e) {
    if (options.signal?.aborted) throw options.signal.reason;
    if ((e as NodeJS.ErrnoException).code === 'ENOSPC') throw new NoSpaceError(options.cacheDir, 'download', { cause: e });
    if (e instanceof HttpStatusError) throw new SourceDownloadError(url, e.status, `HTTP ${e.status} ${e.statusText}`.trim(), { cause: e });
    if (e instanceof ChecksumMismatchError) throw new SourceChecksumError(url, e.expected, e.actual);
    throw e; // timeouts, truncation, proxy and connection errors name the URL themselves
  }
  const sha256 = result.digest.sha256!;
  await writeFile(meta, JSON.stringify({ url, etag: result.etag, lastModified: result.lastModified, complete: true, size: result.digest.size, sha256 }));
  return { file: final, size: result.digest.size, sha256, cached: false };
}

interface Meta {
  etag?: string;
  lastModified?: string;
  complete?: boolean;
  size?: number;
  sha256?: string;
}

async function readMeta(file: string): Promise<Meta | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Meta;
  } catch {
    return undefined;
  }
}

async function checkSha256(file: string, expected: string, signal?: AbortSignal): Promise<void> {
  const actual = (await digestFile(file, ['sha256'], signal ? { signal } : {})).sha256!;
  if (actual !== expected.toLowerCase()) throw new SourceChecksumError(file, expected, actual);
}
