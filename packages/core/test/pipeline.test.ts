import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  ClosedError,
  ConfigError,
  QueueFullError,
  StorageError,
  StrataError,
  ValidationError,
  createStrata,
  definePlugin,
  type Interaction,
  type Processor,
  type ProcessorResult,
} from '@strata/core';
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { gate, interaction, interactions, linesOf, openStrata, readDeadLetters, rejectionOf, tempDir } from './fixtures.js';
import { MemoryTier, memoryTierPlugin } from './memoryTier.js';

function processor(name: string, process: (batch: Interaction[]) => ProcessorResult | Promise<ProcessorResult>): Processor {
  return { name, process };
}

describe('record', () => {
  it('queues a valid event and the hot tier stores it', async () => {
    const { strata, tier } = await openStrata();
    expect(strata.record(interaction({ eventId: 'one' }))).toBe(true);
    await strata.flush();
    expect(tier.rows.get('one')?.query).toBe('How do I deploy a Node service?');
  });

  const circular: Record<string, unknown> = { sessionId: 's' };
  circular.self = circular;
  const hostile = {
    get sessionId(): string {
      throw new Error('getter exploded');
    },
  };
  it.each([
    ['undefined', undefined],
    ['null', null],
    ['an array', []],
    ['a string', 'not an event'],
    ['a BigInt', 10n],
    ['a circular object', circular],
    ['an object whose getter throws', hostile],
    ['an object without a prototype', Object.assign(Object.create(null) as object, { query: 'x' })],
    ['an event with a rating of 6', interaction({ userRating: 6 })],
  ])('returns false without throwing for %s', async (_what, event) => {
    const { strata } = await openStrata();
    expect(strata.record(event)).toBe(false);
    await strata.flush();
    expect(strata.metrics().rejected).toBe(1);
  });

  it('writes a rejected event to dead-letter/YYYY-MM-DD.jsonl with the original, the source and the reason', async () => {
    const { strata, dataDir } = await openStrata();
    const bad = interaction({ userRating: 6, query: 'rate me' });
    strata.record(bad);
    await strata.flush();
    const files = readdirSync(join(dataDir, 'dead-letter'));
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^\d{4}-\d{2}-\d{2}\.jsonl$/);
    const [entry, ...rest] = readDeadLetters(dataDir);
    expect(rest).toEqual([]);
    expect(files[0]).toBe(`${entry!.at.slice(0, 10)}.jsonl`);
    expect(entry).toMatchObject({
      source: { kind: 'api', method: 'record' },
      reason: 'invalid interaction: userRating: must be an integer from 1 to 5, got 6',
      issues: [{ path: 'userRating', message: 'must be an integer from 1 to 5, got 6' }],
    });
    expect(JSON.parse(entry!.original)).toEqual(bad);
    expect(Number.isNaN(Date.parse(entry!.at))).toBe(false);
  });

  it('applies limits from the config, naming limits.maxQueryBytes in the dead-letter reason', async () => {
    const { strata, dataDir } = await openStrata({ limits: { maxQueryBytes: 16 } });
    expect(strata.record(interaction({ query: 'a question that is too long' }))).toBe(false);
    await strata.flush();
    expect(readDeadLetters(dataDir)[0]?.reason).toBe('invalid interaction: query: is 27 bytes; the limit is 16 bytes (limits.maxQueryBytes)');
  });

  it('returns false and counts a drop when the queue is full', async () => {
    const { strata, tier } = await openStrata({ pipeline: { maxQueue: 2, maxBatchDelayMs: 1_000 } });
    const results = interactions(3).map((event) => strata.record(event));
    expect(results).toEqual([true, true, false]);
    expect(strata.metrics().dropped).toBe(1);
    await strata.flush();
    expect(tier.rows.size).toBe(2);
  });

  it('never lets ipAddress or userAgent reach the storage tier', async () => {
    const { strata, tier } = await openStrata();
    strata.record(interaction({ eventId: 'net', ipAddress: '203.0.113.9', userAgent: 'Mozilla/5.0' }));
    await strata.flush();
    const [written] = tier.writes.flat();
    expect(written).toBeDefined();
    expect(written).not.toHaveProperty('ipAddress');
    expect(written).not.toHaveProperty('userAgent');
    expect(JSON.stringify([...tier.rows.values()])).not.toContain('203.0.113.9');
  });

  it('counts accepted, stored and duplicate events', async () => {
    const { strata } = await openStrata();
    strata.record(interaction({ eventId: 'a' }));
    strata.record(interaction({ eventId: 'b' }));
    await strata.flush();
    strata.record(interaction({ eventId: 'a' }));
    strata.record(interaction({ userRating: 0 }));
    await strata.flush();
    expect(strata.metrics()).toMatchObject({ accepted: 3, stored: 2, duplicates: 1, rejected: 1, dropped: 0, queued: 0, deadLettered: 1 });
  });
});

