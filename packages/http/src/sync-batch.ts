import { statSync } from 'node:fs';
import path from 'node:path';
import { fsyncDir, fsyncFile } from '@meph/sys';
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
  private readonly files: string[] = [];
  private readonly limit: Semaphore;
  private readonly syncfs: boolean;
  private failure: Error | undefined;
  /** Files synced so far (for tests and benchmarks). */
  synced = 0;

  /**
   * `syncfs` (default on Linux): nothing happens per file; `flush` runs syncfs(2) (coreutils
   * `sync -f`) once per file system the files are on: one journal commit instead of one per
   * file. Otherwise each added file is fsynced in the background, `concurrency` at a time
   * (default 2: each occupies one of libuv's four pool threads, which the downloads need too).
   */
  constructor(options: number | { concurrency?: number; syncfs?: boolean } = {}) {
    const o = typeof options === 'number' ? { concurrency: options, syncfs: false } : options;
    this.limit = new Semaphore(Math.max(1, o.concurrency ?? 2));
    this.syncfs = o.syncfs ?? process.platform === 'linux';
  }

  /** Queues `file` (already renamed into place) for fsync; its directory is synced at `flush`. */
  add(file: string): void {
    this.dirs.add(path.dirname(file));
    if (this.syncfs) {
      this.files.push(file);
      return;
    }
    const p = (async () => {
      const release = await this.limit.acquire();
      try {
        await fsyncFile(file);
        this.synced++;
      } finally {
        release();
      }
    })().catch((err: unknown) => {
      this.failure ??= err instanceof Error ? err : new Error(String(err));
    });
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  /** Resolves once every added file and its directory are on stable storage; rejects with the first failure. */
  async flush(): Promise<void> {
    if (this.syncfs) return this.flushFileSystems();
    while (this.pending.size) await Promise.all([...this.pending]);
    if (this.failure) throw this.failure;
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

  private async flushFileSystems(): Promise<void> {
    const files = this.files.splice(0);
    const dirs = [...this.dirs];
    this.dirs.clear();
    // one directory per file system (a target may reach a shared pool on another one)
    const byDevice = new Map<number, string>();
    // one stat per directory, synchronous: a mirror of small files adds thousands of directories
    // and each thread-pool round trip costs more than the stat of a directory just written
    for (const d of dirs) {
      const { dev } = statSync(d);
      if (!byDevice.has(dev)) byDevice.set(dev, d);
    }
    try {
      for (const d of byDevice.values()) await syncFileSystem(d);
      this.synced += files.length;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      // no `sync` binary: one fsync per file and directory
      const fallback = new SyncBatch({ concurrency: this.limit.size, syncfs: false });
      for (const f of files) fallback.add(f);
      await fallback.flush();
      this.synced += fallback.synced;
    }
  }
}

/** syncfs(2) of the file system holding `dir`, through coreutils `sync -f` (Node has no binding). */
async function syncFileSystem(dir: string): Promise<void> {
  // Loaded on first use: every stream command imports this package, few sync (start-up, issue 14).
  const { execFile } = await import('node:child_process');
  return new Promise((resolve, reject) => {
    execFile('sync', ['-f', dir], (err, _stdout, stderr) => {
      if (!err) return resolve();
      const e = err as NodeJS.ErrnoException; // execFile's error type is an Omit<> of it
      if (e.code === 'ENOENT') return reject(e);
      reject(new Error(`sync -f ${dir} failed: ${String(stderr).trim() || err.message}`, { cause: err }));
    });
  });
}
