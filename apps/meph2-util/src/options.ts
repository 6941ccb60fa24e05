/**
 * Options and plumbing shared by the stream-editing commands (insert, promote, clean-md, merge,
 * remove-version, copy-version, diff, patch, import).
 */
import path from 'node:path';
import type { Argv } from 'yargs';
import { isHttpUrl, resolveWriteTarget, type WriteTarget } from '@meph/simplestreams';
import { checkedSigning, publishCommit, withKeyringOptions, type CommandContext, type KeyringArgs } from '@meph/cli-kit';
import type { DocumentSigner } from '@meph/simplestreams';
import type { OpResult, OpsEvent } from '@meph/simplestreams/ops';

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
 * `withKeyringOptions` with `--keyring` taking exactly one file per occurrence, so
 * `--keyring K SRC TARGET` (the original's usage) does not swallow the positionals.
 */
export function withSourceKeyring<T>(y: Argv<T>): Argv<T & KeyringArgs> {
  return withKeyringOptions(y).nargs('keyring', 1);
}