describe('recordStrict', () => {
  it('resolves as stored only once the hot tier committed the event', async () => {
    const { strata, tier } = await openStrata();
    const commit = gate();
    tier.beforeWrite = () => commit.promise;
    let settled = false;
    const outcome = strata.recordStrict(interaction({ eventId: 'strict-1' })).finally(() => (settled = true));
    await vi.waitFor(() => expect(tier.writes).toHaveLength(1));
    expect(settled).toBe(false);
    commit.open();
    await expect(outcome).resolves.toEqual({ eventId: 'strict-1', status: 'stored' });
    expect(tier.rows.has('strict-1')).toBe(true);
  });

  it('resolves as duplicate for an eventId already stored', async () => {
    const { strata } = await openStrata();
    await strata.recordStrict(interaction({ eventId: 'twice' }));
    await expect(strata.recordStrict(interaction({ eventId: 'twice' }))).resolves.toEqual({ eventId: 'twice', status: 'duplicate' });
  });

  it('resolves the second of two events with the same eventId in one batch as duplicate', async () => {
    const { strata, tier } = await openStrata();
    const outcomes = await Promise.all([strata.recordStrict(interaction({ eventId: 'same' })), strata.recordStrict(interaction({ eventId: 'same' }))]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['stored', 'duplicate']);
    expect(tier.writes).toEqual([[expect.objectContaining({ eventId: 'same' })]]);
  });

  it('derives the same eventId for an event re-sent without one, so it is stored once', async () => {
    const { strata, tier } = await openStrata();
    const first = await strata.recordStrict(interaction());
    const second = await strata.recordStrict(interaction());
    expect(second).toEqual({ eventId: first.eventId, status: 'duplicate' });
    expect(tier.rows.size).toBe(1);
  });

  it('rejects with a ValidationError that names the field, and dead-letters the event', async () => {
    const { strata, dataDir } = await openStrata();
    const error = await rejectionOf(strata.recordStrict(interaction({ conversationTurn: 0 })));
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.message).toBe('conversationTurn: must be an integer of 1 or more, got 0');
    await strata.flush();
    expect(readDeadLetters(dataDir)).toEqual([expect.objectContaining({ source: { kind: 'api', method: 'recordStrict' } })]);
  });

  it('rejects with QueueFullError when the queue is full', async () => {
    const { strata } = await openStrata({ pipeline: { maxQueue: 1, maxBatchDelayMs: 1_000 } });
    expect(strata.record(interaction({ eventId: 'fills-the-queue' }))).toBe(true);
    const error = await rejectionOf(strata.recordStrict(interaction({ eventId: 'no-room' })));
    expect(error).toBeInstanceOf(QueueFullError);
    expect((error as QueueFullError).code).toBe('STRATA_QUEUE_FULL');
    expect(error.message).toContain('raise pipeline.maxQueue');
  });
});

