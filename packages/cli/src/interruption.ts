import type { CliIo } from './commandContext.js';

export type StopSignal = 'SIGINT' | 'SIGTERM';

/** Exit codes of a command stopped by a signal: 128 + the signal's number, as shells report it. */
export const SIGNAL_EXIT_CODES: Record<StopSignal, number> = { SIGINT: 130, SIGTERM: 143 };

/** A scope in which SIGINT/SIGTERM ask a long command to stop cleanly instead of killing the process. */
export interface Interruption {
  readonly signal: AbortSignal;
  /** The signal that arrived, if one did. */
  readonly received: StopSignal | undefined;
  /** Runs when the first signal arrives (e.g. to close the input so reading stops at once). */
  onInterrupt(listener: () => void): void;
  dispose(): void;
}

/**
 * The first signal aborts; the command then stops reading, writes what it accepted, closes and
 * exits 130/143. A second signal means the user does not want to wait: exit at once (SQLite's
 * journal keeps what was committed intact, and a re-run stores the rest).
 */
export function watchInterruption(io: CliIo): Interruption {
  const controller = new AbortController();
  const listeners: Array<() => void> = [];
  let received: StopSignal | undefined;
  const handlers = new Map<StopSignal, () => void>();
  for (const name of ['SIGINT', 'SIGTERM'] as const) {
    const handler = () => {
      if (received) {
        io.stderr.write(`\nstrata: ${name} again; exiting without waiting for the flush\n`);
        process.exit(SIGNAL_EXIT_CODES[name]);
      }
      received = name;
      io.stderr.write(`\nstrata: ${name} received; finishing the events already read (press Ctrl-C again to exit at once)\n`);
      controller.abort();
      for (const listener of listeners) listener();
    };
    handlers.set(name, handler);
  }
  if (io.handleSignals !== false) for (const [name, handler] of handlers) process.on(name, handler);
  return {
    signal: controller.signal,
    get received() {
      return received;
    },
    onInterrupt(listener) {
      if (received) listener();
      else listeners.push(listener);
    },
    dispose() {
      for (const [name, handler] of handlers) process.off(name, handler);
    },
  };
}
