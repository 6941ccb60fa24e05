import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runAppProcess, runCliCaptured } from '@meph/test-support';
import { spec } from '../main.js';

const GENERIC = 'org.debian.meph.candidate:v3:boot:12:amd64:ga-12';
let dir: string;
let stream: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'meph-boot-test-cli-'));
  stream = path.join(dir, 'stream');
  const source = path.join(dir, 'bookworm-root.tar.xz');
  writeFileSync(source, 'placeholder');
  // a correctly shaped stream whose artifacts are NOT bootable: the boot test must fail on it
  const res = await runAppProcess('meph2-build', ['--fake', '--no-sign', '--config', path.join(REPO_ROOT, 'conf/debian-bookworm.yaml'), 'amd64', 'bookworm', '20260101', source, stream]);
  expect(res.code, res.stderr).toBe(0);
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('meph2-util boot-test', () => {
  it('fails on artifacts that do not boot: exit 1, one error line and the console tail', async () => {
    const res = await runCliCaptured(spec, ['boot-test', '--timeout', '60', stream, GENERIC]);
    expect(res.code).toBe(1);
    expect(res.stderr.split('\n').filter((l) => l.startsWith('meph2-util: error:'))).toHaveLength(1);
    expect(res.stderr).toMatch(/console tail of org\.debian\.meph\.candidate:v3:boot:12:amd64:ga-12 20260101:\n.*qemu/i);
  });

  it('with --json the failure is an event carrying the console tail', async () => {
    const res = await runCliCaptured(spec, ['boot-test', '--json', '--timeout', '60', stream, GENERIC]);
    expect(res.code).toBe(1);
    const events = res.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string });
    expect(events.at(-1)).toMatchObject({ type: 'boot-test-failed', productId: GENERIC, version: '20260101', reached: 'none', consoleTail: expect.stringMatching(/qemu/i) });
  });

  it('names the products there when the product id is unknown', async () => {
    const res = await runCliCaptured(spec, ['boot-test', stream, 'com.example:nope']);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/no product com\.example:nope in .*stream.*products there include org\.debian\.meph/);
  });

  it('names the versions when the version is unknown', async () => {
    const res = await runCliCaptured(spec, ['boot-test', stream, GENERIC, '19990101']);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/has no version 19990101.*versions: 20260101/);
  });

  it('rejects a bad --timeout', async () => {
    const res = await runCliCaptured(spec, ['boot-test', '--timeout', '0', stream, GENERIC]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/--timeout must be a positive number/);
  });

  it('--help explains the pass criterion and has an example', async () => {
    const res = await runCliCaptured(spec, ['boot-test', '--help']);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/systemd\.run=/);
    expect(res.stdout).toMatch(/meph2-util boot-test \.\/out\s+boot the newest version/);
  });

  it('--pxe without a bootloader product fails naming the bootloader stage, for every product, before starting QEMU', async () => {
    const res = await runCliCaptured(spec, ['boot-test', '--pxe', '--no-verify', stream]);
    expect(res.code).toBe(1);
    const fails = res.stdout.split('\n').filter((l) => l.startsWith('FAIL '));
    expect(fails).toEqual([
      expect.stringMatching(/^FAIL org\.debian\.meph\.candidate:v3:boot:12:amd64:ga-12 20260101 pxe-bios: stalled in stage bootloader: no pxe\/pxelinux bootloader product in .*meph2-util import bootloaders-debian\.yaml/),
      expect.stringMatching(/^FAIL org\.debian\.meph\.candidate:v3:boot:12:amd64:ga-12-cloud 20260101 pxe-bios: stalled in stage bootloader/),
    ]);
    expect(res.stderr).toMatch(/2 of 2 network boot\(s\) failed/);
  });

  it('--pxe --json reports each failure as an event naming the stage', async () => {
    const res = await runCliCaptured(spec, ['boot-test', '--pxe', '--json', '--no-verify', '--firmware', 'uefi', stream, GENERIC]);
    expect(res.code).toBe(1);
    const events = res.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string });
    expect(events.find((e) => e.type === 'boot-test-failed')).toMatchObject({ type: 'boot-test-failed', mode: 'pxe', firmware: 'uefi', productId: GENERIC, stalled: 'bootloader' });
  });

  it('without --pxe a second product id is refused', async () => {
    const res = await runCliCaptured(spec, ['boot-test', stream, GENERIC, '20260101', 'extra']);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/only --pxe takes several product ids/);
  });

  it('--help documents --pxe with the MAAS command line and an example', async () => {
    const res = await runCliCaptured(spec, ['boot-test', '--help']);
    expect(res.stdout).toMatch(/--pxe/);
    expect(res.stdout).toMatch(/root=squash:http:\/\/<rack>\/images\//);
    expect(res.stdout).toMatch(/meph2-util boot-test --pxe \.\/out/);
  });
});