describe('batching', () => {
  it('cuts batches at maxBatchSize', async () => {
    const { strata, tier } = await openStrata({ pipeline: { maxBatchSize: 10, maxBatchDelayMs: 1_000 } });
    for (const event of interactions(25)) strata.record(event);
    await strata.flush();
    expect(tier.writes.map((batch) => batch.length)).toEqual([10, 10, 5]);
  });

  it('hands the hot tier up to maxBatchesInFlight batches while the oldest is unanswered, and no more', async () => {
    const { strata, tier } = await openStrata({ pipeline: { maxBatchSize: 10, maxBatchDelayMs: 1_000, maxBatchesInFlight: 3 } });
    const commit = gate();
    tier.beforeWrite = () => commit.promise;
    for (const event of interactions(50)) strata.record(event);
    await vi.waitFor(() => expect(tier.writes).toHaveLength(3));
    // The queue could fill two more batches, but every slot is taken.
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(tier.writes).toHaveLength(3);
    expect(strata.metrics().queued).toBe(20);
    commit.open();
    await strata.flush();
    expect(tier.writes.map((batch) => batch.length)).toEqual([10, 10, 10, 10, 10]);
    expect(tier.rows.size).toBe(50);
  });

  it('takes the number of batches in flight from the hot tier when the config does not set it, else 2', async () => {
    async function inFlightWith(tier: MemoryTier, pipeline: { maxBatchesInFlight?: number } = {}): Promise<number> {
      const { strata } = await openStrata({ tier, pipeline: { maxBatchSize: 10, maxBatchDelayMs: 1_000, ...pipeline } });
      const commit = gate();
      tier.beforeWrite = () => commit.promise;
      for (const event of interactions(80)) strata.record(event);
      await vi.waitFor(() => expect(tier.writes.length).toBeGreaterThan(0));
      await new Promise((resolve) => setTimeout(resolve, 20));
      const inFlight = tier.writes.length;
      commit.open();
      await strata.flush();
      expect(tier.rows.size).toBe(80);
      return inFlight;
    }
    expect(await inFlightWith(new MemoryTier())).toBe(2);
    expect(await inFlightWith(Object.assign(new MemoryTier(), { batchesInFlight: 5 }))).toBe(5);
    expect(await inFlightWith(Object.assign(new MemoryTier(), { batchesInFlight: 5 }), { maxBatchesInFlight: 1 })).toBe(1);
  });

  it('starts the next batch as soon as the queue fills it, without waiting for the oldest write', async () => {
    const { strata, tier } = await openStrata({ pipeline: { maxBatchSize: 10, maxBatchDelayMs: 1_000, maxBatchesInFlight: 2 } });
    const first = gate();
    tier.beforeWrite = () => (tier.writes.length === 1 ? first.promise : undefined);
    for (const event of interactions(10, 'a')) strata.record(event);
    await vi.waitFor(() => expect(tier.writes).toHaveLength(1));
    for (const event of interactions(10, 'b')) strata.record(event);
    await vi.waitFor(() => expect(tier.writes).toHaveLength(2));
    expect(tier.rows.size).toBe(10);
    first.open();
    await strata.flush();
    expect(tier.rows.size).toBe(20);
  });

  it('writes a partial batch after maxBatchDelayMs without a flush', async () => {
    const { strata, tier } = await openStrata({ pipeline: { maxBatchSize: 1_000, maxBatchDelayMs: 20 } });
    for (const event of interactions(3)) strata.record(event);
    expect(tier.writes).toEqual([]);
    await vi.waitFor(() => expect(tier.rows.size).toBe(3), { timeout: 5_000 });
    expect(tier.writes.map((batch) => batch.length)).toEqual([3]);
  });
});

describe('ingestLines', () => {
  it('tallies accepted, stored, duplicates and rejected lines, and skips blank ones', async () => {
    const { strata, tier } = await openStrata();
    const lines = [
      JSON.stringify(interaction({ eventId: 'l1' })),
      '',
      JSON.stringify(interaction({ eventId: 'l2' })),
      '   ',
      JSON.stringify(interaction({ eventId: 'l1' })),
      JSON.stringify(interaction({ userRating: 9 })),
      '{"sessionId": "truncated", "timest',
    ];
    const summary = await strata.ingestLines(linesOf(lines), { source: 'events.jsonl' });
    expect(summary).toMatchObject({ lines: 7, blank: 2, accepted: 3, stored: 2, duplicates: 1, rejected: 2, failed: 0, deadLetter: 2 });
    expect([...tier.rows.keys()].sort()).toEqual(['l1', 'l2']);
  });

  it('dead-letters a truncated JSON line with its line number and the parse error', async () => {
    const { strata, dataDir } = await openStrata();
    const truncated = '{"sessionId": "s1", "timestamp": "2025-06';
    await strata.ingestLines(linesOf([JSON.stringify(interaction()), truncated]), { source: 'in.jsonl' });
    const [entry] = readDeadLetters(dataDir);
    expect(entry?.source).toEqual({ kind: 'file', file: 'in.jsonl', line: 2 });
    expect(entry?.original).toBe(truncated);
    expect(entry?.reason).toMatch(/^line 2: not valid JSON \(.+\)$/);
  });

  it.each([['[]'], ['null'], ['42'], ['"x"']])('dead-letters the non-object JSON line %s with a reason', async (line) => {
    const { strata, dataDir } = await openStrata();
    const summary = await strata.ingestLines(linesOf([line]), { source: 'in.jsonl' });
    expect(summary).toMatchObject({ rejected: 1, deadLetter: 1, accepted: 0 });
    const [entry] = readDeadLetters(dataDir);
    expect(entry?.reason).toMatch(/^line 1: invalid interaction: an interaction must be a JSON object, got /);
    expect(entry?.original).toBe(line);
  });

  it('dead-letters a line with a __proto__ key instead of storing it', async () => {
    const { strata, tier, dataDir } = await openStrata();
    const line = JSON.stringify(interaction()).replace('{', '{"__proto__":{"admin":true},');
    const summary = await strata.ingestLines(linesOf([line]), { source: 'in.jsonl' });
    expect(summary.rejected).toBe(1);
    expect(tier.rows.size).toBe(0);
    expect(readDeadLetters(dataDir)[0]?.issues).toEqual([{ path: '__proto__', message: 'is not an allowed field name' }]);
  });

  it('reports progress at the end with the lines and bytes read', async () => {
    const { strata } = await openStrata();
    const onProgress = vi.fn();
    const lines = [JSON.stringify(interaction({ eventId: 'p1' })), JSON.stringify(interaction({ eventId: 'p2' }))];
    await strata.ingestLines(linesOf(lines), { source: 'in.jsonl', onProgress });
    expect(onProgress).toHaveBeenLastCalledWith({ lines: 2, bytes: lines.reduce((sum, line) => sum + Buffer.byteLength(line) + 1, 0) });
  });

  it('keeps the queue bounded while streaming a long input and stores every line', async () => {
    const { strata, tier } = await openStrata({ pipeline: { maxBatchSize: 50 } });
    const lines = interactions(1_000).map((event) => JSON.stringify(event));
    let peak = 0;
    async function* tracked(): AsyncIterable<string> {
      for (const line of lines) {
        peak = Math.max(peak, strata.metrics().queued);
        yield line;
      }
    }
    const summary = await strata.ingestLines(tracked(), { source: 'big.jsonl' });
    expect(summary.stored).toBe(1_000);
    expect(tier.rows.size).toBe(1_000);
    expect(peak).toBeLessThanOrEqual(200);
  });
});

