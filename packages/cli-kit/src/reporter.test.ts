import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createReporter } from './reporter.js';

/** A stream that records each write(2)-level call separately. */
function recorder(): Writable & { writes: string[]; text: () => string } {
  const writes: string[] = [];
  const w = new Writable({
    write(chunk: Buffer, _enc, cb) {
      writes.push(chunk.toString());
      cb();
    },
  });
  return Object.assign(w, { writes, text: () => writes.join('') });
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('reporter batching', () => {
  it('writes the lines of one turn in one write, in order, and nothing is lost by close', async () => {
    const stderr = recorder();
    const stdout = recorder();
    const r = createReporter({ json: false, stderr, stdout });
    for (let i = 1; i <= 1000; i++) r.emit({ type: 'version-removed', n: i });
    r.info('summary');
    expect(stderr.writes).toHaveLength(0); // nothing written yet: batched until the end of the turn
    await turn();
    expect(stderr.writes.length).toBeLessThanOrEqual(Math.ceil(stderr.text().length / (64 * 1024)) + 1);
    expect(stderr.text()).toBe(`${Array.from({ length: 1000 }, (_, i) => `version-removed n=${i + 1}\n`).join('')}summary\n`);
    r.warn('after the turn');
    r.close();
    expect(stderr.text().endsWith('summary\nwarning: after the turn\n')).toBe(true);
    expect(stdout.writes).toHaveLength(0);
  });

  it('describes an event by its type and scalar fields, in field order', () => {
    const stderr = recorder();
    const r = createReporter({ json: false, stderr, stdout: recorder() });
    r.emit({ type: 'file-copied', path: 'a b', size: undefined, nested: { x: 1 }, nil: null, ok: true, n: 0, list: [1] });
    r.emit({ type: 'message', message: 'as is' });
    r.emit({ type: 'bare' });
    r.close();
    expect(stderr.text()).toBe('file-copied path=a b ok=true n=0\nas is\nbare\n');
  });

  it('keeps --json events, out() and write() in their order on stdout', async () => {
    const stdout = recorder();
    const r = createReporter({ json: true, stdout, stderr: recorder() });
    r.emit({ type: 'a' });
    r.out('result one');
    r.emit({ type: 'b' });
    await r.write('streamed\n');
    r.info('note');
    r.close();
    expect(stdout.text()).toBe('{"type":"a"}\nresult one\n{"type":"b"}\nstreamed\n{"type":"message","level":"info","message":"note"}\n');
  });

  it('flush() writes out what is batched before someone else writes to the stream', () => {
    const stderr = recorder();
    const r = createReporter({ json: false, stderr, stdout: recorder() });
    r.info('first');
    r.flush();
    stderr.write('second\n');
    r.info('third');
    r.close();
    expect(stderr.text()).toBe('first\nsecond\nthird\n');
  });

  const child = path.join(path.dirname(fileURLToPath(import.meta.url)), '__fixtures__', 'reporter-exit.ts');
  const tsx = createRequire(import.meta.url).resolve('tsx');
  it.each([
    ['exit', 3],
    ['throw', 1],
    ['reject', 1],
  ])('loses no line when the process ends by %s without closing the reporter', (how, code) => {
    for (const mode of ['human', 'json']) {
      const r = spawnSync(process.execPath, ['--conditions=@meph/source', '--import', tsx, child, how, mode], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(code);
      const out = mode === 'json' ? r.stdout : r.stderr;
      const lines = out.split('\n').filter((l) => l.includes('version-removed') || l.includes('last line'));
      expect(lines).toHaveLength(501);
      expect(lines.at(-1)).toContain('last line');
      // a crash's stack trace comes after what was reported before it
      if (how !== 'exit') expect(r.stderr.indexOf('after reporting')).toBeGreaterThan(r.stderr.indexOf(mode === 'json' ? '' : 'last line'));
    }
  });
});
