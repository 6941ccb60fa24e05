/**
 * Bad input through the real meph2-build process (no fake converter): each case must end in one
 * clear error line, a non-zero exit, no mount left (checked in /proc/self/mounts) and no stream
 * (no streams/v1, no data files, no scratch directory) written.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAppProcess } from '@meph/test-support';
import { BOOKWORM_CONFIG, bookwormRootfs } from '@meph/test-support/bookworm';
import { mountsUnder, realConverter } from '@meph/image-transform';

const CONF = BOOKWORM_CONFIG;
let work: string;
let rootfs: string;
const sh = (cmd: string) => execFileSync('bash', ['-euo', 'pipefail', '-c', cmd], { cwd: work, encoding: 'utf8' });

beforeAll(() => {
  work = mkdtempSync(path.join(os.tmpdir(), 'meph-build-errors-'));
  rootfs = bookwormRootfs();
}, 300_000);
afterAll(() => {
  for (const m of readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1]).filter((m) => m?.startsWith(work)).reverse()) sh(`umount -l ${m}`);
  rmSync(work, { recursive: true, force: true });
});

/** Command lines of running processes that mention `text` (this test's own ps excluded). */
function processesMentioning(text: string): string[] {
  return execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' }).split('\n').filter((l) => l.includes(text));
}

async function build(source: string, out: string, config = CONF, ownMounts: string[] = []) {
  const res = await runAppProcess('meph2-build', ['--config', config, '--no-sign', 'amd64', 'bookworm', '20261125', source, out], { timeoutMs: 600_000 });
  const errorLines = res.stderr.split('\n').filter((l) => l.startsWith('meph2-build: error:'));
  expect(res.code, res.stderr).toBe(1);
  expect(errorLines, res.stderr).toHaveLength(1);
  expect(res.stderr).not.toMatch(/\n\s+at /); // no stack trace
  expect(await mountsUnder(work)).toEqual(ownMounts);
  expect(existsSync(path.join(out, 'streams'))).toBe(false);
  expect(existsSync(path.join(out, 'bookworm'))).toBe(false);
  expect(existsSync(out) ? readdirSync(out).filter((n) => n.startsWith('.meph-build')) : []).toEqual([]);
  return errorLines[0]!;
}

describe('meph2-build bad input (real converter)', () => {
  it('a corrupt (truncated) tarball', async () => {
    const bad = path.join(work, 'bookworm-root.tar.xz');
    sh(`head -c 8000000 ${rootfs} > ${bad}`);
    const line = await build(bad, path.join(work, 'out-corrupt'));
    expect(line).toContain(`${bad}: is corrupt or truncated`);
  }, 300_000);

  it('a source URL that 404s', async () => {
    const server = http.createServer((_req, res) => res.writeHead(404).end());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/images/bookworm-root.tar.xz`;
    try {
      const line = await build(url, path.join(work, 'out-404'));
      expect(line).toContain(`cannot download source ${url}: HTTP 404`);
    } finally {
      server.close();
    }
  }, 120_000);

  it('no space left on the output file system', async () => {
    const small = path.join(work, 'small');
    mkdirSync(small);
    sh(`mount -t tmpfs -o size=64m meph-enospc ${small}`);
    try {
      const line = await build(rootfs, path.join(small, 'out'), CONF, [small]);
      expect(line).toMatch(/no space left on the file system of .*small\/out.* during/);
    } finally {
      sh(`umount ${small}`);
    }
  }, 300_000);

  it('a kernel package the archive does not have', async () => {
    const conf = path.join(work, 'missing-kernel.yaml');
    writeFileSync(conf, readFileSync(CONF, 'utf8').replaceAll('linux-image-cloud-amd64', 'linux-image-meph-no-such-kernel'));
    const line = await build(rootfs, path.join(work, 'out-nokernel'), conf);
    expect(line).toContain("kernel package 'linux-image-meph-no-such-kernel' (flavour cloud) is not available");
  }, 600_000);

  it('SIGKILL in the middle of the chroot step: nothing keeps running or stays mounted, the next run cleans up', async () => {
    const out = path.join(work, 'out-killed');
    let pid = 0;
    const running = runAppProcess('meph2-build', ['--config', CONF, '--no-sign', 'amd64', 'bookworm', '20261125', rootfs, out], { onSpawn: (p) => (pid = p) });
    const inChroot = () => processesMentioning(out).some((l) => l.includes('unshare --mount'));
    for (let i = 0; i < 600 && !inChroot(); i++) await new Promise((r) => setTimeout(r, 200));
    expect(inChroot()).toBe(true);
    process.kill(pid, 'SIGKILL');
    const res = await running;
    expect(res.signal).toBe('SIGKILL');
    await new Promise((r) => setTimeout(r, 3000));
    expect(processesMentioning(out)).toEqual([]);
    expect(await mountsUnder(work)).toEqual([]);
    expect(readdirSync(out).filter((n) => n.startsWith('.meph-build'))).toHaveLength(1);
    // the next run (fake, for speed) removes the dead run's scratch area
    const next = await runAppProcess('meph2-build', ['--fake', '--config', CONF, '--no-sign', 'amd64', 'bookworm', '20261125', rootfs, out]);
    expect(next.code, next.stderr).toBe(0);
    expect(readdirSync(out).filter((n) => n.startsWith('.meph-build'))).toEqual([]);
  }, 300_000);

  it('aborting the converter (request.signal) during the kernel step stops every tool and leaves nothing', async () => {
    const out = path.join(work, 'out-aborted');
    const workDir = path.join(work, 'work-aborted');
    const ac = new AbortController();
    const started = realConverter({
      arch: 'amd64', release: 'bookworm', version: '20261125', source: rootfs, imageFormat: 'auto',
      kernels: [{ package: 'linux-image-cloud-amd64', flavor: 'cloud', kernelPath: path.join(out, 'boot-kernel'), initrdPath: path.join(out, 'boot-initrd') }],
      squashfs: { path: path.join(out, 'squashfs'), compression: 'xz' }, manifestPath: path.join(out, 'squashfs.manifest'),
      proposed: false, addRepos: [], addPackages: [], prePurgePackages: [], proposedPackages: [], workDir, signal: ac.signal,
      onEvent: (e) => {
        if (e.type === 'step' && e.step === 'kernel:cloud' && 'state' in e && e.state === 'start') setTimeout(() => ac.abort(new Error('stopped by test')), 3000);
      },
    });
    await expect(started).rejects.toThrow('stopped by test');
    expect(processesMentioning(workDir)).toEqual([]);
    expect(await mountsUnder(work)).toEqual([]);
    expect(readdirSync(workDir)).toEqual([]);
    expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
  }, 300_000);
});
