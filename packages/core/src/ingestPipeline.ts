import type { Logger } from 'pino';
import type { ResolvedPipeline } from './config.js';
import type { DeadLetterStore, EventSource } from './deadLetterStore.js';
import { QueueFullError, StopError, StorageError, StrataError, ValidationError, describeError, toError } from './errors.js';
import type { Interaction } from './interaction.js';
import { SinkChannel, type SinkCounters } from './sinkChannel.js';
import { sleep, withTimeout } from './timeout.js';
import type { Processor, Sink, StorageTier } from './types.js';

/** What happened to one event once the hot tier answered. */
export type RecordOutcome = { eventId: string; status: 'stored' | 'duplicate' };

/** Counts for one ingest run (a file, a request). */
export interface IngestTally {
  accepted: number;
  stored: number;
  duplicates: number;
  rejected: number;
  /** Valid events the hot tier could not store after retries (they are in the dead-letter store). */
  failed: number;
  deadLetter: number;
}

/**
 * Where a queued event came from. A line of a file keeps the file and line number as they are:
 * its EventSource is built only if the event is dead-lettered, not once per queued line.
 */
type Origin = { source: EventSource } | { file: string; line: number };

/**
 * The caller's original text, kept only when it came as a line, for the dead-letter file: the
 * string, or (for a line of an ASCII chunk, see LineBatch) where it is in the chunk's bytes, which
 * the garbage collector does not copy.
 */
type Original = { original?: string } | { bytes: Buffer; start: number; end: number };

type QueueEntry = Origin &
  Original & {
    event: Interaction;
    tally?: IngestTally;
    waiter?: { resolve(outcome: RecordOutcome): void; reject(error: Error): void };
  };

function sourceOf(entry: QueueEntry): EventSource {
  return 'source' in entry ? entry.source : { kind: 'file', file: entry.file, line: entry.line };
}

/** The text the dead-letter file keeps: the original line, or the event itself when it came through the API. */
function originalOf(entry: QueueEntry): string {
  if ('bytes' in entry) return entry.bytes.toString('latin1', entry.start, entry.end);
  return entry.original ?? JSON.stringify(entry.event);
}

export interface PipelineCounters {
  /** Valid events committed by the hot tier, duplicates included. */
  accepted: number;
  /** Rows newly stored. */
  stored: number;
  /** Events whose eventId was already stored. */
  duplicates: number;
  /** Events refused by validation or a processor. */
  rejected: number;
  /** Events dropped because the queue was full (`record` only; `recordStrict` rejects instead). */
  dropped: number;
  /** Events waiting for the hot tier now. */
  queued: number;
  /** Hot-tier writes that failed (each attempt counts once). */
  writeFailures: number;
  /** Entries written to the dead-letter store. */
  deadLettered: number;
  /** Duration of the last hot-tier batch write, in ms. */
  lastBatchWriteMs: number;
  sinks: Record<string, SinkCounters>;
}

const MAX_WRITE_ATTEMPTS = 5;
/** Batches in flight when neither the config nor the hot tier says. */
const DEFAULT_BATCHES_IN_FLIGHT = 2;
/** Events a processor is given at once; the host's event loop runs between slices. */
const PROCESSOR_SLICE_EVENTS = 256;
/** A processor's slices run back to back until this long has passed, then the loop gets a turn. */
const YIELD_AFTER_MS = 1;

/** A macrotask boundary: timers, I/O and requests queued meanwhile run before the caller goes on. */
function yieldToHost(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve));
}

/**
 * validate (caller) → queue → processors → hot tier (commit = ack) → sinks.
 * Up to `maxBatchesInFlight` batches are written at a time; a batch is cut at `maxBatchSize` events or after `maxBatchDelayMs`.
 */
