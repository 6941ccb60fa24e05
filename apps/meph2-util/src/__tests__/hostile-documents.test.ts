/**
 * Documents meph did not write (issue 9 §3, "hostile documents" and "values silently
 * rewritten"): every command fails in one line naming the file and the limit or JSON path,
 * never with a stack trace, a hang or a silent change; files it refuses stay byte-identical.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAppProcess, runCliCaptured } from '@meph/test-support';
import { spec } from '../main.js';
import { JAMMY, makeStream, NOBLE, productId, productsPath, tempDir } from './stream-fixture.js';

let dir: string;
const env = { ...process.env, MEPH_SIGNING_KEY: '', MEPH_GPG_KEY: '', MEPH_KEYRING: '', MEPH_MAX_DOCUMENT_BYTES: '' };
const run = (args: string[], extraEnv: NodeJS.ProcessEnv = {}) => runCliCaptured(spec, args, { cwd: dir, env: { ...env, ...extraEnv } });
const PRODUCTS = productsPath('candidate');
const NOBLE_GA = productId('candidate', NOBLE, 'amd64', 'ga-24.04');
const JAMMY_GA = productId('candidate', JAMMY, 'amd64', 'ga-22.04');

beforeAll(async () => {
  dir = await tempDir('meph-hostile-');
  await makeStream(path.join(dir, 'base'), { serials: ['20260720', '20260722'], releases: [NOBLE, JAMMY] });
  await fs.writeFile(path.join(dir, 'noop.yaml'), `${'com.ubuntu.maas:candidate:v3:download'}.json:\n  ${NOBLE_GA}:\n    labels: [candidate]\n`);
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

/** A copy of `base` whose products file text is edited by `edit`. */
async function variant(name: string, edit: (text: string) => string | Promise<string>): Promise<string> {
  await fs.cp(path.join(dir, 'base'), path.join(dir, name), { recursive: true });
  const file = path.join(dir, name, PRODUCTS);
  await fs.writeFile(file, await edit(await fs.readFile(file, 'utf8')));
  return file;
}

/** Puts `raw` (JSON text) as field `field` of the jammy product, one the commands below do not touch. */
function withJammyField(field: string, raw: string): (text: string) => string {
  return (text) => {
    const at = text.indexOf(`"${JAMMY_GA}": {`);
    if (at < 0) throw new Error('fixture: jammy product not found');
    const open = text.indexOf('{', at) + 1;
    return `${text.slice(0, open)}"${field}": ${raw},${text.slice(open)}`;
  };
}

function oneLine(r: { code: number; stderr: string; stdout?: string }, why: RegExp, where: 'stderr' | 'stdout' = 'stderr'): void {
  expect(where === 'stderr' ? r.stderr : r.stdout).toMatch(why);
  expect(r.stderr).not.toContain('    at ');
  expect(r.stderr).not.toMatch(/RangeError|internal error/);
  expect((where === 'stderr' ? r.stderr : r.stdout!).trim().split('\n').filter((l) => (where === 'stderr' ? l.includes('error') : why.test(l)))).toHaveLength(1);
  expect(r.code).toBe(1);
}

/** Every command that reads a products file, with the stream under test at STREAM. */
const COMMANDS: Array<[string, string[]]> = [
  ['query', ['query', 'STREAM']],
  ['clean-md', ['clean-md', '-u', '1', 'STREAM']],
  ['remove-version', ['remove-version', '-u', 'STREAM', '20260720', `product_name=${NOBLE_GA}`]],
  ['copy-version', ['copy-version', '-u', 'STREAM', '20260722', '20260723', `product_name=${NOBLE_GA}`]],
  ['patch', ['patch', '-u', 'STREAM', '-i', 'noop.yaml']],
  ['insert (source)', ['insert', '-u', 'STREAM', 'OUT']],
  ['merge (source)', ['merge', '-u', 'STREAM', 'OUT']],
  ['verify', ['verify', '--no-verify', 'STREAM']],
];

describe('100k-deep nesting', () => {
  let file: string;
  let before: string;
  beforeAll(async () => {
    file = await variant('deep', withJammyField('x', `${'['.repeat(100_000)}${']'.repeat(100_000)}`));
    before = await fs.readFile(file, 'utf8');
  });

  it.each(COMMANDS)('%s: one line naming the file and the limit', async (name, args) => {
    const r = await run(args.map((a) => a.replace('STREAM', 'deep').replace('OUT', `deep-out-${name.split(' ')[0]}`)));
    // verify reports it as a finding on stdout.
    oneLine(r, new RegExp(name === 'verify' ? `streams/v1/${PRODUCTS.slice('streams/v1/'.length).replace(/[.]/g, '\\.')}: JSON nested deeper than 64 levels` : '^'), name === 'verify' ? 'stdout' : 'stderr');
    if (name !== 'verify') oneLine(r, new RegExp(`deep/${PRODUCTS.replace(/[.]/g, '\\.')}: JSON nested deeper than 64 levels at \\$\\.products\\["${JAMMY_GA.replace(/[.]/g, '\\.')}"\\]\\.x\\[0\\]`));
    expect(await fs.readFile(file, 'utf8')).toBe(before);
  });
});

