import { PermanentError, RetryableError, StopError, StrataError, type Interaction, type Sink } from '@strata/core';
import { describe, expect, it, vi } from 'vitest';
import { gate, interaction, interactions, openStrata } from './fixtures.js';

/** A sink that keeps what it was given and runs `behaviour` before accepting each batch. */
function recordingSink(name: string, behaviour: (batch: readonly Interaction[], attempt: number, signal: AbortSignal) => void | Promise<void> = () => undefined) {
  const delivered: string[][] = [];
  let attempts = 0;
  const sink: Sink & { delivered: string[][]; signals: AbortSignal[] } = {
    name,
    delivered,
    signals: [],
    async consume(batch, signal) {
      attempts += 1;
      sink.signals.push(signal);
      await behaviour(batch, attempts, signal);
      delivered.push(batch.map((event) => event.eventId));
    },
  };
  return sink;
}

const hangForever = () => new Promise<void>(() => undefined);
const fastRetries = { initialBackoffMs: 2, maxBackoffMs: 10 };

describe('sinks', () => {
  it('receive each committed batch, without the events the hot tier already had', async () => {
    const sink = recordingSink('audit');
    const { strata } = await openStrata({ extras: { sinks: [sink] } });
    await strata.recordStrict(interaction({ eventId: 'a' }));
    strata.record(interaction({ eventId: 'a' }));
    strata.record(interaction({ eventId: 'b' }));
    await strata.flush();
    expect(sink.delivered).toEqual([['a'], ['b']]);
    expect(strata.metrics().sinks.audit).toMatchObject({ delivered: 2, failures: 0, dropped: 0, backlog: 0, lagMs: 0 });
  });

  it('retry a RetryableError with backoff until the batch is delivered', async () => {
    const sink = recordingSink('flaky', (_batch, attempt) => {
      if (attempt <= 2) throw new RetryableError('flaky: connection reset');
    });
    const { strata } = await openStrata({ extras: { sinks: [sink] }, pipeline: { sinkDefaults: fastRetries } });
    for (const event of interactions(3)) strata.record(event);
    await strata.flush();
    expect(sink.delivered).toEqual([['e-0', 'e-1', 'e-2']]);
    expect(strata.metrics().sinks.flaky).toMatchObject({ delivered: 3, failures: 2, retries: 2, dropped: 0 });
  });

  it('retry a plain Error as retryable', async () => {
    const sink = recordingSink('plain', (_batch, attempt) => {
      if (attempt === 1) throw new Error('socket hang up');
    });
    const { strata } = await openStrata({ extras: { sinks: [sink] }, pipeline: { sinkDefaults: fastRetries } });
    strata.record(interaction({ eventId: 'x' }));
    await strata.flush();
    expect(sink.delivered).toEqual([['x']]);
  });

  it('wait the retryAfterMs a RetryableError carries instead of the backoff', async () => {
    const sink = recordingSink('rate-limited', (_batch, attempt) => {
      if (attempt === 1) throw new RetryableError('rate-limited: 429', { retryAfterMs: 1 });
    });
    // With the backoff (a minute) the flush below could not finish within the test timeout.
    const { strata } = await openStrata({ extras: { sinks: [sink] }, pipeline: { sinkDefaults: { initialBackoffMs: 60_000, maxBackoffMs: 60_000 } } });
    strata.record(interaction({ eventId: 'later' }));
    await strata.flush();
    expect(sink.delivered).toEqual([['later']]);
  });

  it('never block hot-tier writes, even when a sink hangs forever', async () => {
    const sink = recordingSink('black-hole', hangForever);
    const { strata, tier } = await openStrata({
      extras: { sinks: [sink] },
      pipeline: { maxBatchSize: 5, sinkDefaults: { timeoutMs: 60_000 } },
      shutdownTimeoutMs: 200,
    });
    const outcomes = await Promise.all(interactions(20).map((event) => strata.recordStrict(event)));
    expect(outcomes.every((outcome) => outcome.status === 'stored')).toBe(true);
    expect(tier.rows.size).toBe(20);
    expect(strata.metrics().sinks['black-hole']).toMatchObject({ delivered: 0, backlog: 20 });
  });

  it('count what a hanging sink still holds as dropped when close gives up on it', async () => {
    const sink = recordingSink('black-hole', hangForever);
    const { strata } = await openStrata({ extras: { sinks: [sink] }, pipeline: { sinkDefaults: { timeoutMs: 60_000 } }, shutdownTimeoutMs: 100 });
    await strata.recordStrict(interaction({ eventId: 'held' }));
    await strata.close();
    expect(strata.metrics().sinks['black-hole']).toMatchObject({ delivered: 0, dropped: 1, backlog: 0 });
    expect(sink.signals[0]?.aborted).toBe(true);
  });

  it('time out a consume call after timeoutMs, abort its signal, and let the pipeline flush complete', async () => {
    const sink = recordingSink('slow', hangForever);
    const { strata, tier } = await openStrata({
      extras: { sinks: [sink] },
      pipeline: { maxBatchSize: 5, sinkDefaults: { timeoutMs: 20, maxAttempts: 2, ...fastRetries } },
    });
    for (const event of interactions(10)) strata.record(event);
    await strata.flush();
    expect(tier.rows.size).toBe(10);
    expect(strata.metrics().sinks.slow).toMatchObject({ delivered: 0, failures: 4, retries: 2, dropped: 10, backlog: 0 });
    expect(sink.signals).toHaveLength(4);
    expect(sink.signals.every((signal) => signal.aborted)).toBe(true);
  });

  it('drop and count a batch that fails with a PermanentError, then deliver the next one', async () => {
    const sink = recordingSink('strict', (batch) => {
      if (batch.some((event) => event.eventId === 'poison')) throw new PermanentError('strict: schema mismatch');
    });
    const { strata } = await openStrata({ extras: { sinks: [sink] }, pipeline: { sinkDefaults: fastRetries } });
    await strata.recordStrict(interaction({ eventId: 'poison' }));
    await strata.flush();
    await strata.recordStrict(interaction({ eventId: 'fine' }));
    await strata.flush();
    expect(sink.delivered).toEqual([['fine']]);
    expect(strata.metrics().sinks.strict).toMatchObject({ delivered: 1, failures: 1, retries: 0, dropped: 1 });
  });

  it('give up on a batch after maxAttempts and count it as dropped', async () => {
    const sink = recordingSink('down', () => {
      throw new RetryableError('down: 503');
    });
    const { strata } = await openStrata({ extras: { sinks: [sink] }, pipeline: { sinkDefaults: { maxAttempts: 3, ...fastRetries } } });
    for (const event of interactions(4)) strata.record(event);
    await strata.flush();
    expect(strata.metrics().sinks.down).toMatchObject({ delivered: 0, failures: 3, retries: 2, dropped: 4 });
  });

  it('apply per-sink delivery settings over the defaults', async () => {
    const failing = () => {
      throw new RetryableError('nope');
    };
    const patient = recordingSink('patient', failing);
    const impatient = recordingSink('impatient', failing);
    const { strata } = await openStrata({
      extras: { sinks: [patient, impatient] },
      pipeline: { sinkDefaults: { maxAttempts: 3, ...fastRetries }, sinks: { impatient: { maxAttempts: 1 } } },
    });
    strata.record(interaction());
    await strata.flush();
    expect(strata.metrics().sinks.patient?.failures).toBe(3);
    expect(strata.metrics().sinks.impatient?.failures).toBe(1);
  });

  it('drop the oldest waiting batches beyond maxBacklog and count every dropped event', async () => {
    const release = gate();
    const sink = recordingSink('backed-up', () => release.promise);
    const { strata, tier } = await openStrata({ extras: { sinks: [sink] }, pipeline: { maxBatchSize: 1, sinkDefaults: { maxBacklog: 3 } } });
    for (const event of interactions(10)) strata.record(event);
    await vi.waitFor(() => expect(tier.rows.size).toBe(10), { timeout: 5_000 });
    expect(strata.metrics().sinks['backed-up']).toMatchObject({ backlog: 3, dropped: 7, delivered: 0 });
    release.open();
    await strata.flush();
    // The batch in flight is never taken from under the sink; the newest ones are kept.
    expect(sink.delivered).toEqual([['e-0'], ['e-8'], ['e-9']]);
    expect(strata.metrics().sinks['backed-up']).toMatchObject({ backlog: 0, dropped: 7, delivered: 3 });
  });

  it('are not affected by another sink that fails', async () => {
    const healthy = recordingSink('healthy');
    const broken = recordingSink('broken', () => {
      throw new PermanentError('broken: always');
    });
    const { strata } = await openStrata({ extras: { sinks: [broken, healthy] } });
    for (const event of interactions(3)) strata.record(event);
    await strata.flush();
    expect(healthy.delivered.flat()).toEqual(['e-0', 'e-1', 'e-2']);
  });

  it('are flushed and closed when strata closes', async () => {
    const calls: string[] = [];
    const sink: Sink = {
      name: 'tidy',
      consume: async () => undefined,
      flush: async () => void calls.push('flush'),
      close: async () => void calls.push('close'),
    };
    const { strata } = await openStrata({ extras: { sinks: [sink] } });
    await strata.close();
    expect(calls).toEqual(['flush', 'close']);
  });

  it('cannot hold close past the shutdown deadline when their close hangs', async () => {
    const sink: Sink = { name: 'stubborn', consume: async () => undefined, close: hangForever };
    const { strata, tier } = await openStrata({ extras: { sinks: [sink] }, shutdownTimeoutMs: 100 });
    const error = await strata.close().then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(StopError);
    const [inner] = (error as StopError).errors;
    expect((inner as StrataError).code).toBe('STRATA_DEADLINE_EXCEEDED');
    expect(inner?.message).toMatch(/^stubborn: /);
    expect(tier.closed).toBe(true);
  });

  it('have a failing flush reported by close, naming the sink, while the rest still shuts down', async () => {
    const sink: Sink = {
      name: 'leaky',
      consume: async () => undefined,
      flush: () => Promise.reject(new Error('buffer corrupt')),
    };
    const { strata, tier } = await openStrata({ extras: { sinks: [sink] } });
    const error = await strata.close().then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect((error as StopError).errors.map((inner) => inner.message)).toEqual(['leaky: buffer corrupt']);
    expect(tier.closed).toBe(true);
  });
});
