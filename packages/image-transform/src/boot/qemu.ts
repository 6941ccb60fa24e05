import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import type { BootTestError } from '../errors.js';
import { dieWithParent, killGroup } from '../pipeline/exec.js';

export interface QemuRunOptions {
  qemu: string;
  args: readonly string[];
  /** Where the whole serial console is written (default: kept in memory only). */
  consoleFile?: string;
  signal?: AbortSignal;
  timeoutMs: number;
  timeoutMessage: () => string;
  /** Fail when neither console output nor {@link QemuSession.progress} was seen for this long. */
  stallMs?: number;
  stallMessage?: () => string;
  /** The error for a failure the session itself sees (timeout, stall, abort, QEMU not startable). */
  failure: (message: string, hint?: string) => BootTestError;
  /** Reads the console after every chunk QEMU prints: marks stages, calls pass() or fail(). */
  onConsole: (session: QemuSession) => void;
}

/**
 * One QEMU boot watched on its serial console: started in its own process group (killed with
 * its parent), a whole-run timeout, an optional stall timeout, abort, the console kept (last
 * 256 KiB) and logged, and the first failure recorded. `bootTest` and `pxeBootTest` differ only
 * in what they start and what they look for on the console.
 */
export class QemuSession {
  private buffer = '';
  private failure: BootTestError | undefined;
  private passed = false;
  private t0 = performance.now();
  private lastProgress = performance.now();
  private pid: number | undefined;

  /** Seconds since QEMU started, to a tenth. */
  elapsed(): number {
    return Math.round((performance.now() - this.t0) / 100) / 10;
  }

  /** The console so far (its last 256 KiB), without carriage returns. */
  text(): string {
    return this.buffer.replace(/\r/g, '');
  }

  /** The console's last 40 lines without terminal escapes, for error messages. */
  tail(): string {
    return this.text().replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').split('\n').slice(-40).join('\n');
  }

  /** Something moved (e.g. an HTTP transfer to the guest): resets the stall timeout. */
  progress(): void {
    this.lastProgress = performance.now();
  }

  get hasPassed(): boolean {
    return this.passed;
  }

  /** The boot showed what it had to: later failures are ignored; QEMU gets 2 s to power off by itself. */
  pass(): void {
    this.passed = true;
    setTimeout(() => this.kill(), 2000).unref();
  }

  /** Records the first failure (none once the boot passed) and kills QEMU. */
  fail(error: BootTestError): void {
    if (!this.failure && !this.passed) this.failure = error;
    this.kill();
  }

  kill(): void {
    killGroup(this.pid, 'SIGKILL');
  }

  /** Runs QEMU until it exits or is killed; throws the abort reason or the first failure. */
  async run(o: QemuRunOptions): Promise<void> {
    this.t0 = performance.now();
    this.progress();
    const [file, argv] = dieWithParent(o.qemu, [...o.args]);
    const child = spawn(file, argv, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.pid = child.pid;
    const log = o.consoleFile ? createWriteStream(o.consoleFile) : undefined;
    const done = new Promise<void>((resolve) => {
      const onData = (d: Buffer) => {
        this.progress();
        log?.write(d);
        this.buffer = (this.buffer + d.toString('utf8')).slice(-256 * 1024);
        o.onConsole(this);
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.on('error', (e) => {
        this.fail(o.failure(`cannot start ${o.qemu}: ${e.message}`, 'install qemu-system-x86'));
        resolve();
      });
      child.on('close', () => resolve());
    });
    const timer = setTimeout(() => this.fail(o.failure(o.timeoutMessage())), o.timeoutMs);
    const stallMs = o.stallMs;
    const stallTimer =
      stallMs === undefined
        ? undefined
        : setInterval(() => {
            if (performance.now() - this.lastProgress > stallMs) this.fail(o.failure(o.stallMessage?.() ?? `no progress for ${Math.round(stallMs / 1000)} s`));
          }, 1000);
    const onAbort = () => this.fail(o.failure('boot test aborted'));
    o.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await done;
    } finally {
      clearTimeout(timer);
      clearInterval(stallTimer);
      o.signal?.removeEventListener('abort', onAbort);
      this.kill();
      log?.end();
    }
    if (o.signal?.aborted) throw o.signal.reason;
    if (this.failure) throw this.failure;
  }
}
