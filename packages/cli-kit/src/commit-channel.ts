import { channel } from 'node:diagnostics_channel';

/**
 * The `meph:commit` diagnostics channel: every file a command commits (a data file, a products
 * file, the index, a published object), in order, as `{ kind, path, count }` with `count` the
 * operation's running total. For tracing with node:diagnostics_channel, and the crash-safety
 * tests (@meph/test-support's crash-after preload kills the process after the N-th). Publishing
 * costs nothing while nobody subscribes.
 */
export const COMMIT_CHANNEL = 'meph:commit';

export interface CommitMessage {
  kind: string;
  path: string;
  count: number;
}

const commits = channel(COMMIT_CHANNEL);

/** Announces one committed file on {@link COMMIT_CHANNEL}; pass it as a library's `onCommit`. */
export function publishCommit(kind: string, path: string, count: number): void {
  if (commits.hasSubscribers) commits.publish({ kind, path, count } satisfies CommitMessage);
}