export class IngestPipeline {
  private queue: QueueEntry[] = [];
  /** Queued entries whose caller awaits the outcome (recordStrict). */
  private waitersQueued = 0;
  private head = 0;
  private timer: NodeJS.Timeout | undefined;
  private draining: Promise<void> | undefined;
  /** The oldest queued event has waited maxBatchDelayMs: the next batch may be partial. */
  private partialDue = false;
  /** flushQueue() calls in progress; while any runs, partial batches are written. */
  private forcing = 0;
  private roomWaiters: Array<{ below: number; resolve: () => void }> = [];
  /** Wakes the drain loop while it waits, when a write finishes or the queue can fill a batch. */
  private wakeDrain: (() => void) | undefined;
  /** The config's `maxBatchesInFlight`, else what the hot tier asks for, else 2. */
  private readonly batchesInFlight: number;
  private readonly channels: SinkChannel[];
  private closed = false;
  private readonly stopRetries = new AbortController();
  private readonly stats = { accepted: 0, stored: 0, duplicates: 0, rejected: 0, dropped: 0, writeFailures: 0, lastBatchWriteMs: 0 };

  constructor(
    private readonly options: ResolvedPipeline,
    private readonly hot: StorageTier,
    private readonly processors: readonly Processor[],
    sinks: readonly Sink[],
    private readonly deadLetters: DeadLetterStore,
    private readonly logger: Logger,
    private readonly now: () => number,
    /** Called with each batch's newly stored events after the commit (the system monitor counts sessions). */
    private readonly onCommitted?: (events: readonly Interaction[]) => void | Promise<void>,
  ) {
    this.batchesInFlight = options.maxBatchesInFlight ?? hot.batchesInFlight ?? DEFAULT_BATCHES_IN_FLIGHT;
    this.channels = sinks.map(
      (sink) => new SinkChannel(sink, { ...options.sinkDefaults, ...options.sinks[sink.name] }, logger.child({ sink: sink.name }), now),
    );
  }

  get size(): number {
    return this.queue.length - this.head;
  }

  counters(): PipelineCounters {
    const sinks: Record<string, SinkCounters> = {};
    for (const channel of this.channels) sinks[channel.sink.name] = channel.counters();
    return { ...this.stats, queued: this.size, deadLettered: this.deadLetters.written, sinks };
  }

  /** Counts an event refused before it reached the queue and records it in the dead-letter store. */
  reject(source: EventSource, original: string, reason: string, issues?: { path: string; message: string }[], tally?: IngestTally): void {
    this.stats.rejected += 1;
    this.deadLetters.append({ source, reason, original, ...(issues ? { issues } : {}) });
    if (tally) {
      tally.rejected += 1;
      tally.deadLetter += 1;
    }
  }

  /** Queues a valid event. Returns false (and counts a drop) when the queue is full and there is no waiter to tell. */
  enqueue(entry: QueueEntry): boolean {
    if (this.size >= this.options.maxQueue) {
      if (entry.waiter) {
        entry.waiter.reject(new QueueFullError(this.options.maxQueue));
        return false;
      }
      this.stats.dropped += 1;
      if (this.stats.dropped === 1 || this.stats.dropped % 10_000 === 0) {
        this.logger.warn({ dropped: this.stats.dropped, maxQueue: this.options.maxQueue }, `ingest queue full: dropped ${this.stats.dropped} event(s) so far`);
      }
      return false;
    }
    this.queue.push(entry);
    if (entry.waiter) this.waitersQueued += 1;
    if (this.size >= this.options.maxBatchSize) this.kick();
    else this.armTimer();
    // A recordStrict caller is awaiting this event: the timer that writes it must keep the process
    // alive (a script whose only work is that await would otherwise exit before the write).
    if (this.waitersQueued > 0) this.timer?.ref();
    return true;
  }

  /** Resolves once fewer than `below` events are queued: how streaming ingest stays at flat memory. */
  waitForRoom(below: number): Promise<void> {
    if (this.size < below) return Promise.resolve();
    const room = new Promise<void>((resolve) => this.roomWaiters.push({ below, resolve }));
    this.kick();
    return room;
  }

  /** Writes everything queued so far, then waits for sinks to catch up (bounded by their retry policy). */
  async flush(): Promise<void> {
    await this.flushQueue();
    await Promise.all(this.channels.map((channel) => channel.whenIdle()));
  }

