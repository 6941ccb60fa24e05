import { createHttpClient, type HttpClient } from '@meph/http';
import { CredentialsError, StoreError } from './errors.js';

export interface SwiftAuth {
  storageUrl: string;
  token: string;
}

const env1 = (env: NodeJS.ProcessEnv, ...names: string[]): string | undefined => {
  for (const n of names) {
    const v = env[n];
    if (v !== undefined && v !== '') return v;
  }
  return undefined;
};

interface AuthReply {
  ok: boolean;
  status: number;
  header(name: string): string | undefined;
  text: string;
}

async function call(http: HttpClient, url: string, init: { method?: string; headers?: Record<string, string>; body?: string }, what: string): Promise<AuthReply> {
  let r;
  try {
    // a token request creates nothing: safe to repeat after a network error or a 5xx
    r = await http.send(url, { method: init.method ?? 'GET', ...(init.headers ? { headers: init.headers } : {}), ...(init.body !== undefined ? { body: Buffer.from(init.body) } : {}), idempotent: true });
  } catch (err) {
    throw new StoreError(url, `${what} failed: ${(err as Error).message.replace(/^\S+: /, '')}`, { cause: err });
  }
  return {
    ok: r.status >= 200 && r.status < 300,
    status: r.status,
    header: (name) => {
      const v = r.headers[name.toLowerCase()];
      return Array.isArray(v) ? v[0] : v;
    },
    text: r.body.toString('utf8'),
  };
}

/** tempauth / swauth (v1): GET the auth URL with X-Auth-User and X-Auth-Key. */
async function v1Auth(http: HttpClient, authUrl: string, user: string, key: string): Promise<SwiftAuth> {
  const res = await call(http, authUrl, { headers: { 'X-Auth-User': user, 'X-Auth-Key': key } }, 'authentication');
  const storageUrl = res.header('x-storage-url');
  const token = res.header('x-auth-token') ?? res.header('x-storage-token');
  if (!res.ok || !storageUrl || !token) throw new CredentialsError(`${authUrl}: authentication as ${user} failed (HTTP ${res.status})`, 'check ST_USER/ST_KEY (or OS_USERNAME/OS_PASSWORD)');
  return { storageUrl, token };
}

interface CatalogEntry {
  type: string;
  endpoints: { interface: string; region?: string; region_id?: string; url: string }[];
}

/** Keystone v3: password, application-credential or token method; object-store endpoint from the catalog. */
async function keystoneV3(http: HttpClient, env: NodeJS.ProcessEnv, authUrl: string): Promise<SwiftAuth> {
  const base = authUrl.replace(/\/+$/, '');
  const tokensUrl = /\/v3$/.test(base) ? `${base}/auth/tokens` : `${base}/v3/auth/tokens`;
  const domain = (idVar: string, nameVar: string): Record<string, string> => {
    const id = env1(env, idVar, 'OS_DOMAIN_ID');
    if (id) return { id };
    return { name: env1(env, nameVar, 'OS_DOMAIN_NAME') ?? 'Default' };
  };
  let identity: unknown;
  const appId = env1(env, 'OS_APPLICATION_CREDENTIAL_ID');
  const appSecret = env1(env, 'OS_APPLICATION_CREDENTIAL_SECRET');
  const existingToken = env1(env, 'OS_TOKEN');
  const username = env1(env, 'OS_USERNAME');
  const userId = env1(env, 'OS_USER_ID');
  const password = env1(env, 'OS_PASSWORD');
  if (appId && appSecret) identity = { methods: ['application_credential'], application_credential: { id: appId, secret: appSecret } };
  else if (existingToken) identity = { methods: ['token'], token: { id: existingToken } };
  else if ((username || userId) && password) {
    const user = userId ? { id: userId, password } : { name: username, password, domain: domain('OS_USER_DOMAIN_ID', 'OS_USER_DOMAIN_NAME') };
    identity = { methods: ['password'], password: { user } };
  } else throw new CredentialsError(`OS_AUTH_URL is set (${authUrl}) but no credentials are`, 'set OS_USERNAME and OS_PASSWORD, or OS_APPLICATION_CREDENTIAL_ID and _SECRET, or OS_TOKEN');

  const projectId = env1(env, 'OS_PROJECT_ID', 'OS_TENANT_ID');
  const projectName = env1(env, 'OS_PROJECT_NAME', 'OS_TENANT_NAME');
  const scope = appId
    ? undefined
    : projectId
      ? { project: { id: projectId } }
      : projectName
        ? { project: { name: projectName, domain: domain('OS_PROJECT_DOMAIN_ID', 'OS_PROJECT_DOMAIN_NAME') } }
        : undefined;
  const res = await call(http, tokensUrl, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ auth: { identity, ...(scope ? { scope } : {}) } }) }, 'Keystone authentication');
  const text = res.text;
  const token = res.header('x-subject-token');
  if (!res.ok || !token) throw new CredentialsError(`${tokensUrl}: Keystone refused the credentials (HTTP ${res.status})`, 'check the OS_* variables (user, password, project, domains)');
  const preset = env1(env, 'OS_STORAGE_URL');
  if (preset) return { storageUrl: preset, token };
  let catalog: CatalogEntry[] = [];
  try {
    catalog = (JSON.parse(text) as { token?: { catalog?: CatalogEntry[] } }).token?.catalog ?? [];
  } catch {
    /* handled below */
  }
  const wantedInterface = (env1(env, 'OS_INTERFACE', 'OS_ENDPOINT_TYPE') ?? 'public').replace(/URL$/, '');
  const region = env1(env, 'OS_REGION_NAME');
  const endpoint = catalog
    .filter((c) => c.type === 'object-store')
    .flatMap((c) => c.endpoints)
    .find((e) => e.interface === wantedInterface && (!region || e.region === region || e.region_id === region));
  if (!endpoint) throw new CredentialsError(`${tokensUrl}: the catalog has no object-store endpoint (interface ${wantedInterface}${region ? `, region ${region}` : ''})`, 'set OS_REGION_NAME / OS_INTERFACE, or OS_STORAGE_URL');
  return { storageUrl: endpoint.url, token };
}

