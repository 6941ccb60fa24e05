import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runAppProcess, SHARED_DIR } from '@meph/test-support';

const MINIMAL = path.join(SHARED_DIR, 'reference/streams/simplestreams-examples/minimal');
const MAAS_STREAM = path.join(REPO_ROOT, 'packages/maas-rules/src/__fixtures__/accepted/stable-full');
const RECORDER = path.join(import.meta.dirname, '__fixtures__/record-loads.mjs');
// What only stream editing and the MAAS rules need; a reader of streams must not load them.
const EDITING_ONLY = /\/packages\/(stream-ops|maas-rules)\/|\/node_modules\/(yaml|tar|xz-decompress)\/|^require:(yaml|tar|xz-decompress)$/;

/** Runs meph2-util as a user would and returns the URLs of every module the process loaded. */
async function loadedBy(dir: string, args: string[]): Promise<{ code: number; stderr: string; urls: string[] }> {
  const log = path.join(dir, `${args[0]}.log`);
  const r = await runAppProcess('meph2-util', args, { env: { NODE_OPTIONS: `--import=${RECORDER}`, MEPH_RECORD_LOADS: log } });
  return { code: r.code, stderr: r.stderr, urls: (await readFile(log, 'utf8')).split('\n').filter(Boolean) };
}

describe('meph2-util loads only what the command needs', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'meph-lazy-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('query reads a stream without loading @meph/stream-ops, @meph/maas-rules, yaml, tar or xz-decompress', async () => {
    const { code, stderr, urls } = await loadedBy(dir, ['query', MINIMAL]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(urls.some((u) => u.includes('/packages/simplestreams/'))).toBe(true); // the recorder sees the reader
    expect(urls.filter((u) => EDITING_ONLY.test(u))).toEqual([]);
  });

  it('diff does load @meph/stream-ops (so the check above can fail)', async () => {
    const { code, stderr, urls } = await loadedBy(dir, ['diff', MAAS_STREAM, MAAS_STREAM]);
    expect(stderr).toBe('diff: 0 product entries differ\n');
    expect(code).toBe(0);
    expect(urls.some((u) => u.includes('/packages/stream-ops/'))).toBe(true);
    expect(urls.some((u) => u.includes('/packages/maas-rules/'))).toBe(false);
  });
});
