import type { Argv } from 'yargs';
import { defineCommand, DOCUMENT_LIMITS_HELP, formatBytes, publishCommit, SIGNATURE_POLICY_HELP, UsageError, verifierFromArgs, withKeyringOptions, type CommandContext, type KeyringArgs } from '@meph/cli-kit';

interface PublishArgs extends KeyringArgs {
  streamDir: string;
  target: string;
  prefix?: string;
  prune: boolean;
  older: string;
  jobs: number;
  dryRun: boolean;
  replace: boolean;
  publicRead: boolean;
  leaseWait: string;
}

const TARGETS = 'swift://CONTAINER[/PREFIX] (Swift native API), s3://BUCKET[/PREFIX] (AWS SDK) or file://DIR';

const EPILOG = [
  'Order: the stream is verified first (signatures with --keyring, every file\'s size and checksums); nothing is published unless it',
  'verifies. Data objects are created, never overwritten: an object already there with the same MD5 and size is skipped, one with other',
  'bytes stops the publish with a conflict before any metadata changes. Then, holding the store\'s lease (.meph-publish.lease), products',
  'files, their signatures, the index and its signatures are written in that order and read back. Readers see the previous stream until',
  'the index changes; a publish killed at any point leaves it readable, and a rerun skips what is already there.',
  '',
  'Concurrent publishers: index writers take turns through the lease (waiting up to --lease-wait). A publisher whose unsigned stream',
  'lacks versions the store has (another host published since) merges them into what it writes and checks after writing that both',
  'its versions and the others\' are published; a signed stream cannot be re-signed here, so it stops with a clear error and changes',
  'nothing (bring the versions in with meph2-util insert, sign, publish again), unless --replace. See the README "Publish" section.',
  '',
  '--prune removes objects no published index references, only when last modified more than --older ago (d/h/m/s tokens summed, e.g.',
  '1d12h; a bare number is days; as reap-orphans), and never a signature (.sjson/.gpg) of a live file.',
  '',
  'Credentials come from the environment, never the command line. Swift: ST_AUTH/ST_USER/ST_KEY (tempauth, v1), or Keystone v3 from',
  'OS_AUTH_URL, OS_USERNAME, OS_PASSWORD, OS_PROJECT_NAME, OS_USER_DOMAIN_NAME, OS_PROJECT_DOMAIN_NAME, OS_REGION_NAME (or',
  'OS_APPLICATION_CREDENTIAL_ID/_SECRET, or OS_STORAGE_URL + OS_AUTH_TOKEN). S3: the AWS SDK\'s standard chain (AWS_ACCESS_KEY_ID,',
  'AWS_SECRET_ACCESS_KEY, AWS_PROFILE, instance roles), AWS_REGION; AWS_ENDPOINT_URL_S3 (or AWS_ENDPOINT_URL) selects an on-premises',
  'endpoint with path-style addressing.',
  '',
  'Differs from the original ss-swift on purpose: it also uploads .sjson/.json.gpg signatures and never deletes them for live files (ss-swift',
  'deleted every signature [BUG fixed]); it deletes nothing unless --prune, and then only after the grace period (ss-swift deleted every',
  'unlisted object at once); it never overwrites a data object with other bytes; it verifies the stream first; it refuses to drop versions',
  'another publisher added (ss-swift overwrote the metadata). All differences: docs/compat.md.',
  '',
  SIGNATURE_POLICY_HELP,
  DOCUMENT_LIMITS_HELP,
].join('\n');

function withPublishOptions<T>(y: Argv<T>): Argv<T & PublishArgs> {
  return withKeyringOptions(
    y
      .option('prefix', { type: 'string', requiresArg: true, describe: 'Publish under this path inside the container/bucket (joined after any prefix in the URL)' })
      .option('prune', { type: 'boolean', default: false, describe: 'After publishing, delete objects no published index references (see --older)' })
      .option('older', { type: 'string', default: '3d', requiresArg: true, describe: 'Grace period for --prune: only objects last modified longer ago (e.g. 3d, 12h, 1d12h, 0)' })
      .option('jobs', { alias: 'j', type: 'number', default: 8, requiresArg: true, describe: 'Parallel uploads (and file checks)' })
      .option('dry-run', { alias: 'n', type: 'boolean', default: false, describe: 'Print what would be uploaded, written and pruned; write nothing (no lease either)' })
      .option('replace', { type: 'boolean', default: false, describe: "Publish even if the store has versions this stream lacks, dropping them from the store's metadata (ss-swift's behaviour)" })
      .option('public-read', { type: 'boolean', default: false, describe: 'Swift: make the container world-readable (X-Container-Read: .r:*,.rlistings) so MAAS can read it' })
      .option('lease-wait', { type: 'string', default: '10m', requiresArg: true, describe: 'How long to wait for another publisher\'s lease before giving up (duration as --older)' }),
  ) as unknown as Argv<T & PublishArgs>;
}