  /** Stops accepting, writes what is queued, and gives sinks until the deadline to catch up. */
  async close(deadline: number): Promise<void> {
    this.closed = true;
    const remaining = () => Math.max(0, deadline - this.now());
    await this.flushQueueBefore(deadline);
    // The wait is cancelled once sinks are idle, so no timer outlives close() and holds the process open.
    const gaveUp = new AbortController();
    await Promise.race([Promise.all(this.channels.map((channel) => channel.whenIdle())), sleep(remaining(), gaveUp.signal)]);
    gaveUp.abort();
    this.stopRetries.abort();
    for (const channel of this.channels) channel.close();
    // A sink whose flush or close hangs must not hold shutdown past its deadline.
    const results = await Promise.allSettled(
      this.channels.map((channel) =>
        withTimeout(
          Promise.resolve()
            .then(() => channel.sink.flush?.())
            .finally(() => channel.sink.close?.()),
          remaining(),
          () => new StrataError('STRATA_DEADLINE_EXCEEDED', `${channel.sink.name}: flush and close did not finish before the shutdown deadline; raise shutdownTimeoutMs or check what the sink waits for`),
        ),
      ),
    );
    const errors = results.flatMap((result, index) => {
      if (result.status === 'fulfilled') return [];
      const name = this.channels[index]!.sink.name;
      const error = toError(result.reason);
      return [error.message.startsWith(`${name}:`) ? error : new StrataError('STRATA_STOP_FAILED', `${name}: ${error.message}`, { cause: error })];
    });
    if (errors.length > 0) throw new StopError(errors);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Full batches are written at once; a partial batch only when its oldest event has waited
   * `maxBatchDelayMs`, a flush asks for it, or a streaming ingest waits for room. Writing whatever
   * happens to be queued would cut batches at the size of each input chunk (about 100 events),
   * and the per-transaction cost would dominate.
   */
  private readyToWrite(): boolean {
    const size = this.size;
    if (size >= this.options.maxBatchSize) return true;
    return size > 0 && (this.partialDue || this.forcing > 0 || this.roomWaiters.length > 0 || this.closed);
  }

  private armTimer(): void {
    if (this.timer || this.size === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.partialDue = true;
      this.kick();
    }, this.options.maxBatchDelayMs);
    if (this.waitersQueued === 0) this.timer.unref();
  }

