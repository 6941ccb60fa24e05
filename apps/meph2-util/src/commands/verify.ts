import { defineCommand, UsageError, verifierFromArgs, withKeyringOptions, type CommandContext } from '@meph/cli-kit';
import type { VerifyFinding } from '@meph/publish/verify';

function humanLine(f: VerifyFinding): string {
  const head = f.check === 'maas' ? `${f.severity} maas ${f.rule} (MAAS ${f.maas.join('+')})` : `${f.severity} ${f.check}`;
  // Messages of typed errors already start with the file they are about.
  const body = !f.file || f.message.startsWith(f.file) ? f.message : `${f.file}: ${f.message}`;
  const coords = [f.check === 'maas' ? undefined : f.contentId, f.productId, f.version, f.item].filter((v) => typeof v === 'string' && v !== '');
  const tail = f.check === 'maas' && f.consequence ? ` → ${f.consequence}` : '';
  return `${head}: ${body}${coords.length ? ` [${coords.join(' ')}]` : ''}${tail}`;
}

function output(ctx: CommandContext, json: boolean, f: VerifyFinding): void {
  if (json) ctx.reporter.emit({ type: 'finding', ...f });
  else ctx.reporter.out(humanLine(f));
}

export const verifyCommand = defineCommand({
  reads: 'signed',
  fetches: true,
  command: 'verify <stream>',
  describe: 'Check a stream: every signature, that index and products agree, optionally every file (--data) and what MAAS would reject (--maas)',
  examples: [
    ['$0 verify --keyring ubuntu-cloudimage-keyring.gpg ./stable', 'signatures and index/products agreement of a local mirror'],
    ['$0 verify --keyring k.gpg --data --maas http://mirror.example/ephemeral-v3/stable/', 'also every file (size + checksums) and the MAAS 3.7/3.8 import rules'],
    ['$0 verify --no-verify --maas ./candidate', 'MAAS rules and consistency of an unsigned work-in-progress stream'],
    ['$0 verify --no-verify --maas --maas-lts resolute ./candidate', 'for a MAAS whose commissioning release was changed to resolute'],
    ['$0 verify --json --keyring k.gpg ./stable | jq -c "select(.type==\\"finding\\")"', 'one JSON object per finding'],
  ],
  epilog:
    'Exit status: 0 when nothing is wrong (warnings allowed), 1 when any check failed, 2 for bad usage. ' +
    'With --maas, rule R-FILTER-29 wants an amd64 image of the release the checked MAAS version commissions with: MAAS hard-codes it ' +
    '(noble for 3.7 and 3.8), so it is not taken from distro-info; --maas-lts RELEASE checks another one. ' +
    'Signatures made with SHA-1 or by RSA keys under 2048 bits are refused unless --allow-weak-signatures. ' +
    'A meph addition: the original meph2-util has no verify. See docs/compat.md.',
  builder: (y) =>
    withKeyringOptions(
      y
        .positional('stream', { type: 'string', demandOption: true, describe: 'Mirror root (directory or http(s) URL), an index, or one products file' })
        .option('data', { type: 'boolean', default: false, describe: "Also check every item's file: size and every checksum (streamed, in parallel)" })
        .option('maas', { type: 'boolean', default: false, describe: 'Also check every rule MAAS applies when importing the stream (maas-acceptance §3)' })
        .option('maas-version', { choices: ['3.7', '3.8', 'both'] as const, default: 'both' as const, describe: 'Which MAAS importer to check against with --maas' })
        .option('maas-lts', {
          type: 'string',
          requiresArg: true,
          describe: 'With --maas: the Ubuntu release (codename) MAAS commissions with; default what the checked MAAS version hard-codes (noble for 3.7 and 3.8)',
        })
        .option('jobs', { alias: 'j', type: 'number', default: 4, describe: 'Files checked in parallel with --data' }),
    ),
  async run(args, ctx) {
    if (!Number.isInteger(args.jobs) || args.jobs < 1) throw new UsageError(`--jobs must be a positive integer, not ${String(args.jobs)}`);
    if (args.maasLts !== undefined) {
      if (!args.maas) throw new UsageError('--maas-lts only applies to the MAAS checks', 'add --maas');
      if (!/^[a-z]+$/.test(args.maasLts)) throw new UsageError(`--maas-lts wants an Ubuntu codename such as "noble", not ${JSON.stringify(args.maasLts)}`);
    }
    const { verifier, policy } = await verifierFromArgs(args, ctx.env, ctx.cwd, ctx.reporter.warn);
    if (policy !== 'off' && !verifier)
      throw new UsageError('no keyring to check signatures with', 'give --keyring FILE (or set MEPH_KEYRING), or --no-verify to skip signature checks');

    const { verifyStreamFully } = await import('@meph/publish/verify');
    const { findings, summary } = await verifyStreamFully(args.stream, {
      ...(verifier ? { verifier } : {}),
      checkData: args.data,
      concurrency: args.jobs,
      ...(args.maas ? { maas: { version: args.maasVersion, ...(args.maasLts !== undefined ? { commissioningRelease: args.maasLts } : {}) } } : {}),
      cwd: ctx.cwd,
      signal: ctx.signal,
      env: ctx.env,
      onEvent: ctx.reporter.emit,
    });
    for (const f of findings) output(ctx, args.json, f);
    if (args.json) ctx.reporter.emit(summary);
    else {
      const parts = [
        `${summary.documents} document(s)`,
        policy === 'off' ? 'signatures not checked (--no-verify)' : `${summary.signaturesGood}/${summary.signaturesChecked} signature(s) good`,
        ...(summary.filesChecked !== undefined ? [`${summary.filesChecked} file(s) checked`] : []),
        ...(summary.maasFindings !== undefined ? [`${summary.maasFindings} MAAS finding(s)`] : []),
      ];
      ctx.reporter.out(`${summary.ok ? 'OK' : 'FAILED'}: ${args.stream}: ${parts.join(', ')}; ${summary.errors} error(s), ${summary.warnings} warning(s)`);
    }
    return summary.ok ? 0 : 1;
  },
});
