// Every library's errors share one base from @meph/errors: isMephError (and so runCli's
// one-line error mapping) accepts all of them, and each library's own guard only its own.
import { defineCli, defineCommand, isCliError, UsageError } from '@meph/cli-kit';
import { runCliCaptured } from '@meph/test-support';
import { isDiCrawlerError, ChecksumListError } from '@meph/di-crawler';
import { isMephError } from '@meph/errors';
import { HttpStatusError, isHttpTransportError } from '@meph/http';
import { CommandFailedError, isImageTransformError, PlanError } from '@meph/image-transform';
import { DurationError, isOrphansError } from '@meph/orphans';
import { CredentialsError, isPublishError, TargetError } from '@meph/publish';
import { GpgError, isSignerError, StreamDirError } from '@meph/signer';
import { GpgvUnavailableError, isMaasRulesError } from '@meph/maas-rules';
import { FormatError, isSimplestreamsError } from '@meph/simplestreams';
import { isStreamOpsError, StreamOpError } from '@meph/stream-ops';
import { describe, expect, it } from 'vitest';

const errors = {
  http: new HttpStatusError('http://127.0.0.1:1/x.json', 503, 'Service Unavailable'),
  simplestreams: new FormatError('index.json', 'not an index'),
  signer: new StreamDirError('/srv/x', 'has no streams/v1'),
  orphans: new DurationError('3 days'),
  'di-crawler': new ChecksumListError('SHA256SUMS', 'line 3 is not "<hash>  <path>"'),
  'image-transform': new PlanError('two products named the same'),
  publish: new CredentialsError('no Swift credentials', 'set OS_AUTH_URL'),
  'cli-kit': new UsageError('--max must be a number'),
  'stream-ops': new StreamOpError('promote', 'no such version'),
  'maas-rules': new GpgvUnavailableError(new Error('spawn gpgv ENOENT')),
} as const;
type Library = keyof typeof errors;

const guards: Record<Library, (err: unknown) => boolean> = {
  http: isHttpTransportError,
  simplestreams: isSimplestreamsError,
  signer: isSignerError,
  orphans: isOrphansError,
  'di-crawler': isDiCrawlerError,
  'image-transform': isImageTransformError,
  publish: isPublishError,
  'cli-kit': isCliError,
  'stream-ops': isStreamOpsError,
  'maas-rules': isMaasRulesError,
};

describe('error guards', () => {
  it('isMephError accepts every library error and nothing else', () => {
    for (const err of Object.values(errors)) expect(isMephError(err), err.name).toBe(true);
    expect(isMephError(new Error('plain'))).toBe(false);
    expect(isMephError(Object.assign(new Error('x'), { hint: 'looks like one' }))).toBe(false);
  });

  it.each(Object.keys(guards) as Library[])('the %s guard accepts its own errors only', (library) => {
    for (const [owner, err] of Object.entries(errors)) expect(guards[library](err), `${library} guard on ${err.name}`).toBe(owner === library);
    expect(guards[library](new Error('plain'))).toBe(false);
  });

  it('isSimplestreamsError no longer accepts an orphans DurationError', () => {
    expect(isSimplestreamsError(new DurationError('3 days'))).toBe(false);
  });
});

describe('runCli prints every library error as one line', () => {
  const thrower = (err: unknown) =>
    defineCommand<object>({
      command: 'fail',
      describe: 'throws',
      examples: [['demo fail', 'throws']],
      builder: (y) => y,
      run: () => {
        throw err;
      },
    });
  const run = (err: unknown) => runCliCaptured(defineCli({ name: 'demo', version: '0', describe: 'demo', commands: [thrower(err)] }), ['fail']);

  it.each(Object.keys(errors) as Library[])('%s', async (library) => {
    const err = errors[library];
    const r = await run(err);
    expect(r.stderr).toBe(`demo: error: ${err.message}${err.hint ? ` (${err.hint})` : ''}\n`);
    expect(r.code).toBe(library === 'cli-kit' ? 2 : 1);
  });

  it('keeps a library-chosen exit code', async () => {
    expect((await run(new TargetError('ftp://x', 'unsupported scheme'))).code).toBe(2);
  });

  it('does not exit with the exit code of a tool that failed', async () => {
    // gpg exits 2 for most failures; meph's 2 means a usage error
    expect((await run(new GpgError('KEYID', 'signing failed', 2))).code).toBe(1);
    expect((await run(new CommandFailedError('mksquashfs', 3, 'FATAL ERROR: no space'))).code).toBe(1);
  });
});
