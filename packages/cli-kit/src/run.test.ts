import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCliCaptured } from '@meph/test-support';
import { defineCli, defineCommand, UsageError, withVerbosityOptions, type LazyCommand } from './index.js';

const echo = defineCommand<{ word: string; twice: boolean }>({
  command: 'echo <word>',
  describe: 'print a word',
  examples: [['demo echo hi', 'prints hi']],
  builder: (y) => y.positional('word', { type: 'string', demandOption: true }).option('twice', { type: 'boolean', default: false }),
  run: (args, ctx) => {
    if (args.word === 'bad') throw new UsageError('bad word', 'try another');
    if (args.word === 'boom') throw new Error('kaboom');
    if (args.word === 'missing') return readFile('/nonexistent/meph-run-test/patch.yaml').then(() => 0);
    ctx.reporter.out(args.twice ? `${args.word} ${args.word}` : args.word);
    ctx.reporter.emit({ type: 'echoed', word: args.word });
    return args.word === 'three' ? 3 : 0;
  },
});
/** Output far bigger than a pipe's buffer, written as query writes it (waiting while the pipe is full). */
let written = 0;
let finished = false;
const flood = defineCommand<{ events: boolean }>({
  command: 'flood',
  describe: 'write 50 MB of output, or 200,000 events with --events',
  examples: [],
  builder: (y) => y.option('events', { type: 'boolean', default: false }),
  run: async (args, ctx) => {
    written = 0;
    finished = false;
    const line = `${'x'.repeat(1023)}\n`;
    for (let i = 0; i < 200_000; i++) {
      if (args.events) ctx.reporter.emit({ type: 'flooded', i });
      else if (i < 50_000) await ctx.reporter.write(line);
      written++;
      if (args.events && i % 1000 === 0) await new Promise((r) => setImmediate(r));
    }
    finished = true;
    return 0;
  },
});
const spec = defineCli({ name: 'demo', version: '1.2.3', describe: 'demo tool', commands: [echo, flood] });

/** A real pipe whose reader (`head -c 100`) goes away after its first 100 bytes. */
function pipeToHead(): NodeJS.WritableStream {
  const head = spawn('head', ['-c', '100'], { stdio: ['pipe', 'ignore', 'inherit'] });
  return head.stdin;
}

