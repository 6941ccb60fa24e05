/** A counting semaphore whose waiters can be aborted. */
export class Semaphore {
  private active = 0;
  private readonly waiters: Array<() => void> = [];
  constructor(readonly size: number) {}

  get inUse(): number {
    return this.active;
  }

  /** Resolves with a release function once a slot is free; rejects when `signal` aborts first. */
  acquire(signal?: AbortSignal): Promise<() => void> {
    signal?.throwIfAborted();
    if (this.active < this.size) {
      this.active++;
      return Promise.resolve(this.releaser());
    }
    return new Promise((resolve, reject) => {
      const wake = (): void => {
        signal?.removeEventListener('abort', onAbort);
        this.active++;
        resolve(this.releaser());
      };
      const onAbort = (): void => {
        const i = this.waiters.indexOf(wake);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(signal!.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(wake);
    });
  }

  /** Frees the slot taken just before; a second call does nothing. */
  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active--;
      this.waiters.shift()?.();
    };
  }
}

/** One semaphore per key (origin), made on first use. */
export class KeyedLimiter {
  private readonly byKey = new Map<string, Semaphore>();
  constructor(readonly size: number) {}
  for(key: string): Semaphore {
    let s = this.byKey.get(key);
    if (!s) this.byKey.set(key, (s = new Semaphore(this.size)));
    return s;
  }
}
