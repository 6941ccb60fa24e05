import { open } from 'node:fs/promises';
import path from 'node:path';
import { Semaphore } from './limiter.js';

/**
 * Makes many renamed-into-place files durable together instead of one fsync + directory fsync
 * per file inside each download. `add` starts syncing a file in the background (a few at a time,
 * so the journal commits of concurrent fsyncs are shared); `flush` waits for every file and then
 * syncs each directory once (the renames). A caller must `flush` before it commits anything that
 * references the files (a products document, an index); until then, after a power loss, a file
 * may be missing or short, so only bytes verified again may be trusted (see the mirror's rerun).
 */
export class SyncBatch {
  private readonly pending = new Set<Promise<void>>();
  private readonly dirs = new Set<string>();
  private readonly limit: Semaphore;
  private failure: unknown;
  /** Files synced so far (for tests and benchmarks). */
  synced = 0;

  /**
   * `concurrency` fsyncs at a time (default 2): each occupies one of libuv's four pool threads,
   * and the downloads still need the others for their opens, writes and renames.
   */
  constructor(concurrency = 2) {
    this.limit = new Semaphore(Math.max(1, concurrency));
  }

  /** Queues `file` (already renamed into place) for fsync; its directory is synced at `flush`. */
  add(file: string): void {
    this.dirs.add(path.dirname(file));
    const p = (async () => {
      const release = await this.limit.acquire();
      try {
        await fsyncPath(file);
        this.synced++;
      } finally {
        release();
      }
    })().catch((err: unknown) => {
      this.failure ??= err;
    });
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  /** Resolves once every added file and its directory are on stable storage; rejects with the first fsync failure. */
  async flush(): Promise<void> {
    while (this.pending.size) await Promise.all([...this.pending]);
    if (this.failure !== undefined) throw this.failure;
    const dirs = [...this.dirs];
    this.dirs.clear();
    await Promise.all(
      dirs.map(async (d) => {
        const release = await this.limit.acquire();
        try {
          await fsyncDir(d);
        } finally {
          release();
        }
      }),
    );
  }
}

async function fsyncPath(file: string): Promise<void> {
  const h = await open(file, 'r');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

export async function fsyncDir(dir: string): Promise<void> {
  const h = await open(dir, 'r');
  try {
    await h.sync();
  } catch (err) {
    // some file systems cannot fsync a directory; the rename is still atomic
    if ((err as NodeJS.ErrnoException).code !== 'EINVAL' && (err as NodeJS.ErrnoException).code !== 'EISDIR') throw err;
  } finally {
    await h.close();
  }
}
