import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCliCaptured, SHARED_DIR } from '@meph/test-support';
import { spec } from '../main.js';

/**
 * The reference sstream-mirror runs on foocloud (reference/streams/README.md §2, golden/mirror/):
 * the +/- plan on stderr, the size and path of every file written, the `.data/` bookkeeping
 * (filtered trees and references.json) byte for byte, and metadata copied byte for byte.
 */
const FOOCLOUD = path.join(SHARED_DIR, 'reference/streams/simplestreams-examples/foocloud');
const GOLDEN = path.join(SHARED_DIR, 'reference/streams/golden/mirror');
const golden = (name: string): string => readFileSync(path.join(GOLDEN, name), 'utf8');

let out: string;
afterEach(async () => {
  if (out) await fs.rm(out, { recursive: true, force: true });
});

/** `size ./path` of every file, like `find . -type f` sorted (the golden listing's shape), lock file excluded. */
async function listing(root: string): Promise<string> {
  const lines: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const e of await fs.readdir(dir, { withFileTypes: true })) {
      const abs = path.join(dir, e.name);
      if (e.isDirectory()) await walk(abs);
      else if (!e.name.startsWith('.meph-stream.lock')) lines.push(`${(await fs.stat(abs)).size} ./${path.relative(root, abs)}`);
    }
  };
  await walk(root);
  return `${lines.sort((a, b) => (a.split(' ')[1]! < b.split(' ')[1]! ? -1 : 1)).join('\n')}\n`;
}

/** The plan lines of stderr (the summary line is meph's own). */
const planOf = (stderr: string): string => `${stderr.split('\n').filter((l) => /^[+-] |Mb change$/.test(l)).join('\n')}\n`;

async function expectData(root: string, dir: string): Promise<void> {
  for (const name of ['com.example.foovendor:released:aws', 'com.example.foovendor:released:download', 'references.json']) {
    expect(await fs.readFile(path.join(root, '.data', name), 'utf8'), name).toBe(golden(`${dir}/${name}`));
  }
}

describe('meph2-util mirror reproduces the reference sstream-mirror runs', () => {
  it('run 1 (arch=i386 --max=2), run 2 (--max=1, samepaths keeps the shared files)', async () => {
    out = await fs.mkdtemp(path.join(os.tmpdir(), 'meph-mirror-golden-'));
    const r1 = await runCliCaptured(spec, ['mirror', '--max=2', './streams/v1/index.json', out, 'arch=i386'], { cwd: FOOCLOUD });
    expect(r1.code, r1.stderr).toBe(0);
    expect(planOf(r1.stderr)).toBe(golden('run1.stderr.txt'));
    expect(await listing(out)).toBe(golden('run1-arch-i386-max2.listing.txt'));
    await expectData(out, 'run1-data');
    for (const f of ['streams/v1/index.json', 'streams/v1/com.example.foovendor:released:download.json', 'streams/v1/com.example.foovendor:released:aws.json']) {
      expect(await fs.readFile(path.join(out, f), 'utf8')).toBe(readFileSync(path.join(FOOCLOUD, f), 'utf8'));
    }

    const r2 = await runCliCaptured(spec, ['mirror', '--max=1', './streams/v1/index.json', out, 'arch=i386'], { cwd: FOOCLOUD });
    expect(r2.code, r2.stderr).toBe(0);
    expect(planOf(r2.stderr)).toBe(golden('run2.stderr.txt'));
    expect(await listing(out)).toBe(golden('run2-then-max1.listing.txt'));
    await expectData(out, 'run2-data');
    // meph prunes the directory the removal emptied (the original leaves it)
    await expect(fs.stat(path.join(out, 'files/release-20121026.1'))).rejects.toThrow();
  });

  it('run 3: --dry-run --keep --max=1 arch=amd64 prints the plan and writes nothing', async () => {
    out = await fs.mkdtemp(path.join(os.tmpdir(), 'meph-mirror-golden-'));
    const target = path.join(out, 'fresh');
    const r = await runCliCaptured(spec, ['mirror', '--max=1', '--keep', '--dry-run', './streams/v1/index.json', target, 'arch=amd64'], { cwd: FOOCLOUD });
    expect(r.code, r.stderr).toBe(0);
    expect(planOf(r.stderr)).toBe(golden('run3-dryrun-arch-amd64-max1.stderr.txt'));
    await expect(fs.stat(target)).rejects.toThrow();
  });

  it('--no-item-download records the versions and metadata but fetches no file', async () => {
    out = await fs.mkdtemp(path.join(os.tmpdir(), 'meph-mirror-golden-'));
    const r = await runCliCaptured(spec, ['mirror', '--no-item-download', '--max=2', './streams/v1/index.json', out, 'arch=i386'], { cwd: FOOCLOUD });
    expect(r.code, r.stderr).toBe(0);
    await expect(fs.stat(path.join(out, 'files'))).rejects.toThrow();
    expect(await fs.readFile(path.join(out, '.data/references.json'), 'utf8')).toBe('{}');
    expect(await fs.readFile(path.join(out, '.data/com.example.foovendor:released:download'), 'utf8')).toBe(golden('run1-data/com.example.foovendor:released:download'));
    expect(await fs.readFile(path.join(out, 'streams/v1/index.json'), 'utf8')).toBe(readFileSync(path.join(FOOCLOUD, 'streams/v1/index.json'), 'utf8'));
  });

  it('refuses --keep without --max with one line', async () => {
    out = '';
    const r = await runCliCaptured(spec, ['mirror', '--keep', './streams/v1/index.json', '/nonexistent-target'], { cwd: FOOCLOUD });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/--keep needs --max/);
  });
});
