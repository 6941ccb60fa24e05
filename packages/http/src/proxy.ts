import { ProxyError } from './errors.js';

/**
 * Proxy selection from the environment, as curl/wget/apt do:
 * - `http_proxy` for http:// URLs, `https_proxy` for https:// URLs (lower case wins over
 *   upper case); the proxy itself must be an `http://` URL (credentials allowed);
 * - `no_proxy` (or `NO_PROXY`): comma- or space-separated; `*` disables proxying; an entry
 *   matches the host itself and every subdomain (a leading `.` is ignored); `host:port`
 *   entries only match that port; IP addresses match exactly. CIDR ranges are not supported.
 */
export function proxyForUrl(target: URL, env: NodeJS.ProcessEnv): URL | undefined {
  const scheme = target.protocol.replace(/:$/, '');
  const raw = scheme === 'https' ? env['https_proxy'] ?? env['HTTPS_PROXY'] : scheme === 'http' ? env['http_proxy'] ?? env['HTTP_PROXY'] : undefined;
  if (!raw) return undefined;
  if (bypassProxy(target, env['no_proxy'] ?? env['NO_PROXY'] ?? '')) return undefined;
  let proxy: URL;
  try {
    proxy = new URL(raw.includes('://') ? raw : `http://${raw}`);
  } catch {
    throw new ProxyError(raw, 'is not a URL');
  }
  if (proxy.protocol !== 'http:') throw new ProxyError(raw, `unsupported proxy scheme ${proxy.protocol} (only http:// proxies are supported)`);
  return proxy;
}

function defaultPort(u: URL): string {
  return u.port || (u.protocol === 'https:' ? '443' : '80');
}

export function bypassProxy(target: URL, noProxy: string): boolean {
  const host = target.hostname.toLowerCase().replace(/^\[|\]$/g, '');
  const port = defaultPort(target);
  for (const rawEntry of noProxy.split(/[\s,]+/)) {
    let entry = rawEntry.trim().toLowerCase();
    if (!entry) continue;
    if (entry === '*') return true;
    let entryPort: string | undefined;
    const m = /^(.*):(\d+)$/.exec(entry);
    if (m && !entry.startsWith('[') && (m[1] ?? '').indexOf(':') === -1) {
      entry = m[1]!;
      entryPort = m[2];
    }
    entry = entry.replace(/^\[|\]$/g, '').replace(/^\*?\./, '');
    if (entryPort && entryPort !== port) continue;
    if (host === entry || host.endsWith(`.${entry}`)) return true;
  }
  return false;
}
