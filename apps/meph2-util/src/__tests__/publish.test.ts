import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliCaptured } from '@meph/test-support';
import { spec } from '../main.js';
import { listFiles, makeStream, NOBLE, tempDir, throwAwayKey } from './stream-fixture.js';

let dir: string;
let key: { home: string; secretKey: string; keyring: string };
const env = { ...process.env, MEPH_SIGNING_KEY: '', MEPH_GPG_KEY: '', MEPH_KEYRING: '' };
const run = (args: string[]) => runCliCaptured(spec, args, { cwd: dir, env });

beforeAll(async () => {
  dir = await tempDir('meph-publish-cli-');
  key = await throwAwayKey(dir);
  await makeStream(path.join(dir, 'stable'), { serials: ['20260720'], releases: [NOBLE], fileBytes: 64 });
  const signed = await run(['sign', '--key', key.secretKey, 'stable']);
  if (signed.code !== 0) throw new Error(signed.stderr);
}, 30_000);
afterAll(async () => {
  spawnSync('gpgconf', ['--kill', 'all'], { env: { ...process.env, GNUPGHOME: key?.home } });
  await fs.rm(dir, { recursive: true, force: true });
});

describe('meph2-util publish', () => {
  it('--help lists every flag, the targets, the credentials, the differences from ss-swift and examples', async () => {
    const r = await run(['publish', '--help']);
    expect(r.code).toBe(0);
    for (const flag of ['--prefix', '--prune', '--older', '--jobs', '--dry-run', '--json', '--replace', '--public-read', '--lease-wait', '--keyring', '--no-verify'])
      expect(r.stdout).toContain(flag);
    expect(r.stdout).toMatch(/swift:\/\/CONTAINER\[\/PREFIX\].*s3:\/\/BUCKET\[\/PREFIX\].*file:\/\/DIR/s);
    expect(r.stdout).toMatch(/ST_AUTH.*OS_AUTH_URL.*AWS_ENDPOINT_URL_S3/s);
    expect(r.stdout).toMatch(/Differs from the original ss-swift on purpose/);
    expect(r.stdout).toMatch(/Examples:/);
    const alias = await run(['ss-swift', '--help']);
    expect(alias.stdout).toMatch(/ss-swift <path> <container>/);
    expect(alias.stdout).toContain('--prefix');
  });

  it('publishes a signed stream to a directory; --json events; a rerun uploads nothing', async () => {
    const r = await run(['publish', '--json', '--keyring', key.keyring, 'stable', `file://${dir}/pub`]);
    expect(r.code, r.stderr).toBe(0);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events.find((e) => e['type'] === 'published')).toMatchObject({ uploaded: 6, metadata: 6, pruned: 0, dryRun: false });
    expect((await listFiles(path.join(dir, 'pub'))).filter((f) => !f.startsWith('.'))).toEqual((await listFiles(path.join(dir, 'stable'))).filter((f) => !f.startsWith('.') && !f.includes('/.')));
    const v = await run(['verify', '--data', '--keyring', key.keyring, 'pub']);
    expect(v.code, v.stdout).toBe(0);
    const again = await run(['publish', '--keyring', key.keyring, 'stable', 'pub']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/uploaded 0 data object\(s\) \(0 B\), 12 already there, 0 metadata file\(s\) written/);
  });

  it('a detached signature the new stream no longer has is removed with the document it signed', async () => {
    const src = path.join(dir, 'nogpg');
    await makeStream(src, { serials: ['20260720'], releases: [NOBLE], fileBytes: 64 });
    expect((await run(['sign', '--key', key.secretKey, src])).code).toBe(0);
    expect((await run(['publish', '--keyring', key.keyring, src, 'pub2'])).code).toBe(0);
    expect(await listFiles(path.join(dir, 'pub2'))).toContain('streams/v1/index.json.gpg');
    await makeStream(src, { serials: ['20260720', '20260721'], releases: [NOBLE], fileBytes: 64 });
    expect((await run(['sign', '--key', key.secretKey, src])).code).toBe(0);
    for (const f of await listFiles(src)) if (f.endsWith('.json.gpg')) await fs.rm(path.join(src, f));
    const r = await run(['publish', '--keyring', key.keyring, src, 'pub2']);
    expect(r.code, r.stderr).toBe(0);
    expect((await listFiles(path.join(dir, 'pub2'))).filter((f) => f.endsWith('.gpg'))).toEqual([]);
    const v = await run(['verify', '--data', '--keyring', key.keyring, 'pub2']);
    expect(v.code, v.stdout).toBe(0);
  });

  it('bad usage is one line with exit 2', async () => {
    const older = await run(['publish', '--older', '1d', '--keyring', key.keyring, 'stable', 'pub']);
    expect(older.code).toBe(2);
    expect(older.stderr).toMatch(/^meph2-util: error: --older only applies with --prune/m);
    const notStream = await run(['publish', '--no-verify', 'nowhere', 'pub']);
    expect(notStream.code).toBe(2);
    expect(notStream.stderr).toMatch(/nowhere: not a stream directory/);
    const noKeyring = await run(['publish', 'stable', 'pub']);
    expect(noKeyring.code).toBe(2);
    expect(noKeyring.stderr).toMatch(/stable is signed and there is no keyring to check it with \(give --keyring/);
    const duration = await run(['publish', '--prune', '--older', 'soon', '--keyring', key.keyring, 'stable', 'pub']);
    expect(duration.stderr).toMatch(/soon/);
    expect(duration.code).not.toBe(0);
    const pub = await run(['publish', '--public-read', '--keyring', key.keyring, 'stable', 's3://bucket']);
    expect(pub.code).toBe(2);
    expect(pub.stderr).toMatch(/--public-read only applies to swift:\/\/ targets/);
    const container = await run(['ss-swift', '--keyring', key.keyring, 'stable', 'swift://c']);
    expect(container.code).toBe(2);
    expect(container.stderr).toMatch(/a container name has no \/ or scheme/);
  });
});
