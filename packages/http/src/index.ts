export * from './errors.js';
export * from './digest.js';
export { httpSettingsFromEnv, DEFAULT_TIMEOUTS, type HttpTimeouts } from './env.js';
export { proxyForUrl, bypassProxy } from './proxy.js';
export {
  createHttpClient, defaultHttpClient, isNotFound, isTransient,
  type HttpClient, type HttpClientOptions, type HttpEvent, type HttpResponse, type HeadResult,
  type RequestOptions, type GetOptions, type OpenOptions, type SendOptions, type HttpReply,
} from './client.js';
export type { DownloadOptions, DownloadProgress, DownloadResult } from './download.js';
export { DEFAULT_WHOLE_BODY_BYTES, type FileBody, type RequestBody } from './request-body.js';
export { Semaphore } from './limiter.js';
export { SyncBatch } from './sync-batch.js';
export { SYNC_READ_BYTES } from './small-file.js';
