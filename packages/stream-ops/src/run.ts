import type { StreamSource } from '@meph/simplestreams';
import type { DocumentSigner } from '@meph/simplestreams';
import { executePlan, underTargetLock, type ExecuteOptions, type ExecuteResult } from './execute.js';
import type { OpsEventSink, StreamPlan } from './plan.js';
import { loadTargetStream, type ProductsFile } from './streams.js';

/** I/O options every stream-editing operation takes. */
export interface OpIoOptions {
  /** Report what would change, change nothing (not even a lock file). */
  dryRun?: boolean;
  onEvent?: OpsEventSink;
  signal?: AbortSignal;
  onCommit?: ExecuteOptions['onCommit'];
  /** Wait for another writer's lock instead of failing with its pid. */
  waitForLock?: boolean;
  /** Create the target directory if missing (operations that can start a new stream). */
  createTarget?: boolean;
  concurrency?: number;
  /** Sign what is written: each products file and the index land together with their `.sjson`/`.json.gpg`. */
  signer?: DocumentSigner;
}

export interface OpResult extends ExecuteResult {
  plan: StreamPlan;
  /** The target's metadata changed (or would, in a dry run). */
  changed: boolean;
}

/**
 * Locks the target, reads it, plans against what is actually there, and executes the plan:
 * reading inside the lock is what keeps two writers from losing each other's changes.
 */
export async function runOnTarget(
  targetRoot: string,
  io: OpIoOptions,
  makePlan: (target: ProductsFile[]) => Promise<{ plan: StreamPlan; source?: StreamSource }> | { plan: StreamPlan; source?: StreamSource },
): Promise<OpResult> {
  const dryRun = Boolean(io.dryRun);
  return underTargetLock(
    targetRoot,
    { dryRun, wait: Boolean(io.waitForLock), create: Boolean(io.createTarget) },
    async (lock) => {
      const target = await loadTargetStream(targetRoot);
      const { plan, source } = await makePlan(target);
      const executed = await executePlan(plan, targetRoot, {
        dryRun,
        known: target,
        ...(source ? { source } : {}),
        ...(io.onEvent ? { onEvent: io.onEvent } : {}),
        ...(io.signal ? { signal: io.signal } : {}),
        ...(io.onCommit ? { onCommit: io.onCommit } : {}),
        ...(io.concurrency ? { concurrency: io.concurrency } : {}),
        ...(io.signer ? { signer: io.signer } : {}),
        ...(lock ? { lock } : {}),
      });
      return { ...executed, plan, changed: plan.changes.length > 0 || executed.indexWritten };
    },
  );
}
