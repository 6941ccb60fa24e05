import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { runCliCaptured } from '@meph/test-support';
import { defineCli, defineCommand, UsageError } from './index.js';

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
const spec = defineCli({ name: 'demo', version: '1.2.3', describe: 'demo tool', commands: [echo] });

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
  it('prints help with examples to stdout and exits 0', async () => {
    const r = await runCliCaptured(spec, ['echo', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('demo echo hi');
  });
});
