/**
 * Serve a directory on 127.0.0.1 with fault injection, or generate a fixture first.
 *
 *   npx tsx tools/fixture-server/cli.ts DIR [--port 0] [--latency MS]
 *       [--fail PATH_REGEX:STATUS[:N]] [--drop PATH_REGEX[:N]] [--corrupt PATH_REGEX[:N]]
 *       [--make-feed RELEASE:VERSION:ARCH:SERIAL[,SERIAL…]] [--make-archive SUITE:VERSION[,…]:ARCH[,…]]
 *
 * Prints `serving DIR at URL` (and the keyring path when an archive was generated), then runs
 * until SIGINT/SIGTERM.
 */
import { parseArgs } from 'node:util';
import { createTestKey, type TestKey } from './gpg.js';
import { generateArchive } from './make-archive.js';
import { generateCloudFeed } from './make-feed.js';
import { startFixtureServer, type FaultRule } from './server.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    port: { type: 'string', default: '0' },
    latency: { type: 'string', default: '0' },
    fail: { type: 'string', multiple: true, default: [] },
    drop: { type: 'string', multiple: true, default: [] },
    corrupt: { type: 'string', multiple: true, default: [] },
    'make-feed': { type: 'string', multiple: true, default: [] },
    'make-archive': { type: 'string', multiple: true, default: [] },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help || positionals.length !== 1) {
  process.stderr.write(
    'usage: fixture-server DIR [--port N] [--latency MS] [--fail REGEX:STATUS[:N]] [--drop REGEX[:N]] [--corrupt REGEX[:N]]\n' +
      '                      [--make-feed RELEASE:VERSION:ARCH:SERIAL[,SERIAL]] [--make-archive SUITE:VER[,VER]:ARCH[,ARCH]]\n' +
      'example: npx tsx tools/fixture-server/cli.ts /tmp/feed --make-feed noble:24.04:amd64:20260101,20260102 --fail "root.tar.xz$:503:2"\n',
  );
  process.exit(values.help ? 0 : 2);
}
const dir = positionals[0]!;

function times(s: string | undefined): number | undefined {
  return s === undefined ? undefined : Number(s);
}
const faults: FaultRule[] = [
  ...values.fail.map((f): FaultRule => {
    const [re, status, n] = f.split(':');
    return { match: new RegExp(re!), status: Number(status), times: times(n) };
  }),
  ...values.drop.map((f): FaultRule => {
    const [re, n] = f.split(':');
    return { match: new RegExp(re!), drop: 'body', times: times(n) };
  }),
  ...values.corrupt.map((f): FaultRule => {
    const [re, n] = f.split(':');
    return { match: new RegExp(re!), corrupt: true, times: times(n) };
  }),
];

let key: TestKey | undefined;
if (values['make-feed'].length) {
  await generateCloudFeed(dir, {
    products: values['make-feed'].map((s) => {
      const [release, version, arch, serials] = s.split(':');
      return { release: release!, version: version!, arch: arch!, serials: (serials ?? '').split(',').filter(Boolean) };
    }),
  });
}
if (values['make-archive'].length) {
  key = await createTestKey();
  const suites: Record<string, string[]> = {};
  let arches: string[] = [];
  for (const s of values['make-archive']) {
    const [suite, versions, a] = s.split(':');
    suites[suite!] = (versions ?? '').split(',');
    arches = (a ?? 'amd64').split(',');
  }
  await generateArchive(dir, { suites, arches, key });
}

const server = await startFixtureServer({ root: dir, port: Number(values.port), latencyMs: Number(values.latency), faults });
process.stdout.write(`serving ${dir} at ${server.url}\n`);
if (key) process.stdout.write(`archive keyring: ${key.keyringPath}\n`);
const stop = async (): Promise<void> => {
  await server.close();
  await key?.cleanup();
  process.exit(0);
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