/**
 * Authenticates from the environment the way the swift client does: OS_STORAGE_URL +
 * OS_AUTH_TOKEN (pre-authenticated); ST_AUTH + ST_USER + ST_KEY (v1, tempauth); OS_AUTH_URL
 * with a v1 URL or OS_AUTH_VERSION=1 (v1 with OS_USERNAME/OS_PASSWORD); otherwise Keystone v3.
 */
export async function swiftAuthFromEnv(env: NodeJS.ProcessEnv, http?: HttpClient): Promise<SwiftAuth> {
  if (http) return authenticate(env, http);
  const own = createHttpClient({ env });
  try {
    return await authenticate(env, own);
  } finally {
    own.close();
  }
}

async function authenticate(env: NodeJS.ProcessEnv, http: HttpClient): Promise<SwiftAuth> {
  const preToken = env1(env, 'OS_AUTH_TOKEN');
  const preUrl = env1(env, 'OS_STORAGE_URL');
  if (preToken && preUrl) return { storageUrl: preUrl, token: preToken };
  const stAuth = env1(env, 'ST_AUTH');
  if (stAuth) {
    const user = env1(env, 'ST_USER');
    const key = env1(env, 'ST_KEY');
    if (!user || !key) throw new CredentialsError(`ST_AUTH is set (${stAuth}) but ST_USER or ST_KEY is not`, 'export ST_USER and ST_KEY (tempauth: account:user and its key)');
    return v1Auth(http, stAuth, user, key);
  }
  const osAuth = env1(env, 'OS_AUTH_URL');
  if (osAuth) {
    if (env1(env, 'OS_AUTH_VERSION', 'OS_IDENTITY_API_VERSION') === '1' || /\/v1(\.0)?\/?$/.test(osAuth)) {
      const user = env1(env, 'OS_USERNAME');
      const key = env1(env, 'OS_PASSWORD');
      if (!user || !key) throw new CredentialsError(`OS_AUTH_URL is a v1 endpoint (${osAuth}) but OS_USERNAME or OS_PASSWORD is not set`, 'export OS_USERNAME and OS_PASSWORD');
      return v1Auth(http, osAuth, user, key);
    }
    return keystoneV3(http, env, osAuth);
  }
  throw new CredentialsError('no Swift credentials in the environment', 'export ST_AUTH, ST_USER and ST_KEY (tempauth) or the OS_* variables of your openrc (Keystone v3)');
}