describe('ingestLines while batches are in flight', () => {
  it('reads on while earlier batches wait for the hot tier, up to the batches in flight plus the queue', async () => {
    const { strata, tier } = await openStrata({ pipeline: { maxBatchSize: 10, maxBatchesInFlight: 3 } });
    const commit = gate();
    tier.beforeWrite = () => commit.promise;
    const lines = interactions(100).map((event) => JSON.stringify(event));
    let read = 0;
    async function* counted(): AsyncIterable<string> {
      for (const line of lines) {
        read += 1;
        yield line;
      }
    }
    const ingest = strata.ingestLines(counted(), { source: 'stream.jsonl' });
    await vi.waitFor(() => expect(tier.writes).toHaveLength(3));
    await new Promise((resolve) => setTimeout(resolve, 20));
    // Three batches of 10 in flight and the queue at its high-water mark (15), nothing committed yet.
    expect(tier.rows.size).toBe(0);
    expect(read).toBeGreaterThanOrEqual(45);
    expect(read).toBeLessThanOrEqual(47);
    commit.open();
    expect((await ingest).stored).toBe(100);
    expect(tier.rows.size).toBe(100);
  });
});

describe('hot tier failures', () => {
  it('retries a failing write and stores the batch once the tier recovers', async () => {
    const { strata, tier } = await openStrata();
    let failures = 0;
    tier.beforeWrite = () => {
      failures += 1;
      if (failures === 1) throw new StorageError('memory: busy');
    };
    await expect(strata.recordStrict(interaction({ eventId: 'retried' }))).resolves.toEqual({ eventId: 'retried', status: 'stored' });
    expect(strata.metrics().writeFailures).toBe(1);
  });

  it('dead-letters the whole batch after the retries are used up, losing nothing', async () => {
    const { strata, tier, dataDir } = await openStrata();
    tier.beforeWrite = () => {
      throw new StorageError('memory: disk full');
    };
    const events = interactions(3);
    for (const event of events) strata.record(event);
    await strata.flush();
    expect(tier.writes).toHaveLength(5);
    const deadLetters = readDeadLetters(dataDir);
    expect(deadLetters.map((entry) => (JSON.parse(entry.original) as { eventId: string }).eventId)).toEqual(['e-0', 'e-1', 'e-2']);
    for (const entry of deadLetters) expect(entry.reason).toBe('hot tier write failed: memory: disk full');
    expect(strata.metrics()).toMatchObject({ writeFailures: 5, stored: 0, deadLettered: 3 });
  });

  it('rejects recordStrict with a StorageError when the write keeps failing', async () => {
    const { strata, tier } = await openStrata();
    tier.beforeWrite = () => {
      throw new Error('disk full');
    };
    const error = await rejectionOf(strata.recordStrict(interaction()));
    expect(error).toBeInstanceOf(StorageError);
    expect((error as StorageError).code).toBe('STRATA_STORAGE_FAILED');
    expect(error.message).toBe('hot tier write failed: disk full');
  });
});