describe('values a rewrite would change', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['huge_float', '1e400', /\.huge_float: number 1e400 is out of range \(it would become null\)/],
    ['big_int', '123456789012345678901234567890', /\.big_int: integer 123456789012345678901234567890 is larger than 2\^53 .*it would become 1\.2345678901234568e\+29/],
    ['long_decimal', '0.10000000000000000000000001', /\.long_decimal: number 0\.10000000000000000000000001 cannot be held exactly/],
  ];
  it.each(cases)('%s in a product the command does not touch: refused, file unchanged', async (field, raw, why) => {
    const file = await variant(`num-${field}`, withJammyField(field, raw));
    const before = await fs.readFile(file);
    const r = await run(['remove-version', '-u', `num-${field}`, '20260720', `product_name=${NOBLE_GA}`]);
    oneLine(r, why);
    expect(r.stderr).toContain(`num-${field}/${PRODUCTS}: $.products["${JAMMY_GA}"].${field}`);
    expect(await fs.readFile(file)).toEqual(before);
  });

  it('invalid UTF-8: refused with its line and JSON path, never turned into U+FFFD', async () => {
    const file = await variant('utf8', withJammyField('name', '"caf_"'));
    const bytes = await fs.readFile(file);
    const bad = Buffer.from(bytes.toString('latin1').replace('"caf_"', '"caf\xff"'), 'latin1');
    await fs.writeFile(file, bad);
    const r = await run(['remove-version', '-u', 'utf8', '20260720', `product_name=${NOBLE_GA}`]);
    oneLine(r, new RegExp(`utf8/${PRODUCTS.replace(/[.]/g, '\\.')}: \\$\\.products\\["${JAMMY_GA.replace(/[.]/g, '\\.')}"\\]\\.name: invalid UTF-8 \\(byte 0xff at line \\d+, column \\d+\\)`));
    expect(await fs.readFile(file)).toEqual(bad);
  });

  it('exact values pass and products the command did not touch keep every byte', async () => {
    // Large but exact numbers and non-ASCII text are kept as they are.
    await variant('exact', withJammyField('fine', '{"size": 9007199254740991, "ratio": 0.5, "exp": 1.5e300, "name": "café ☃"}'));
    await makeStream(path.join(dir, 'other'), { label: 'stable', serials: ['20260720'], releases: [NOBLE] });
    await fs.cp(path.join(dir, 'other', productsPath('stable')), path.join(dir, 'exact', productsPath('stable')));
    const index = JSON.parse(await fs.readFile(path.join(dir, 'exact/streams/v1/index.json'), 'utf8'));
    const otherIndex = JSON.parse(await fs.readFile(path.join(dir, 'other/streams/v1/index.json'), 'utf8'));
    Object.assign(index.index, otherIndex.index);
    await fs.writeFile(path.join(dir, 'exact/streams/v1/index.json'), JSON.stringify(index, null, 1));
    const untouched = await fs.readFile(path.join(dir, 'exact', productsPath('stable')));
    const r = await run(['remove-version', '-u', 'exact', '20260720', `product_name=${NOBLE_GA}`]);
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    expect(await fs.readFile(path.join(dir, 'exact', productsPath('stable')))).toEqual(untouched);
    const changed = JSON.parse(await fs.readFile(path.join(dir, 'exact', PRODUCTS), 'utf8'));
    expect(changed.products[JAMMY_GA].fine).toEqual({ size: 9007199254740991, ratio: 0.5, exp: 1.5e300, name: 'café ☃' });
    expect(changed.products[NOBLE_GA].versions['20260720']).toBeUndefined();
  });
});

describe('files that are not regular files', () => {
  it('a products file that is a symlink to /dev/zero: one line, no RangeError', async () => {
    const file = await variant('zero', (t) => t);
    await fs.rm(file);
    await fs.symlink('/dev/zero', file);
    for (const args of [['query', 'zero'], ['clean-md', '-u', '1', 'zero'], ['insert', '-u', 'zero', 'zero-out']]) {
      oneLine(await run(args), /zero\/streams\/v1\/.*\.json: is a character device, not a regular file; refusing to read it/);
    }
  });

  it('a FIFO: query fails at once instead of hanging (real process, SIGKILL after 30 s if it hangs)', async () => {
    const file = await variant('fifo', (t) => t);
    await fs.rm(file);
    expect(spawnSync('mkfifo', [file]).status).toBe(0);
    let pid = 0;
    const timer = setTimeout(() => pid && process.kill(pid, 'SIGKILL'), 30_000);
    const r = await runAppProcess('meph2-util', ['query', 'fifo'], { cwd: dir, env, onSpawn: (p) => (pid = p) });
    clearTimeout(timer);
    expect(r.signal).toBeNull();
    oneLine(r, /fifo\/streams\/v1\/.*\.json: is a FIFO, not a regular file; refusing to read it/);
  }, 60_000);

  it('a document over the size limit ($MEPH_MAX_DOCUMENT_BYTES) names the file and the limit (real processes)', async () => {
    const query = (limit: string) => runAppProcess('meph2-util', ['query', 'base'], { cwd: dir, env: { ...env, MEPH_MAX_DOCUMENT_BYTES: limit } });
    oneLine(await query('1000'), new RegExp(`base/${PRODUCTS.replace(/[.]/g, '\\.')}: is \\d+ bytes, over the 1000-byte limit for a metadata document \\(raise the limit with MEPH_MAX_DOCUMENT_BYTES=BYTES`));
    oneLine(await query('lots'), /MEPH_MAX_DOCUMENT_BYTES: must be a whole number of bytes, got "lots"/);
    expect((await query('100000000')).code).toBe(0);
  }, 60_000);
});

describe('--help', () => {
  it('every command that reads metadata states the limits', async () => {
    for (const cmd of ['query', 'verify', 'insert', 'promote', 'merge', 'patch', 'diff', 'find-orphans', 'reap-orphans', 'clean-md', 'remove-version', 'copy-version', 'sign', 'boot-test', 'publish']) {
      const h = await run([cmd, '--help']);
      expect(h.stdout.replace(/\s+/g, ' '), cmd).toMatch(/at most \$MEPH_MAX_DOCUMENT_BYTES bytes \(default 256 MiB\), nested at most 64 levels, valid UTF-8/);
    }
  });
});