describe('runCli', () => {
  it('runs a command and returns its exit code', async () => {
    expect(await runCliCaptured(spec, ['echo', 'hi', '--twice'])).toMatchObject({ code: 0, stdout: 'hi hi\n' });
    expect((await runCliCaptured(spec, ['echo', 'three'])).code).toBe(3);
  });
  it('prints events as JSON lines with --json', async () => {
    const r = await runCliCaptured(spec, ['echo', 'hi', '--json']);
    expect(r.stdout.split('\n')).toContain('{"type":"echoed","word":"hi"}');
  });
  it('turns user errors into one line and exit 2', async () => {
    const r = await runCliCaptured(spec, ['echo', 'bad']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('demo: error: bad word (try another)\n');
  });
  it('rejects unknown flags and missing subcommands without a stack trace', async () => {
    const r = await runCliCaptured(spec, ['echo', 'hi', '--nope']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^demo: error: Unknown argument: nope/);
    expect((await runCliCaptured(spec, [])).code).toBe(2);
  });
  it('operating-system errors on a path are one line naming the path first, exit 1', async () => {
    const r = await runCliCaptured(spec, ['echo', 'missing']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('demo: error: /nonexistent/meph-run-test/patch.yaml: no such file or directory (ENOENT)\n');
  });
  it('reports internal errors with their stack and exit 70', async () => {
    const r = await runCliCaptured(spec, ['echo', 'boom']);
    expect(r.code).toBe(70);
    expect(r.stderr).toContain('internal error: Error: kaboom');
  });
  it('stops quietly with status 0 when the reader of its output goes away (| head)', async () => {
    const { code, stderr } = await runCliCaptured(spec, ['flood'], { stdout: pipeToHead() });
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(finished).toBe(false); // it stopped at the first write that failed
    expect(written).toBeLessThan(50_000);
  });
  it('finishes a command whose events nobody reads any more, with its own status', async () => {
    const { code, stderr } = await runCliCaptured(spec, ['flood', '--events', '--json'], { stdout: pipeToHead() });
    expect({ code, stderr, finished }).toEqual({ code: 0, stderr: '', finished: true });
  });
  it('any other failure to write the output is one line and status 1', async () => {
    const { code, stderr } = await runCliCaptured(spec, ['flood'], { stdout: createWriteStream('/dev/full') });
    expect({ code, stderr }).toEqual({ code: 1, stderr: 'demo: error: cannot write the output: no space left on device (ENOSPC)\n' });
  });
  it('prints help with examples to stdout and exits 0', async () => {
    const r = await runCliCaptured(spec, ['echo', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('demo echo hi');
  });
  it('loads a lazy command only when it runs or every command is listed, and none for --version', async () => {
    const loaded: string[] = [];
    const lazy = (command: typeof echo): LazyCommand => ({ name: String(command.command).split(' ')[0]!, load: async () => (loaded.push(String(command.command)), command) });
    const lazySpec = defineCli({ name: 'demo', version: '1.2.3', describe: 'demo tool', commands: [lazy(echo), lazy(flood as unknown as typeof echo)] });
    expect(await runCliCaptured(lazySpec, ['--version'])).toMatchObject({ code: 0, stdout: '1.2.3\n' });
    expect(loaded).toEqual([]);
    expect(await runCliCaptured(lazySpec, ['echo', 'hi'])).toMatchObject({ code: 0, stdout: 'hi\n' });
    expect(loaded).toEqual(['echo <word>']);
    expect((await runCliCaptured(lazySpec, ['--help'])).stdout).toContain('write 50 MB of output');
    expect(loaded).toEqual(['echo <word>', 'echo <word>', 'flood']);
  });
});

describe('reporter: -v, -q, --json and --log-file, handled once for every command', () => {
  const talk = defineCommand({
    command: 'talk',
    describe: 'say things at several levels',
    examples: [['demo talk -v', 'more']],
    builder: (y) => withVerbosityOptions(y, { verbose: 'more detail' }),
    run: (_args, ctx) => {
      ctx.reporter.info('hello');
      ctx.reporter.verbose(1, 'detail one');
      ctx.reporter.verbose(2, 'detail two');
      ctx.reporter.warn('careful');
      ctx.reporter.emit({ type: 'said', words: 3 });
      ctx.reporter.emit({ type: 'progress', step: 'talking', done: 1, total: 1 });
    },
  });
  const talker = defineCli({ name: 'demo', version: '1.2.3', describe: 'demo tool', commands: [talk] });
  const tmp = () => mkdtemp(path.join(os.tmpdir(), 'meph-reporter-'));

  it('-v shows level-1 detail, -vv level 2 as well; -q shows none of it', async () => {
    const v = await runCliCaptured(talker, ['talk', '-v']);
    expect(v.stderr).toContain('detail one\n');
    expect(v.stderr).not.toContain('detail two');
    expect((await runCliCaptured(talker, ['talk', '-vv'])).stderr).toContain('detail two\n');
    expect((await runCliCaptured(talker, ['talk'])).stderr).not.toContain('detail one');
    expect((await runCliCaptured(talker, ['talk', '-q', '-vv'])).stderr).toBe('');
  });

  it('--log-file gets every message at the -v level and every event (as JSON), timestamped, whatever -q/--json say', async () => {
    const dir = await tmp();
    try {
      const r = await runCliCaptured(talker, ['talk', '-q', '--json', '-v', '--log-file', 'talk.log'], { cwd: dir });
      expect(r.code).toBe(0);
      // --json output is unchanged by the log file
      expect(r.stdout.split('\n')).toContain('{"type":"message","level":"info","message":"hello"}');
      const lines = (await readFile(path.join(dir, 'talk.log'), 'utf8')).trimEnd().split('\n');
      expect(lines.map((l) => l.replace(/^\d{4}-\d\d-\d\dT[\d:.]+Z /, ''))).toEqual(['hello', 'detail one', 'warning: careful', '{"type":"said","words":3}']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('--log-file in a missing directory is one clear line and exit 2, before the command runs', async () => {
    const dir = await tmp();
    try {
      const r = await runCliCaptured(talker, ['talk', '--log-file', 'no/such/dir/talk.log'], { cwd: dir });
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(`demo: error: --log-file ${dir}/no/such/dir/talk.log: no such directory ${dir}/no/such/dir (create the directory first, or give another path)\n`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
