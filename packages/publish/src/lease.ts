import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { pidAlive } from '@meph/sys';
import { LeaseHeldError, LeaseLostError } from './errors.js';
import { md5Hex } from './hash.js';
import type { ObjectStore } from './store.js';

/** The lease object, beside (not inside) streams/: prune never touches it. */
export const LEASE_KEY = '.meph-publish.lease';

export interface LeaseRecord {
  owner: string;
  host: string;
  pid: number;
  acquired: string;
  expires: string;
}

export interface LeaseOptions {
  /** How long a lease is valid without renewal (default 10 min); an expired lease may be broken. */
  ttlMs?: number;
  /** How long to wait for another holder before failing (default 10 min). */
  waitMs?: number;
  /**
   * Pause between writing our lease and reading it back. Two writers can both pass the
   * exclusive-create check (Swift does not make If-None-Match atomic, S3 via s3api has no
   * conditional PUT at all); the later PUT wins and the loser sees the winner's owner on
   * read-back as long as both PUTs land within this window (default 500 ms).
   */
  settleMs?: number;
  onEvent?: (e: { type: 'lease-wait'; holder: string } | { type: 'lease-broken'; holder: string; reason: string } | { type: 'lease-acquired'; key: string }) => void;
  now?: () => number;
}

export function describeHolder(r: LeaseRecord): string {
  return `${r.host} pid ${r.pid}, since ${r.acquired}, expires ${r.expires}`;
}

function parseLease(bytes: Buffer | undefined): LeaseRecord | undefined {
  if (!bytes) return undefined;
  try {
    const r = JSON.parse(bytes.toString('utf8')) as LeaseRecord;
    return typeof r.owner === 'string' ? r : undefined;
  } catch {
    return undefined;
  }
}

/** The default pause between writing the lease and reading it back. */
export const DEFAULT_SETTLE_MS = 500;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class Lease {
  constructor(
    readonly store: ObjectStore,
    readonly record: LeaseRecord,
  ) {}

  /** Still ours and not expired (read from the store, not remembered). */
  async check(now = Date.now()): Promise<void> {
    const cur = parseLease(await this.store.get(LEASE_KEY));
    if (!cur) throw new LeaseLostError(this.store.label, 'the lease object is gone');
    if (cur.owner !== this.record.owner) throw new LeaseLostError(this.store.label, `now held by ${describeHolder(cur)}`);
    if (Date.parse(cur.expires) <= now) throw new LeaseLostError(this.store.label, `it expired at ${cur.expires}`);
  }

  /** Deletes the lease if it is still ours. */
  async release(): Promise<void> {
    const cur = parseLease(await this.store.get(LEASE_KEY).catch(() => undefined));
    if (cur?.owner === this.record.owner) await this.store.delete(LEASE_KEY).catch(() => false);
  }
}

/**
 * Takes the store's publishing lease: exclusive create, pause, read back, and only a read-back
 * showing our own owner id counts. A holder that expired, or that is a dead process on this
 * host, is broken. Waits with jittered back-off up to `waitMs`, then fails naming the holder.
 */
export async function acquireLease(store: ObjectStore, options: LeaseOptions = {}): Promise<Lease> {
  const ttl = options.ttlMs ?? 600_000;
  const waitMs = options.waitMs ?? 600_000;
  const settle = options.settleMs ?? DEFAULT_SETTLE_MS;
  const now = options.now ?? Date.now;
  const start = now();
  const host = os.hostname();
  let delay = 100;
  let lastHolder = 'unknown';
  for (;;) {
    const t = now();
    const record: LeaseRecord = { owner: randomUUID(), host, pid: process.pid, acquired: new Date(t).toISOString(), expires: new Date(t + ttl).toISOString() };
    const bytes = Buffer.from(`${JSON.stringify(record)}\n`);
    const created = await store.putNew(LEASE_KEY, { bytes, size: bytes.length, md5: md5Hex(bytes), contentType: 'application/json' });
    if (created === 'created') {
      if (settle > 0) await sleep(settle);
      const back = parseLease(await store.get(LEASE_KEY));
      if (back?.owner === record.owner) {
        options.onEvent?.({ type: 'lease-acquired', key: LEASE_KEY });
        return new Lease(store, record);
      }
      if (back) lastHolder = describeHolder(back);
    } else {
      const cur = parseLease(await store.get(LEASE_KEY));
      if (cur) {
        lastHolder = describeHolder(cur);
        const expired = Date.parse(cur.expires) <= now();
        const dead = cur.host === host && cur.pid !== process.pid && !pidAlive(cur.pid);
        if (expired || dead) {
          // Re-read right before deleting so a lease renewed or replaced meanwhile survives.
          const again = parseLease(await store.get(LEASE_KEY));
          if (again?.owner === cur.owner) {
            await store.delete(LEASE_KEY);
            options.onEvent?.({ type: 'lease-broken', holder: lastHolder, reason: expired ? 'expired' : 'its process is gone' });
          }
          continue;
        }
        options.onEvent?.({ type: 'lease-wait', holder: lastHolder });
      } else {
        // Unreadable or vanished between the create and the read: a stray object is treated as expired.
        const raw = await store.get(LEASE_KEY);
        if (raw !== undefined) await store.delete(LEASE_KEY);
        continue;
      }
    }
    if (now() - start > waitMs) throw new LeaseHeldError(store.label, lastHolder);
    await sleep(delay + Math.floor(Math.random() * delay));
    delay = Math.min(delay * 2, 2000);
  }
}
