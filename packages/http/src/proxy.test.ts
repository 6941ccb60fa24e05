import { describe, expect, it } from 'vitest';
import { ProxyError } from './errors.js';
import { bypassProxy, proxyForUrl } from './proxy.js';

describe('proxy selection', () => {
  const u = (s: string) => new URL(s);
  it('uses http_proxy for http and https_proxy for https; lower case first', () => {
    const env = { http_proxy: 'http://p1:3128', HTTP_PROXY: 'http://p2:3128', HTTPS_PROXY: 'p3:8080' };
    expect(proxyForUrl(u('http://archive.ubuntu.com/x'), env)?.href).toBe('http://p1:3128/');
    expect(proxyForUrl(u('https://archive.ubuntu.com/x'), env)?.href).toBe('http://p3:8080/');
    expect(proxyForUrl(u('http://a/'), {})).toBeUndefined();
  });
  it('refuses proxies it cannot speak to', () => {
    expect(() => proxyForUrl(u('http://a/'), { http_proxy: 'socks5://p:1080' })).toThrow(ProxyError);
  });
  it('no_proxy: suffixes, leading dots, ports, *', () => {
    expect(bypassProxy(u('http://ports.ubuntu.com/'), 'ubuntu.com')).toBe(true);
    expect(bypassProxy(u('http://ports.ubuntu.com/'), '.ubuntu.com')).toBe(true);
    expect(bypassProxy(u('http://notubuntu.com/'), 'ubuntu.com')).toBe(false);
    expect(bypassProxy(u('http://10.0.0.1:8080/'), 'localhost, 10.0.0.1:8080')).toBe(true);
    expect(bypassProxy(u('http://10.0.0.1:9090/'), '10.0.0.1:8080')).toBe(false);
    expect(bypassProxy(u('http://anything/'), '*')).toBe(true);
    expect(bypassProxy(u('http://[::1]:80/'), '::1')).toBe(true);
  });
});