describe('processors', () => {
  it('stores what a processor returned in place of the original event', async () => {
    const upper = processor('upper', (batch) => ({ events: batch.map((event) => ({ ...event, query: event.query.toUpperCase() })) }));
    const { strata, tier } = await openStrata({ extras: { processors: [upper] } });
    await strata.recordStrict(interaction({ eventId: 'p', query: 'quiet' }));
    expect(tier.rows.get('p')?.query).toBe('QUIET');
  });

  it('dead-letters an event a processor rejects, with the processor name and reason', async () => {
    const refuseSecrets = processor('secrets', (batch) => ({
      events: batch.filter((event) => !event.query.includes('password')),
      rejected: batch.filter((event) => event.query.includes('password')).map((event) => ({ event, reason: 'query contains a password' })),
    }));
    const { strata, tier, dataDir } = await openStrata({ extras: { processors: [refuseSecrets] } });
    strata.record(interaction({ eventId: 'ok' }));
    strata.record(interaction({ eventId: 'leak', query: 'my password is hunter2' }));
    await strata.flush();
    expect([...tier.rows.keys()]).toEqual(['ok']);
    const [entry] = readDeadLetters(dataDir);
    expect(entry?.reason).toBe('secrets: query contains a password');
    expect(JSON.parse(entry!.original)).toMatchObject({ eventId: 'leak' });
    expect(strata.metrics().rejected).toBe(1);
  });

  it('rejects recordStrict with a ValidationError carrying the processor reason', async () => {
    const refuseAll = processor('gatekeeper', (batch) => ({ events: [], rejected: batch.map((event) => ({ event, reason: 'not today' })) }));
    const { strata } = await openStrata({ extras: { processors: [refuseAll] } });
    const error = await rejectionOf(strata.recordStrict(interaction()));
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.message).toBe('gatekeeper: not today');
  });

  it('dead-letters an event a processor drops without a reason', async () => {
    const dropAll = processor('sieve', () => ({ events: [] }));
    const { strata, dataDir } = await openStrata({ extras: { processors: [dropAll] } });
    strata.record(interaction());
    await strata.flush();
    expect(readDeadLetters(dataDir).map((entry) => entry.reason)).toEqual(['sieve: dropped without a reason']);
  });

  it('settles every event of a batch that repeats an eventId when a processor drops another event', async () => {
    const dropOdd = processor('drop-odd', (batch) => ({
      events: batch.filter((event) => event.eventId !== 'odd'),
      rejected: batch.filter((event) => event.eventId === 'odd').map((event) => ({ event, reason: 'odd one out' })),
    }));
    const { strata } = await openStrata({ extras: { processors: [dropOdd] } });
    const outcomes = await Promise.allSettled([
      strata.recordStrict(interaction({ eventId: 'twin' })),
      strata.recordStrict(interaction({ eventId: 'twin' })),
      strata.recordStrict(interaction({ eventId: 'odd' })),
    ]);
    expect(outcomes.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value.status : 'rejected'))).toEqual(['stored', 'duplicate', 'rejected']);
  });

  it('gives a processor a long batch in slices of at most 256 events, letting the event loop run once a slice took a millisecond', async () => {
    const slices: number[] = [];
    let loopTurns = 0;
    const turnsSeen: number[] = [];
    const refuseSeventh = processor('slicer', (batch) => {
      slices.push(batch.length);
      turnsSeen.push(loopTurns);
      setImmediate(() => (loopTurns += 1));
      // A slow processor: each slice holds the thread past the point where the loop must get a turn.
      const until = performance.now() + 2;
      while (performance.now() < until);
      return {
        events: batch.filter((event) => event.eventId !== 'e-700'),
        rejected: batch.filter((event) => event.eventId === 'e-700').map((event) => ({ event, reason: 'seventh hundred' })),
      };
    });
    const { strata, tier } = await openStrata({ extras: { processors: [refuseSeventh] }, pipeline: { maxBatchSize: 1_000 } });
    for (const event of interactions(1_000)) strata.record(event);
    await strata.flush();
    expect(slices).toEqual([256, 256, 256, 232]);
    // Each slice after the first ran only once the loop had turned since the one before it.
    expect(turnsSeen).toEqual([0, 1, 2, 3]);
    expect(tier.rows.size).toBe(999);
    expect(tier.rows.has('e-700')).toBe(false);
    expect(strata.metrics().rejected).toBe(1);
  });

  it('dead-letters the batch when a processor throws, and rejects recordStrict with the reason', async () => {
    const broken = processor('enricher', () => {
      throw new Error('lookup table missing');
    });
    const { strata, dataDir } = await openStrata({ extras: { processors: [broken] } });
    const error = await rejectionOf(strata.recordStrict(interaction()));
    expect(error.message).toBe('processor enricher failed: lookup table missing');
    await strata.flush();
    expect(readDeadLetters(dataDir)).toHaveLength(1);
  });
});

