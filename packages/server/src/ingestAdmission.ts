import { OverloadedError } from './httpErrors.js';

export interface IngestAdmissionLimits {
  /** Admission stops while this many events wait for the hot tier. */
  maxQueuedEvents: number;
  /** Requests processed at once. */
  maxConcurrent: number;
  /** The core pipeline's own bound (`pipeline.maxQueue`): a batch that would cross it is refused whole. */
  pipelineMaxQueue: number;
  retryAfterSeconds: number;
}

export interface IngestAdmissionCounters {
  /** Ingest requests being processed now. */
  inFlight: number;
  /** Requests refused with 429 since start, by reason. */
  refusedQueue: number;
  refusedConcurrency: number;
}

/**
 * Decides whether an ingest request may proceed, before its body is read, so a flood costs a
 * header parse per request rather than memory: the events waiting for the hot tier
 * (`strata.metrics().queued`) must be below `maxQueuedEvents`, and fewer than `maxConcurrent`
 * requests may be in progress. A refused request gets 429 with `Retry-After`.
 */
export class IngestAdmission {
  private inFlight = 0;
  private refusedQueue = 0;
  private refusedConcurrency = 0;

  constructor(
    private readonly limits: IngestAdmissionLimits,
    private readonly queued: () => number,
  ) {}

  /** Takes a slot or throws OverloadedError; the caller must `release()` once the request ends. */
  admit(): void {
    if (this.inFlight >= this.limits.maxConcurrent) {
      this.refusedConcurrency += 1;
      throw new OverloadedError(
        `${this.inFlight} ingest requests are in progress (the limit is ${this.limits.maxConcurrent}); retry after ${this.limits.retryAfterSeconds} s, or send fewer, larger batches`,
        this.limits.retryAfterSeconds,
      );
    }
    const queued = this.queued();
    if (queued >= this.limits.maxQueuedEvents) {
      this.refusedQueue += 1;
      throw new OverloadedError(
        `${queued} events are waiting for the hot tier (the bound is ${this.limits.maxQueuedEvents}); retry after ${this.limits.retryAfterSeconds} s`,
        this.limits.retryAfterSeconds,
      );
    }
    this.inFlight += 1;
  }

  /**
   * Checked again once the batch is parsed, just before its events are queued (nothing runs in
   * between): a batch that would push the core's queue past its own bound is refused whole,
   * rather than having its tail rejected event by event.
   */
  assertRoomFor(events: number): void {
    const queued = this.queued();
    if (queued + events > this.limits.pipelineMaxQueue) {
      this.refusedQueue += 1;
      throw new OverloadedError(
        `${events} events would not fit: ${queued} are waiting for the hot tier and the pipeline holds at most ${this.limits.pipelineMaxQueue}; retry after ${this.limits.retryAfterSeconds} s`,
        this.limits.retryAfterSeconds,
      );
    }
  }

  release(): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
  }

  counters(): IngestAdmissionCounters {
    return { inFlight: this.inFlight, refusedQueue: this.refusedQueue, refusedConcurrency: this.refusedConcurrency };
  }
}
