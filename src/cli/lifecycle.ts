/**
 * What a long-running command started, and how it all stops: Ctrl-C (SIGINT) or SIGTERM, or a --duration, closes
 * everything in reverse order of starting. Signals are caught from the moment the command begins, so one that lands
 * during start-up (Prometheus can take seconds) still shuts down cleanly instead of orphaning child processes.
 * A second signal, or one while already stopping, runs the synchronous last-resort cleanups and exits 130: a stuck shutdown never
 * holds the terminal. The last-resort cleanups (killing children, removing temp dirs) also run on any other exit.
 */
export class Lifecycle {
  readonly #cleanups: Array<() => Promise<void> | void> = [];
  readonly #lastResort: Array<() => void> = [];
  #signalled = false;
  #stopping = false;
  #closed = false;
  #wake: (() => void) | undefined;

  readonly #onExit = () => this.#runLastResort();
  readonly #onSignal = () => {
    if (this.#stopping || this.#signalled) {
      this.#runLastResort();
      process.exit(130);
    }
    this.#signalled = true;
    this.#wake?.();
  };

  constructor() {
    process.once('exit', this.#onExit);
    process.on('SIGINT', this.#onSignal);
    process.on('SIGTERM', this.#onSignal);
  }

  /**
   * Stops the run as a signal would. For stdout going away (a closed pipe: `demo | head`): nobody can read the
   * table any more, and an EPIPE must become a clean shutdown rather than a crash.
   */
  stopOn(stream: NodeJS.EventEmitter): void {
    stream.on('error', () => {
      this.#signalled = true;
      this.#wake?.();
    });
  }

  /** Runs at close(), before everything deferred earlier. */
  defer(cleanup: () => Promise<void> | void): void {
    this.#cleanups.push(cleanup);
  }

  /** Runs only if the process exits before close() finished: must be synchronous. */
  lastResort(cleanup: () => void): void {
    this.#lastResort.push(cleanup);
  }

  /** Resolves with what ended the run: a signal (also one received earlier), or the duration running out. */
  untilStopped(durationMs: number | undefined): Promise<'signal' | 'duration'> {
    return new Promise((resolve) => {
      const stop = (reason: 'signal' | 'duration') => {
        clearTimeout(timer);
        this.#wake = undefined;
        this.#stopping = true;
        resolve(reason);
      };
      const timer = durationMs === undefined ? undefined : setTimeout(() => stop('duration'), durationMs);
      this.#wake = () => stop('signal');
      if (this.#signalled) stop('signal');
    });
  }

  /** Closes everything, newest first; a failing cleanup does not stop the others. */
  async close(): Promise<void> {
    this.#stopping = true;
    const errors: unknown[] = [];
    while (this.#cleanups.length > 0) {
      try {
        await (this.#cleanups.pop() as () => Promise<void> | void)();
      } catch (error) {
        errors.push(error);
      }
    }
    this.#closed = true;
    process.removeListener('exit', this.#onExit);
    process.removeListener('SIGINT', this.#onSignal);
    process.removeListener('SIGTERM', this.#onSignal);
    if (errors.length > 0) throw new AggregateError(errors, 'some resources did not close cleanly');
  }

  #runLastResort(): void {
    if (this.#closed) return;
    for (const cleanup of this.#lastResort.splice(0)) {
      try {
        cleanup();
      } catch {
        // exiting anyway
      }
    }
  }
}
