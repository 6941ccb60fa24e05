/**
 * A real single-node OpenStack Swift (Debian's swift 2.30 packages) on 127.0.0.1 for tests:
 * memcached + account, container, object and proxy servers with tempauth and s3api, every
 * server started with an absolute config path (Debian ships no swift-init), everything in one
 * temp dir that stop() removes. See README.md beside this file.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const PYTHON = '/usr/bin/python3';
const SWIFT_CONF = '/etc/swift/swift.conf';
const OUR_SWIFT_CONF = '[swift-hash]\nswift_hash_path_suffix = meph-test\nswift_hash_path_prefix = meph-test\n\n[storage-policy:0]\nname = Policy-0\ndefault = yes\n';

export interface SwiftServer {
  /** tempauth v1 endpoint (ST_AUTH). */
  authUrl: string;
  user: string;
  key: string;
  /** http://127.0.0.1:PORT/v1/AUTH_test: the account's storage URL. */
  storageUrl: string;
  /** S3 endpoint of the s3api middleware (path-style), with its access key and secret. */
  s3Endpoint: string;
  s3AccessKey: string;
  s3SecretKey: string;
  /** The environment a user would export for tempauth (ST_*) and S3 (AWS_*). */
  env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

export const SWIFT_BINARIES = ['/usr/bin/swift-proxy-server', '/usr/bin/swift-object-server', '/usr/bin/swift-container-server', '/usr/bin/swift-account-server', '/usr/bin/memcached'];

/** Why the Swift tests cannot run here, or undefined when they can. */
export async function swiftUnavailable(): Promise<string | undefined> {
  for (const b of SWIFT_BINARIES) {
    try {
      await fsp.access(b);
    } catch {
      return `${b} is missing (apt-get install --no-install-recommends swift swift-proxy swift-object swift-container swift-account python3-swiftclient memcached)`;
    }
  }
  return undefined;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** /etc/swift/swift.conf is read from that fixed path: write it only when absent, never replace another one. */
async function ensureSwiftConf(): Promise<void> {
  const existing = await fsp.readFile(SWIFT_CONF, 'utf8').catch(() => undefined);
  if (existing !== undefined) {
    if (!/swift_hash_path_(suffix|prefix)/.test(existing)) throw new Error(`${SWIFT_CONF} exists without swift_hash_path_suffix/prefix; fix it or remove it`);
    return;
  }
  await fsp.mkdir(path.dirname(SWIFT_CONF), { recursive: true });
  await fsp.writeFile(SWIFT_CONF, OUR_SWIFT_CONF, { flag: 'wx' }).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err;
  });
}

/** The [DEFAULT] section every Swift server of the fixture shares (no syslog: logs go to a UDP sink). */
function defaultSection(dir: string, port: number, user: string, extra: string[] = []): string[] {
  return [
    '[DEFAULT]',
    ...extra,
    'bind_ip = 127.0.0.1',
    `bind_port = ${port}`,
    'workers = 1',
    `user = ${user}`,
    `swift_dir = ${dir}/etc`,
    'log_udp_host = 127.0.0.1',
    'log_udp_port = 9',
    'log_level = WARNING',
    '',
  ];
}

function serverConf(kind: 'account' | 'container' | 'object', dir: string, port: number, user: string): string {
  return [
    ...defaultSection(dir, port, user, [`devices = ${dir}/srv`, 'mount_check = false']),
    '[pipeline:main]',
    `pipeline = ${kind}-server`,
    '',
    `[app:${kind}-server]`,
    `use = egg:swift#${kind}`,
    '',
    `[${kind}-replicator]`,
    '',
    `[${kind}-auditor]`,
    '',
    ...(kind === 'object' ? ['[object-updater]', ''] : kind === 'container' ? ['[container-updater]', '', '[container-sync]', ''] : ['[account-reaper]', '']),
  ].join('\n');
}

function proxyConf(dir: string, port: number, memcachePort: number, user: string): string {
  return [
    ...defaultSection(dir, port, user),
    '[pipeline:main]',
    'pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats bulk tempurl s3api tempauth copy slo dlo versioned_writes symlink proxy-logging proxy-server',
    '',
    '[app:proxy-server]',
    'use = egg:swift#proxy',
    'account_autocreate = true',
    '',
    '[filter:tempauth]',
    'use = egg:swift#tempauth',
    'user_test_tester = testing .admin',
    `storage_url_scheme = default`,
    '',
    '[filter:s3api]',
    'use = egg:swift#s3api',
    'location = us-east-1',
    '',
    '[filter:catch_errors]',
    'use = egg:swift#catch_errors',
    '[filter:gatekeeper]',
    'use = egg:swift#gatekeeper',
    '[filter:healthcheck]',
    'use = egg:swift#healthcheck',
    '[filter:proxy-logging]',
    'use = egg:swift#proxy_logging',
    '[filter:cache]',
    'use = egg:swift#memcache',
    `memcache_servers = 127.0.0.1:${memcachePort}`,
    '[filter:listing_formats]',
    'use = egg:swift#listing_formats',
    '[filter:bulk]',
    'use = egg:swift#bulk',
    '[filter:tempurl]',
    'use = egg:swift#tempurl',
    '[filter:copy]',
    'use = egg:swift#copy',
    '[filter:slo]',
    'use = egg:swift#slo',
    '[filter:dlo]',
    'use = egg:swift#dlo',
    '[filter:versioned_writes]',
    'use = egg:swift#versioned_writes',
    '[filter:symlink]',
    'use = egg:swift#symlink',
    '',
  ].join('\n');
}