  private clearTimer(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  private kick(): void {
    if (!this.readyToWrite()) {
      this.armTimer();
      return;
    }
    this.wakeDrain?.();
    this.draining ??= this.drainLoop().finally(() => {
      this.draining = undefined;
      if (this.readyToWrite()) this.kick();
      else this.armTimer();
    });
  }

  /** Resolves once everything queued so far has an outcome (stored, duplicate or dead-lettered). */
  async flushQueue(): Promise<void> {
    this.forcing += 1;
    try {
      while (this.size > 0 || this.draining) {
        this.kick();
        await this.draining;
      }
    } finally {
      this.forcing -= 1;
    }
  }

  /**
   * Like flushQueue, but gives up at the deadline: what is still queued then goes to the
   * dead-letter store (replaying it is safe, since eventIds make writes idempotent).
   */
  private async flushQueueBefore(deadline: number): Promise<void> {
    const gaveUp = new AbortController();
    const finished = this.flushQueue().then(() => true);
    const timedOut = sleep(Math.max(0, deadline - this.now()), gaveUp.signal).then(() => false);
    const done = await Promise.race([finished, timedOut]);
    gaveUp.abort();
    if (done) return;
    const left = this.take(this.size);
    if (left.length === 0) return;
    this.logger.error({ events: left.length }, `the hot tier did not take ${left.length} queued event(s) before the shutdown deadline; they are in the dead-letter store`);
    this.failEntries(left, 'not written to the hot tier before the shutdown deadline', undefined);
  }

  /**
   * Writes batches, keeping up to `maxBatchesInFlight` in flight: while the hot tier commits one
   * (on its writer thread), the next ones are prepared and handed over, so the writer never waits
   * for the host thread and can commit the batches it finds queued together. A tier that writes
   * inline simply runs them one after the other.
   */
  private async drainLoop(): Promise<void> {
    const inFlight = new Set<Promise<void>>();
    for (;;) {
      if (inFlight.size < this.batchesInFlight && this.readyToWrite()) {
        const batch = this.take(this.options.maxBatchSize);
        if (batch.length < this.options.maxBatchSize) this.partialDue = false;
        const write: Promise<void> = this.writeBatch(batch).finally(() => {
          inFlight.delete(write);
          this.releaseRoom();
          this.wakeDrain?.();
        });
        inFlight.add(write);
        continue;
      }
      if (inFlight.size === 0) return;
      // Until a write finishes or the queue fills another batch: a free slot is used at once, so
      // a writer that commits several queued batches together (hot-sqlite's thread) has them.
      await new Promise<void>((resolve) => (this.wakeDrain = resolve));
      this.wakeDrain = undefined;
      // Yield between batches so the host's own work (requests, timers) interleaves with a long ingest.
      await yieldToHost();
    }
  }

  private take(count: number): QueueEntry[] {
    const end = Math.min(this.queue.length, this.head + count);
    const batch = this.queue.slice(this.head, end);
    for (const entry of batch) if (entry.waiter) this.waitersQueued -= 1;
    this.head = end;
    // Room is about what waits in the queue: a streaming ingest reads on while batches are written.
    this.releaseRoom();
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
      this.partialDue = false;
      this.clearTimer();
    } else if (this.head >= 1_024 && this.head * 2 >= this.queue.length) {
      // Taken entries must not stay reachable from the queue: during a file ingest it never
      // empties, and up to 65,536 stored events were held here (35 MB of a 1M-line ingest's peak).
      // Compacting once half the array is taken copies each entry at most once more.
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return batch;
  }

  private releaseRoom(): void {
    if (this.roomWaiters.length === 0) return;
    const still: typeof this.roomWaiters = [];
    for (const waiter of this.roomWaiters) {
      if (this.size < waiter.below) waiter.resolve();
      else still.push(waiter);
    }
    this.roomWaiters = still;
  }

  private async writeBatch(entries: QueueEntry[]): Promise<void> {
    let live = entries;
    // Processors see the batch in order; each may drop events with a reason.
    for (const processor of this.processors) {
      try {
        live = await this.runProcessor(processor, live);
      } catch (error) {
        this.failEntries(live, `processor ${processor.name} failed: ${describeError(error)}`, error);
        return;
      }
    }
    // One pass over the batch: raw network identifiers never reach storage (a privacy processor
    // turns them into keyed hashes first), and a repeated eventId inside one batch is a duplicate
    // of its first occurrence.
    const seen = new Set<string>();
    const unique: QueueEntry[] = [];
    const events: Interaction[] = [];
    const repeats: QueueEntry[] = [];
    for (const entry of live) {
      const event = entry.event;
      // userAgent first: deleting the last-added property keeps V8's fast object shape (~10× cheaper).
      delete event.userAgent;
      delete event.ipAddress;
      // One hash lookup rather than has() then add(): the Set grew unless the id was there.
      const known = seen.size;
      seen.add(event.eventId);
      if (seen.size === known) repeats.push(entry);
      else {
        unique.push(entry);
        events.push(event);
      }
    }
    if (unique.length === 0) return;

    let lastError: unknown;
    for (let attempt = 1; attempt <= MAX_WRITE_ATTEMPTS; attempt += 1) {
      const started = performance.now();
      try {
        const result = await this.hot.writeInteractions(events);
        this.stats.lastBatchWriteMs = performance.now() - started;
        const duplicateIds = result.duplicates > 0 ? new Set(result.duplicateIds) : undefined;
        const stored = duplicateIds ? events.filter((event) => !duplicateIds.has(event.eventId)) : events;
        await this.notifyCommitted(stored);
        for (const entry of unique) this.settle(entry, duplicateIds?.has(entry.event.eventId) ? 'duplicate' : 'stored');
        for (const entry of repeats) this.settle(entry, 'duplicate');
        for (const channel of this.channels) channel.enqueue(stored);
        return;
      } catch (error) {
        lastError = error;
        this.stats.writeFailures += 1;
        this.logger.error({ err: describeError(error), attempt, events: events.length }, `hot tier write failed (attempt ${attempt} of ${MAX_WRITE_ATTEMPTS})`);
        if (attempt < MAX_WRITE_ATTEMPTS && !this.stopRetries.signal.aborted) await sleep(100 * 2 ** (attempt - 1), this.stopRetries.signal);
      }
    }
    this.failEntries([...unique, ...repeats], `hot tier write failed: ${describeError(lastError)}`, lastError);
  }

  /**
   * Runs a processor over a batch in slices of PROCESSOR_SLICE_EVENTS, yielding to the host's event
   * loop between slices: scrubbing 1,500 events in one go held the loop for 1.5 ms on average and up
   * to 8 ms, which an HTTP server in the same process saw as request latency.
   */
  private async runProcessor(processor: Processor, entries: QueueEntry[]): Promise<QueueEntry[]> {
    if (entries.length <= PROCESSOR_SLICE_EVENTS) return this.runProcessorSlice(processor, entries);
    const kept: QueueEntry[] = [];
    let ranSince = performance.now();
    for (let start = 0; start < entries.length; start += PROCESSOR_SLICE_EVENTS) {
      if (start > 0 && performance.now() - ranSince >= YIELD_AFTER_MS) {
        await yieldToHost();
        ranSince = performance.now();
      }
      for (const entry of await this.runProcessorSlice(processor, entries.slice(start, start + PROCESSOR_SLICE_EVENTS))) kept.push(entry);
    }
    return kept;
  }

  private async runProcessorSlice(processor: Processor, entries: QueueEntry[]): Promise<QueueEntry[]> {
    const result = await processor.process(entries.map((entry) => entry.event));
    return this.applyProcessorResult(processor.name, entries, result.events, result.rejected ?? []);
  }

  /** Observers of committed batches (monitor, cache invalidation) must never turn a commit into a failure. */
  private async notifyCommitted(stored: readonly Interaction[]): Promise<void> {
    if (!this.onCommitted || stored.length === 0) return;
    try {
      await this.onCommitted(stored);
    } catch (error) {
      this.logger.warn({ err: describeError(error) }, 'a committed-batch observer failed; the batch is stored');
    }
  }

  private settle(entry: QueueEntry, status: RecordOutcome['status']): void {
    this.stats.accepted += 1;
    if (status === 'stored') this.stats.stored += 1;
    else this.stats.duplicates += 1;
    if (entry.tally) {
      entry.tally.accepted += 1;
      if (status === 'stored') entry.tally.stored += 1;
      else entry.tally.duplicates += 1;
    }
    entry.waiter?.resolve({ eventId: entry.event.eventId, status });
  }

  private applyProcessorResult(
    processorName: string,
    entries: QueueEntry[],
    kept: Interaction[],
    rejected: Array<{ event: Interaction; reason: string }>,
  ): QueueEntry[] {
    if (rejected.length === 0 && kept.length === entries.length) {
      // The common case: same events, possibly transformed in place or replaced one for one.
      kept.forEach((event, index) => (entries[index]!.event = event));
      return entries;
    }
    // Several entries may share an eventId (the same event sent twice in one batch): each is matched once, in order.
    const byId = new Map<string, QueueEntry[]>();
    for (const entry of entries) {
      const same = byId.get(entry.event.eventId);
      if (same) same.push(entry);
      else byId.set(entry.event.eventId, [entry]);
    }
    const claim = (eventId: string): QueueEntry | undefined => {
      const same = byId.get(eventId);
      const entry = same?.shift();
      if (same?.length === 0) byId.delete(eventId);
      return entry;
    };
    for (const { event, reason } of rejected) {
      const entry = claim(event.eventId);
      if (entry) this.rejectEntry(entry, `${processorName}: ${reason}`);
    }
    const next: QueueEntry[] = [];
    for (const event of kept) {
      const entry = claim(event.eventId);
      if (!entry) continue;
      entry.event = event;
      next.push(entry);
    }
    // An event a processor neither kept nor rejected would vanish silently; treat it as rejected.
    for (const same of byId.values()) for (const entry of same) this.rejectEntry(entry, `${processorName}: dropped without a reason`);
    return next;
  }

  private rejectEntry(entry: QueueEntry, reason: string): void {
    this.reject(sourceOf(entry), originalOf(entry), reason, undefined, entry.tally);
    // A processor refusing an event is a verdict on the event, not a storage failure.
    entry.waiter?.reject(new ValidationError([{ path: '', message: reason }]));
  }

  /** Nothing accepted is lost: events that cannot be stored go to the dead-letter store with the reason. */
  private failEntries(entries: QueueEntry[], reason: string, cause: unknown): void {
    for (const entry of entries) {
      this.deadLetters.append({ source: sourceOf(entry), reason, original: originalOf(entry) });
      if (entry.tally) {
        entry.tally.failed += 1;
        entry.tally.deadLetter += 1;
      }
      entry.waiter?.reject(new StorageError(reason, { cause }));
    }
  }
}
