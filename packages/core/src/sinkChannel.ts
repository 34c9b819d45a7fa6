import type { Logger } from 'pino';
import type { ResolvedSinkDelivery } from './config.js';
import { PermanentError, RetryableError, StrataError, describeError } from './errors.js';
import type { Interaction } from './interaction.js';
import { sleep, withTimeout } from './timeout.js';
import type { Sink } from './types.js';

export interface SinkCounters {
  /** Events the sink accepted. */
  delivered: number;
  /** Failed attempts (each retry of a batch counts once). */
  failures: number;
  retries: number;
  /** Events given up on: permanent failures, attempts exhausted, backlog overflow, or left at shutdown. */
  dropped: number;
  /** Events waiting for this sink now. */
  backlog: number;
  /** Age in ms of the oldest waiting event's batch; 0 when idle. */
  lagMs: number;
}

/**
 * Delivers committed batches to one sink, in order, off the ingest path. Failures are retried with
 * exponential backoff and jitter; the backlog is bounded and every event given up on is counted.
 */
export class SinkChannel {
  private readonly batches: Array<{ events: readonly Interaction[]; enqueuedAt: number }> = [];
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;
  private idleWaiters: Array<() => void> = [];
  private readonly stats = { delivered: 0, failures: 0, retries: 0, dropped: 0, backlog: 0 };

  constructor(
    readonly sink: Sink,
    private readonly delivery: ResolvedSinkDelivery,
    private readonly logger: Logger,
    private readonly now: () => number,
  ) {}

  counters(): SinkCounters {
    const oldest = this.batches[0];
    return { ...this.stats, lagMs: oldest ? Math.max(0, this.now() - oldest.enqueuedAt) : 0 };
  }

  enqueue(events: readonly Interaction[]): void {
    if (this.abort.signal.aborted || events.length === 0) return;
    this.batches.push({ events, enqueuedAt: this.now() });
    this.stats.backlog += events.length;
    // Over the bound, the oldest batches go (not the newest): a consumer that recovers sees fresh data.
    // The batch being delivered (index 0 while running) is never dropped from under the sink.
    const firstDroppable = this.running ? 1 : 0;
    while (this.stats.backlog > this.delivery.maxBacklog && this.batches.length > firstDroppable + 1) {
      const [dropped] = this.batches.splice(firstDroppable, 1);
      this.drop(dropped!.events.length, `backlog above ${this.delivery.maxBacklog} events`);
    }
    this.running ??= this.run();
  }

  /** Resolves when the backlog is empty. */
  whenIdle(): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops delivering; whatever is still waiting is counted as dropped. */
  close(): void {
    if (this.abort.signal.aborted) return;
    this.abort.abort();
    const left = this.batches.splice(0).reduce((sum, batch) => sum + batch.events.length, 0);
    if (left > 0) this.drop(left, 'still waiting at shutdown');
    this.settleIdle();
  }

  private drop(count: number, why: string): void {
    this.stats.dropped += count;
    this.stats.backlog = Math.max(0, this.stats.backlog - count);
    this.logger.warn({ dropped: count, totalDropped: this.stats.dropped }, `${this.sink.name}: dropped ${count} event(s): ${why}`);
  }

  private async run(): Promise<void> {
    try {
      while (this.batches.length > 0 && !this.abort.signal.aborted) {
        const batch = this.batches[0]!;
        const delivered = await this.deliver(batch.events);
        if (this.batches[0] === batch) this.batches.shift();
        if (this.abort.signal.aborted) break;
        this.stats.backlog = Math.max(0, this.stats.backlog - batch.events.length);
        if (delivered) this.stats.delivered += batch.events.length;
      }
    } finally {
      this.running = undefined;
      this.settleIdle();
    }
  }

  private settleIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** True when delivered; false when given up on (already counted as dropped). */
  private async deliver(events: readonly Interaction[]): Promise<boolean> {
    for (let attempt = 1; ; attempt += 1) {
      const attemptAbort = new AbortController();
      const onClose = () => attemptAbort.abort();
      this.abort.signal.addEventListener('abort', onClose, { once: true });
      try {
        await withTimeout(
          Promise.resolve().then(() => this.sink.consume(events, attemptAbort.signal)),
          this.delivery.timeoutMs,
          () => new RetryableError(`${this.sink.name}: consume did not finish within ${this.delivery.timeoutMs} ms`),
        );
        return true;
      } catch (error) {
        attemptAbort.abort();
        if (this.abort.signal.aborted) return false;
        this.stats.failures += 1;
        if (error instanceof PermanentError) {
          this.dropFailed(events.length, `permanent failure: ${describeError(error)}`);
          return false;
        }
        if (attempt >= this.delivery.maxAttempts) {
          this.dropFailed(events.length, `gave up after ${attempt} attempts: ${describeError(error)}`);
          return false;
        }
        const delay = this.backoff(attempt, error);
        this.logger.warn(
          { attempt, retryInMs: delay, err: error instanceof StrataError ? error.message : describeError(error) },
          `${this.sink.name}: delivery failed; retrying`,
        );
        this.stats.retries += 1;
        await sleep(delay, this.abort.signal);
      } finally {
        this.abort.signal.removeEventListener('abort', onClose);
      }
    }
  }

  private dropFailed(count: number, why: string): void {
    // The batch is removed by run(); only the counters and the log change here.
    this.stats.dropped += count;
    this.logger.error({ dropped: count, totalDropped: this.stats.dropped }, `${this.sink.name}: dropped ${count} event(s): ${why}`);
  }

  private backoff(attempt: number, error: unknown): number {
    if (error instanceof RetryableError && error.retryAfterMs !== undefined) return error.retryAfterMs;
    const exponential = Math.min(this.delivery.maxBackoffMs, this.delivery.initialBackoffMs * 2 ** (attempt - 1));
    // Full jitter keeps many processes from retrying in lockstep against one server.
    return Math.round(exponential / 2 + (Math.random() * exponential) / 2);
  }
}
