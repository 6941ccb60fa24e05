import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runAppProcess, runCliCaptured, useTempDir } from '@meph/test-support';
import { regenerateIndex, writeJsonAtomic, type ProductsDocument } from '@meph/simplestreams';
import { spec } from '../main.js';

const work = useTempDir('meph-orphans-cli-');

async function put(rel: string, body: string): Promise<void> {
  await fsp.mkdir(path.dirname(path.join(work.path, rel)), { recursive: true });
  await fsp.writeFile(path.join(work.path, rel), body);
}

/** A mirror at work/<name> whose one version references `paths`; the files exist. */
async function mirror(name: string, referenced: string[], unreferenced: string[]): Promise<string> {
  const root = path.join(work.path, name);
  const items: ProductsDocument['products'][string]['versions'][string]['items'] = {};
  for (const [i, p] of referenced.entries()) {
    await put(`${name}/${p}`, p);
    items[`i${i}`] = { ftype: 'squashfs', path: p, size: p.length, sha256: createHash('sha256').update(p).digest('hex') };
  }
  for (const p of unreferenced) await put(`${name}/${p}`, `${p}-orphan-bytes`);
  await writeJsonAtomic(path.join(root, 'streams/v1/x.json'), { format: 'products:1.0', content_id: 'com.example:x', products: { p: { versions: { '20240101': { items } } } } });
  await regenerateIndex(root);
  return root;
}

const run = (args: string[]) => runCliCaptured(spec, args, { cwd: work.path, env: { ...process.env, MEPH_KEYRING: '' } });
const events = (stdout: string) => stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);

