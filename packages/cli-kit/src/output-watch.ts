/**
 * How writing a command's output (stdout) went, learnt from the stream's 'error' events:
 * output goes to pipes, and a pipe's reader may go away before the end (`meph2-util query … |
 * head`), which makes the next write fail with EPIPE, asynchronously. Without a listener that
 * failure would be an uncaught exception; with this one it is an exit status (see runCli).
 */
export interface OutputWatch {
  /** The reader closed its end (EPIPE): nothing more can be written, and nobody wants it. */
  readonly readerGone: boolean;
  /** Any other failure writing the output (a full disk, an I/O error). */
  readonly failure: NodeJS.ErrnoException | undefined;
  /** Stops watching; a stream that failed stays watched, as later writes (the reporter's last lines) fail too. */
  dispose(): void;
}

export function watchOutput(stream: NodeJS.WritableStream): OutputWatch {
  let readerGone = false;
  let failure: NodeJS.ErrnoException | undefined;
  const onError = (err: NodeJS.ErrnoException): void => {
    if (readerGone || failure) return; // (a write after the first failure fails again)
    if (err.code === 'EPIPE') readerGone = true;
    else failure = err;
  };
  stream.on('error', onError);
  return {
    get readerGone() {
      return readerGone;
    },
    get failure() {
      return failure;
    },
    dispose() {
      if (!readerGone && !failure) stream.off('error', onError);
    },
  };
}