async function runPublish(args: PublishArgs & { json: boolean }, ctx: CommandContext, target: string): Promise<number> {
  const { parseDuration } = await import('@meph/orphans');
  const olderMs = parseDuration(String(args.older));
  const leaseWaitMs = parseDuration(String(args.leaseWait));
  if (!args.prune && args.older !== '3d') throw new UsageError('--older only applies with --prune', 'add --prune, or drop --older');
  const { verifier, policy } = await verifierFromArgs(args, ctx.env, ctx.cwd, ctx.reporter.warn);
  const { publishToTarget } = await import('@meph/publish');
  const verb = args.dryRun ? 'would upload' : 'uploaded';
  let lastHolder = '';
  const result = await publishToTarget({
    streamDir: args.streamDir,
    target,
    ...(args.prefix ? { prefix: args.prefix } : {}),
    jobs: args.jobs,
    dryRun: args.dryRun,
    replace: args.replace,
    publicRead: args.publicRead,
    ...(verifier ? { verifier } : {}),
    policy,
    ...(args.prune ? { pruneOlderThanMs: olderMs } : {}),
    lease: { waitMs: leaseWaitMs },
    env: ctx.env,
    cwd: ctx.cwd,
    signal: ctx.signal,
    onCommit: publishCommit,
    onEvent: (e) => {
      if (args.json) return ctx.reporter.emit(e);
      switch (e.type) {
        case 'progress':
          return ctx.reporter.emit(e);
        case 'object-uploaded':
          if (e.kind === 'metadata' || args.dryRun) ctx.reporter.info(`${verb} ${e.key} (${e.bytes} bytes)`);
          return;
        case 'object-pruned':
          return ctx.reporter.info(`${args.dryRun ? 'would prune' : 'pruned'} ${e.key} (last modified ${e.lastModified})`);
        case 'lease-wait':
          if (e.holder === lastHolder) return;
          lastHolder = e.holder;
          return ctx.reporter.info(`waiting (up to ${args.leaseWait}) for the publishing lease held by ${e.holder}`);
        case 'merged':
          return ctx.reporter.info(`merged ${e.versions} version(s) another publisher landed meanwhile (${e.examples.join(', ')}${e.versions > e.examples.length ? ', …' : ''})`);
        case 'lease-broken':
          return ctx.reporter.warn(`broke a stale publishing lease (${e.reason}): ${e.holder}`);
        case 'stream-verified':
          return ctx.reporter.info(`verified ${e.stream}: ${e.documents} document(s), ${e.files} data file(s)`);
        default:
          return;
      }
    },
  });
  ctx.reporter.info(
    `publish: ${args.dryRun ? '(dry run) ' : ''}${result.storeLabel}: ${verb} ${result.uploaded.length} data object(s) (${formatBytes(result.bytes)}), ` +
      `${result.skipped.length} already there, ${result.metadata.length} metadata file(s) ${args.dryRun ? 'to write' : 'written'}` +
      (args.prune ? `, ${result.pruned.length} ${args.dryRun ? 'would be ' : ''}pruned` : '') +
      (result.readUrl ? `; readers use ${result.readUrl}` : ''),
  );
  return 0;
}

export const publishCommand = defineCommand({
  command: 'publish <stream-dir> <target>',
  describe: 'Upload a local stream to OpenStack Swift, S3 or a directory: data first, index last, never a half-written stream (successor of ss-swift)',
  examples: [
    ['ST_AUTH=… ST_USER=… ST_KEY=… $0 publish --keyring k.gpg ./stable swift://images/ephemeral-v3/stable', 'publish to a Swift container under a prefix'],
    ['AWS_ENDPOINT_URL_S3=https://rgw.example:8443 $0 publish --keyring k.gpg ./stable s3://maas-images/stable', 'publish to an on-premises S3 (path-style)'],
    ['$0 publish --prune --older 7d --keyring k.gpg ./stable swift://images', 'also delete objects unreferenced for a week'],
    ['$0 publish -n --json --no-verify ./daily file:///srv/mirror/daily', 'show what would be uploaded, as JSON events'],
  ],
  epilog: `TARGET is ${TARGETS}.\n\n${EPILOG}`,
  builder: (y) =>
    withPublishOptions(
      y
        .positional('stream-dir', { type: 'string', demandOption: true, describe: 'Local stream root (holds streams/v1/index.json)' })
        .positional('target', { type: 'string', demandOption: true, describe: TARGETS }),
    ),
  run: (args, ctx) => runPublish(args, ctx, String(args.target)),
});

export const ssSwiftCommand = defineCommand({
  command: 'ss-swift <path> <container>',
  describe: "The original ss-swift's argument order: publish PATH to the Swift CONTAINER (same as publish PATH swift://CONTAINER)",
  examples: [
    ['$0 ss-swift --prefix ephemeral-v3/daily --keyring k.gpg ./daily maas-images', 'as `ss-swift --prefix ephemeral-v3/daily ./daily maas-images` did'],
  ],
  epilog: `Every flag of publish applies.\n\n${EPILOG}`,
  builder: (y) =>
    withPublishOptions(
      y
        .positional('path', { type: 'string', demandOption: true, describe: 'Local stream root' })
        .positional('container', { type: 'string', demandOption: true, describe: 'Swift container name' }),
    ),
  run: async (args, ctx) => {
    const { swiftContainerTarget } = await import('@meph/publish');
    return runPublish({ ...args, streamDir: String(args.path) }, ctx, swiftContainerTarget(String(args.container)));
  },
});