describe('meph2-util find-orphans / reap-orphans (upstream §13 seed 10)', () => {
  it('find → reap --now with --json events, bytes reported, referenced files untouched', async () => {
    await mirror('daily', ['noble/20240101/squashfs', 'noble/20240101/boot-kernel'], ['noble/20231201/squashfs', 'noble/20231201/boot-kernel']);
    const find = await run(['find-orphans', '--json', 'orphans.json', 'daily', 'daily/streams/v1/index.json']);
    expect(find.code, find.stderr).toBe(0);
    const found = events(find.stdout).filter((e) => e['type'] === 'orphan-found');
    expect(found.map((e) => e['path']).sort()).toEqual(['noble/20231201/boot-kernel', 'noble/20231201/squashfs']);
    // the original's format, nothing else; meph's state goes to the sidecar
    const file = JSON.parse(await fsp.readFile(path.join(work.path, 'orphans.json'), 'utf8'));
    expect(Object.keys(file).sort()).toEqual(['noble/20231201/boot-kernel', 'noble/20231201/squashfs']);
    const sidecar = JSON.parse(await fsp.readFile(path.join(work.path, 'orphans.json.meph.json'), 'utf8'));
    expect(sidecar).toMatchObject({ dataDir: await fsp.realpath(path.join(work.path, 'daily')), streams: [path.join(work.path, 'daily/streams/v1/index.json')] });
    const human = await run(['find-orphans', 'orphans.json', 'daily', 'daily/streams/v1/index.json']);
    expect(human.stderr).toContain('2 orphans among 4 files (0 new, 0 dropped); 2 paths referenced by 1 stream(s): 2 present, 0 missing');

    const toStdout = await run(['find-orphans', '--json', '-', 'daily']); // the mirror is its own stream
    expect(toStdout.code, toStdout.stderr).toBe(0);
    const fileEvent = events(toStdout.stdout).find((e) => e['type'] === 'orphans-file');
    expect(Object.keys(fileEvent!['orphans'] as object).sort()).toEqual(['noble/20231201/boot-kernel', 'noble/20231201/squashfs']);
    const plain = await run(['find-orphans', '-', 'daily']);
    expect(Object.keys(JSON.parse(plain.stdout)).sort()).toEqual(['noble/20231201/boot-kernel', 'noble/20231201/squashfs']);

    const dry = await run(['reap-orphans', '-n', '--now', 'orphans.json', 'daily']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stderr).toContain('would reap noble/20231201/squashfs');
    await fsp.access(path.join(work.path, 'daily/noble/20231201/squashfs'));

    const young = await run(['reap-orphans', 'orphans.json', 'daily']); // default --older 3d: nothing is that old
    expect(young.code).toBe(0);
    expect(young.stderr).toContain('reaped 0 file(s)');

    const reap = await run(['reap-orphans', '--json', '--now', 'orphans.json', 'daily']);
    expect(reap.code, reap.stderr).toBe(0);
    const reaped = events(reap.stdout).filter((e) => e['type'] === 'orphan-reaped');
    expect(reaped.map((e) => e['path']).sort()).toEqual(['noble/20231201/boot-kernel', 'noble/20231201/squashfs']);
    const bytes = 'noble/20231201/boot-kernel-orphan-bytes'.length + 'noble/20231201/squashfs-orphan-bytes'.length;
    expect(events(reap.stdout).find((e) => e['type'] === 'orphans-reaped-summary')).toMatchObject({ files: 2, bytes });
    await expect(fsp.access(path.join(work.path, 'daily/noble/20231201'))).rejects.toThrow();
    await fsp.access(path.join(work.path, 'daily/noble/20240101/squashfs'));
    expect(await fsp.readFile(path.join(work.path, 'orphans.json'), 'utf8')).toBe('{}\n');
  });

  it('--older with the grace period: only older entries go', async () => {
    await mirror('m', ['a'], ['old', 'new']);
    await fsp.writeFile(
      path.join(work.path, 'o.json'),
      JSON.stringify({ old: 'Mon, 01 Jan 2024 00:00:00 +0000', new: new Date().toUTCString().replace('GMT', '+0000') }),
    );
    const res = await run(['reap-orphans', '--older', '1d12h', 'o.json', 'm']);
    expect(res.code, res.stderr).toBe(0);
    await expect(fsp.access(path.join(work.path, 'm/old'))).rejects.toThrow();
    await fsp.access(path.join(work.path, 'm/new'));
  });

  it('clear one-line errors: bad --older, corrupt orphans file, stream referencing nothing, missing stream', async () => {
    await mirror('m', ['a'], ['b']);
    const bad = await run(['reap-orphans', '--older', '3w', 'o.json', 'm']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/invalid duration "3w"/);

    await fsp.writeFile(path.join(work.path, 'o.json'), '[1');
    const corrupt = await run(['reap-orphans', 'o.json', 'm']);
    expect(corrupt.code).not.toBe(0);
    expect(corrupt.stderr).toMatch(/o\.json: not valid JSON/);

    await writeJsonAtomic(path.join(work.path, 'empty/streams/v1/x.json'), { format: 'products:1.0', content_id: 'e', products: {} });
    await regenerateIndex(path.join(work.path, 'empty'));
    const none = await run(['find-orphans', 'n.json', 'm', 'empty']);
    expect(none.code).not.toBe(0);
    expect(none.stderr).toMatch(/reference no data file at all/);

    const missing = await run(['find-orphans', 'n.json', 'm', 'no-such-stream']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('reap-orphans with a missing orphans file exits 1 (a typo in a cron job must fail)', async () => {
    await mirror('m', ['a'], ['b']);
    const res = await run(['reap-orphans', '--now', 'typo.json', 'm']);
    expect(res.code).toBe(1);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    expect(res.stderr).toMatch(/orphan file does not exist: typo\.json/);
    await fsp.access(path.join(work.path, 'm/b'));
    await expect(fsp.access(path.join(work.path, 'typo.json'))).rejects.toThrow();
  });

  it('reap with another data directory than find-orphans used: exit 1, one line, nothing deleted (issue 9 §3)', async () => {
    await mirror('daily', ['noble/3/squashfs'], ['noble/1/squashfs', 'noble/2/squashfs']);
    await mirror('stable', ['noble/1/squashfs', 'noble/2/squashfs', 'noble/3/squashfs'], []);
    expect((await run(['find-orphans', 'my-orphans.json', 'daily'])).code).toBe(0);
    const res = await run(['reap-orphans', '--now', 'my-orphans.json', 'stable']);
    expect(res.code).toBe(1);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    expect(res.stderr).toMatch(/my-orphans\.json was computed for data directory .*daily, not .*stable; refusing to use it/);
    for (const v of ['1', '2', '3']) await fsp.access(path.join(work.path, `stable/noble/${v}/squashfs`));
    // the right one still works
    const ok = await run(['reap-orphans', '--now', 'my-orphans.json', 'daily']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).toContain('reaped 2 file(s)');
  });

  it('--help shows the usage and an example', async () => {
    for (const cmd of ['find-orphans', 'reap-orphans']) {
      const res = await run([cmd, '--help']);
      expect(res.code).toBe(0);
      expect(res.stdout + res.stderr).toMatch(new RegExp(`meph2-util ${cmd} .*my-orphans\\.json`));
      expect(res.stdout).toMatch(/--force/);
      expect(res.stdout).toMatch(/mirror\s+root[\s\S]*DATA_DIR/);
    }
  });

  it('real process: reap exits 0 and prints the bytes reclaimed', async () => {
    await mirror('m', ['a'], ['b']);
    await fsp.writeFile(path.join(work.path, 'o.json'), JSON.stringify({ b: 'Mon, 01 Jan 2024 00:00:00 +0000' }));
    const res = await runAppProcess('meph2-util', ['reap-orphans', 'o.json', 'm'], { cwd: work.path, env: { MEPH_KEYRING: '' } });
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toContain(`reaped 1 file(s), ${'b-orphan-bytes'.length} B reclaimed`);
  });
});
