/**
 * Preloaded (`node --import`) by runAppProcess({ crashAfter: N }) for the crash-safety tests:
 * SIGKILLs the process right after its N-th committed file, as a power cut would. The commands
 * announce each committed file (data, products, index, bookkeeping, published object) on the
 * `meph:commit` diagnostics channel (@meph/cli-kit `publishCommit`); this is the only
 * subscriber that kills, and it exists only in this never-published package.
 */
import { subscribe } from 'node:diagnostics_channel';

const n = Number(process.env['MEPH_TEST_CRASH_AFTER']);
if (!Number.isInteger(n) || n < 1) throw new Error(`crash-after: MEPH_TEST_CRASH_AFTER must be a positive integer, not ${process.env['MEPH_TEST_CRASH_AFTER']}`);
subscribe('meph:commit', (message) => {
  // `count`: the operation's own count of committed files (1 for its first)
  if ((message as { count: number }).count >= n) process.kill(process.pid, 'SIGKILL');
});