describe('close', () => {
  it('writes everything queued before it resolves', async () => {
    const { strata, tier } = await openStrata({ pipeline: { maxBatchDelayMs: 10_000 } });
    for (const event of interactions(5)) strata.record(event);
    await strata.close();
    expect(tier.rows.size).toBe(5);
    expect(tier.closed).toBe(true);
  });

  it('returns the same promise when called again', async () => {
    const { strata, tier } = await openStrata();
    const first = strata.close();
    expect(strata.close()).toBe(first);
    await first;
    expect(tier.closeCalls).toBe(1);
  });

  it('makes record return false afterwards', async () => {
    const { strata, tier } = await openStrata();
    await strata.close();
    expect(strata.record(interaction())).toBe(false);
    expect(tier.writes).toEqual([]);
  });

  it('makes recordStrict and ingestLines reject with ClosedError afterwards', async () => {
    const { strata } = await openStrata();
    await strata.close();
    const strictError = await rejectionOf(strata.recordStrict(interaction()));
    expect(strictError).toBeInstanceOf(ClosedError);
    expect((strictError as ClosedError).code).toBe('STRATA_CLOSED');
    await expect(strata.ingestLines(linesOf([]), { source: 'x' })).rejects.toBeInstanceOf(ClosedError);
  });

  it('leaves no timer behind that would keep the host process alive', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;
    const { strata } = await openStrata({ shutdownTimeoutMs: 10_000 });
    const before = timers();
    strata.record(interaction());
    await strata.close();
    expect(timers()).toBeLessThanOrEqual(before);
  });

  it('flushes the dead-letter store so rejections are on disk once it resolves', async () => {
    const { strata, dataDir } = await openStrata();
    strata.record({ nope: true });
    await strata.close();
    expect(readDeadLetters(dataDir)).toHaveLength(1);
  });
});

describe('createStrata', () => {
  it('creates the data directory', async () => {
    const { dataDir } = await openStrata();
    expect(existsSync(dataDir)).toBe(true);
  });

  it('fails with STRATA_NO_HOT_TIER when no plugin provides a hot tier, and stops what it started', async () => {
    const cold = new MemoryTier('cold-memory', 'cold');
    const coldOnly = memoryTierPlugin(cold, {}, 'cold-only');
    const error = await rejectionOf(createStrata({ config: { plugins: ['cold-only'] }, catalog: { 'cold-only': () => coldOnly }, dataDir: tempDir(), logLevel: 'silent' }));
    expect((error as StrataError).code).toBe('STRATA_NO_HOT_TIER');
    expect(error.message).toContain('plugins: cold-only');
    expect(cold.closed).toBe(true);
  });

  it('fails with a ConfigError for an invalid inline config before starting any plugin', async () => {
    const setup = vi.fn(() => ({ storage: [new MemoryTier()] }));
    const hot = definePlugin({ name: 'hot-sqlite', version: '1', options: z.object({}), setup });
    const error = await rejectionOf(
      createStrata({ config: { plugins: ['hot-sqlite'], pipeline: { maxBatchSize: -1 } }, catalog: { 'hot-sqlite': () => hot }, dataDir: tempDir(), logLevel: 'silent' }),
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect(setup).not.toHaveBeenCalled();
  });

  it('reports status with plugins, tier health and counters', async () => {
    const { strata, dataDir } = await openStrata();
    await strata.recordStrict(interaction());
    const status = await strata.status();
    expect(status).toMatchObject({
      dataDir,
      configSource: null,
      plugins: ['hot-sqlite'],
      tiers: [{ name: 'memory', role: 'hot', health: { ok: true, details: { rows: 1 } } }],
      counters: { stored: 1 },
      deadLetterDir: join(dataDir, 'dead-letter'),
    });
  });
});