/** The three rings, one device each, built in one Python process (three ring-builder runs per ring are slow). */
async function buildRings(etc: string, ports: { account: number; container: number; object: number }): Promise<void> {
  const script = [
    'import sys',
    'from swift.common.ring import RingBuilder',
    `etc = ${JSON.stringify(etc)}`,
    `ports = ${JSON.stringify(ports)}`,
    'for kind in ("account", "container", "object"):',
    '    b = RingBuilder(8, 1, 1)',
    '    b.add_dev({"id": 0, "region": 1, "zone": 1, "ip": "127.0.0.1", "port": ports[kind], "device": "sdb1", "weight": 100, "meta": ""})',
    '    b.rebalance()',
    '    b.save(f"{etc}/{kind}.builder")',
    '    b.get_ring().save(f"{etc}/{kind}.ring.gz")',
  ].join('\n');
  await run(PYTHON, ['-c', script]);
}

async function waitHealthy(url: string, procs: ChildProcess[], logs: () => string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const p of procs) if (p.exitCode !== null) throw new Error(`a swift server exited (${String(p.spawnargs.join(' '))}, code ${p.exitCode}):\n${logs()}`);
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) throw new Error(`swift did not come up at ${url} within ${timeoutMs} ms:\n${logs()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function waitPort(port: number, procs: ChildProcess[], logs: () => string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const p of procs) if (p.exitCode !== null) throw new Error(`a swift server exited (${String(p.spawnargs.join(' '))}, code ${p.exitCode}):\n${logs()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const sock = net.connect(port, '127.0.0.1');
      sock.once('connect', () => {
        sock.destroy();
        resolve(true);
      });
      sock.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`swift backend port ${port} not listening after ${timeoutMs} ms:\n${logs()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Starts memcached and the four Swift servers; resolves once the proxy answers /healthcheck. */
export async function startSwift(): Promise<SwiftServer> {
  await ensureSwiftConf();
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'meph-swift-'));
  const etc = path.join(dir, 'etc');
  await fsp.mkdir(path.join(dir, 'srv', 'sdb1'), { recursive: true });
  await fsp.mkdir(etc, { recursive: true });
  const user = os.userInfo().username;
  const [memcachePort, accountPort, containerPort, objectPort, proxyPort] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
  const ports = { account: accountPort, container: containerPort, object: objectPort };
  await buildRings(etc, ports);
  for (const kind of ['account', 'container', 'object'] as const) await fsp.writeFile(path.join(etc, `${kind}-server.conf`), serverConf(kind, dir, ports[kind], user));
  await fsp.writeFile(path.join(etc, 'proxy-server.conf'), proxyConf(dir, proxyPort, memcachePort, user));

  const procs: ChildProcess[] = [];
  let log = '';
  const start = (cmd: string, args: string[]): void => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: false });
    p.stdout?.setEncoding('utf8').on('data', (d: string) => (log = (log + d).slice(-8000)));
    p.stderr?.setEncoding('utf8').on('data', (d: string) => (log = (log + d).slice(-8000)));
    procs.push(p);
  };
  const stop = async (): Promise<void> => {
    await Promise.all(
      procs.map(
        (p) =>
          new Promise<void>((resolve) => {
            if (p.exitCode !== null || p.signalCode !== null) return resolve();
            p.once('exit', () => resolve());
            p.kill('SIGTERM');
            setTimeout(() => p.kill('SIGKILL'), 3000).unref();
          }),
      ),
    );
    await fsp.rm(dir, { recursive: true, force: true });
  };
  try {
    start('/usr/bin/memcached', ['-l', '127.0.0.1', '-p', String(memcachePort), '-U', '0', '-m', '16', ...(user === 'root' ? ['-u', 'root'] : [])]);
    for (const kind of ['account', 'container', 'object'] as const) start(`/usr/bin/swift-${kind}-server`, [path.join(etc, `${kind}-server.conf`)]);
    start('/usr/bin/swift-proxy-server', [path.join(etc, 'proxy-server.conf')]);
    const base = `http://127.0.0.1:${proxyPort}`;
    await waitHealthy(`${base}/healthcheck`, procs, () => log);
    await Promise.all(Object.values(ports).map((p) => waitPort(p, procs, () => log)));
    // The first authenticated request also proves memcached and the backend servers work.
    const auth = await fetch(`${base}/auth/v1.0`, { headers: { 'X-Auth-User': 'test:tester', 'X-Auth-Key': 'testing' } });
    if (!auth.ok) throw new Error(`tempauth failed: ${auth.status}\n${log}`);
    const storageUrl = auth.headers.get('x-storage-url')!;
    const token = auth.headers.get('x-auth-token')!;
    for (let i = 0; ; i++) {
      const res = await fetch(storageUrl, { method: 'HEAD', headers: { 'X-Auth-Token': token } });
      if (res.status < 300) break;
      if (i > 600) throw new Error(`account HEAD ${storageUrl}: ${res.status}\n${log}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return {
      authUrl: `${base}/auth/v1.0`,
      user: 'test:tester',
      key: 'testing',
      storageUrl,
      s3Endpoint: base,
      s3AccessKey: 'test:tester',
      s3SecretKey: 'testing',
      env: {
        ST_AUTH: `${base}/auth/v1.0`,
        ST_USER: 'test:tester',
        ST_KEY: 'testing',
        AWS_ACCESS_KEY_ID: 'test:tester',
        AWS_SECRET_ACCESS_KEY: 'testing',
        AWS_REGION: 'us-east-1',
        AWS_ENDPOINT_URL_S3: base,
        // the Swift store goes through @meph/http, which honours proxy variables: this server is local
        no_proxy: '127.0.0.1,localhost',
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
