/**
 * Options and plumbing shared by the stream-editing commands (insert, promote, clean-md, merge,
 * remove-version, copy-version, diff, patch, import).
 */
import path from 'node:path';
import type { Argv } from 'yargs';
import { isHttpUrl, resolveWriteTarget, type WriteTarget } from '@meph/simplestreams';
import { checkedSigning, checkSigningArgs, publishCommit, signIfWanted, withSigningOptions, type CommandContext, type SigningArgs } from '@meph/cli-kit';
import type { DocumentSigner } from '@meph/simplestreams';
import type { OpResult, OpsEvent } from '@meph/stream-ops';

export interface WriteArgs {
  dryRun: boolean;
  waitLock: boolean;
}

/** `-n/--dry-run` and `--wait-lock`, for every command that changes a stream. */
export function withWriteOptions<T>(y: Argv<T>): Argv<T & WriteArgs> {
  return y
    .option('dry-run', { alias: 'n', type: 'boolean', default: false, describe: 'Print what would change and change nothing (no file, no lock, no signature)' })
    .option('wait-lock', {
      type: 'boolean',
      default: false,
      describe: 'If another writer holds the stream lock, wait for it instead of failing with its pid',
    }) as unknown as Argv<T & WriteArgs>;
}

/** `withWriteOptions` plus the signing flags: the options of every command that edits a stream. */
export function withStreamEditOptions<T>(y: Argv<T>): Argv<T & WriteArgs & SigningArgs> {
  return withSigningOptions(withWriteOptions(y));
}

/** A `--keyring` the original accepted on commands that read no signed input: hidden, unused. */
export function withUnusedKeyring<T>(y: Argv<T>): Argv<T & { keyring?: string }> {
  return y.option('keyring', { type: 'string', hidden: true, describe: 'Accepted for compatibility; unused (the stream is read from its own index.json)' });
}

/** The options of remove-version and copy-version: DATA_D, the version positionals `versions` adds, the trailing filters, the edit options. */
export function withVersionEditOptions<T, U>(y: Argv<T>, versions: (y: Argv<T & { data_d: string }>) => Argv<U>) {
  return withStreamEditOptions(withFilters(withUnusedKeyring(versions(y.positional('data_d', { type: 'string', demandOption: true, describe: 'Stream directory' })))));
}

export interface FilterArgs {
  filters?: string[];
}

/** The trailing simplestreams filters (`key=value`, `key!=value`, `key~regex`, `key!~regex`). */
export function withFilters<T>(y: Argv<T>, name = 'filters'): Argv<T & FilterArgs> {
  return y.positional(name, {
    type: 'string',
    array: true,
    describe: 'Simplestreams filters: key=value, key!=value, key~regex, key!~regex (all must match)',
  }) as unknown as Argv<T & FilterArgs>;
}

/** A local path resolved against the command's cwd; URLs stay as they are. */
export function location(ctx: Pick<CommandContext, 'cwd'>, where: string): string {
  return isHttpUrl(where) ? where : path.resolve(ctx.cwd, where);
}

/**
 * The mirror root a command writes to, from a directory or a `…/streams/v1/<name>.json|.sjson`
 * path (the original's target forms); a URL or another file is one clear error.
 */
export function writeTarget(ctx: Pick<CommandContext, 'cwd'>, where: string, command: string, options: { mustExist?: boolean } = {}): Promise<WriteTarget> {
  return resolveWriteTarget(where, { cwd: ctx.cwd, command, ...options });
}

/**
 * The I/O options every ops call takes, from the parsed flags. When `checkSigningArgs` has
 * proved a key for these args, the operation signs what it writes and commits each document
 * together with its `.sjson`/`.json.gpg`.
 */
export function opIo(args: WriteArgs, ctx: CommandContext): {
  dryRun: boolean;
  waitForLock: boolean;
  onEvent: (e: OpsEvent) => void;
  signal: AbortSignal;
  onCommit: (kind: 'data' | 'products' | 'index', rel: string, count: number) => void;
  signer?: DocumentSigner;
} {
  const signing = args.dryRun ? undefined : checkedSigning(args);
  return {
    dryRun: Boolean(args.dryRun),
    waitForLock: Boolean(args.waitLock),
    onEvent: (e) => ctx.reporter.emit(e),
    signal: ctx.signal,
    onCommit: publishCommit,
    ...(signing ? { signer: signing.documentSigner } : {}),
  };
}

/** One human summary line of what an operation did (or would do). */
export function summarize(name: string, result: OpResult, dryRun: boolean): string {
  const counts = new Map<string, number>();
  for (const e of result.plan.events) counts.set(e.type, (counts.get(e.type) ?? 0) + 1);
  const parts = [...counts].map(([type, n]) => `${n} ${type}`);
  const files = dryRun ? `${new Set(result.plan.copies.map((c) => c.to)).size} data file(s) to place` : `${result.copied} data file(s) copied`;
  const what = parts.length ? parts.join(', ') : 'nothing to change';
  return `${name}: ${dryRun ? '(dry run) ' : ''}${what}; ${files}${!dryRun && result.changed ? '; metadata written' : ''}`;
}

/**
 * The body every stream-editing command shares: prove the signing key (unless a dry run),
 * resolve the target, run the operation, print its summary line, then sign what it changed.
 */
export async function runStreamEdit(
  name: string,
  args: WriteArgs & Partial<SigningArgs>,
  ctx: CommandContext,
  where: string,
  op: (target: WriteTarget, io: ReturnType<typeof opIo>) => Promise<OpResult>,
  options: { mustExist?: boolean } = {},
): Promise<void> {
  if (!args.dryRun) await checkSigningArgs(args, ctx);
  const target = await writeTarget(ctx, where, name, options);
  const result = await op(target, opIo(args, ctx));
  ctx.reporter.info(summarize(name, result, args.dryRun));
  if (!args.dryRun) await signIfWanted(args, target.root, ctx);
}
