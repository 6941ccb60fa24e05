import { createHttpClient, httpSettingsFromEnv, type HttpClient } from '@meph/http';

/**
 * The transport an object store talks through: a few connections more per host than the
 * publish's concurrency (listings and the lease run beside the uploads), and the retries the
 * user set with `MEPH_HTTP_RETRIES` (3 when unset).
 */
export function storeHttpClient(env: NodeJS.ProcessEnv, concurrency = 8): HttpClient {
  return createHttpClient({ concurrencyPerHost: Math.max(4, concurrency + 2), env, retries: httpSettingsFromEnv(env).retries ?? 3, backoffMs: 250 });
}
