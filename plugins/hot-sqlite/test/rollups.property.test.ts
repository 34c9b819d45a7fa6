import type { Interaction } from '@strata/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { prepareBatchWriter } from '../src/index.js';
import { expectedRollups, openMemoryDatabase, storedRollups } from './rollupOracle.js';

const BASE = Date.UTC(2026, 0, 5);
const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

// Small value sets so sessions, buckets, questions and content items collide often, with ties on
// timestamps and roles whose order differs between UTF-16 and code points ('\uffff' vs an emoji).
const timestampArb = fc.oneof(
  fc.constantFrom(BASE, BASE + 1, BASE + MINUTE - 1, BASE + MINUTE, BASE + HOUR, BASE + DAY - 1, BASE + DAY, BASE + 2 * DAY + 5 * MINUTE),
  fc.integer({ min: 0, max: 3 * DAY }).map((offset) => BASE + offset),
);
const responseTimeArb = fc.oneof(
  fc.integer({ min: 0, max: 120_000 }).map((ms) => ms / 1000),
  fc.double({ min: 0, max: 10_000, noNaN: true, noDefaultInfinity: true }).map((value) => Math.abs(value)),
  fc.constantFrom(0, 0.001, 1.04, 3.5),
);
const contentArb = fc.array(
  fc.record({
    type: fc.constantFrom('career_kb', 'code_snippet', 'mma_link'),
    id: fc.constantFrom('a', 'b', 'c', 'ü'),
    relevance: fc.option(fc.double({ min: 0, max: 1, noNaN: true }).map((value) => Math.abs(value)), { nil: null }),
  }),
  { maxLength: 3 },
);
const eventArb = fc.record({
  sessionId: fc.constantFrom('s1', 's2', 's3', 's4', 's5', 's6'),
  timestamp: timestampArb,
  userRole: fc.constantFrom('student', 'recruiter', 'z\uffff', 'z😀'),
  query: fc.constantFrom('How do I deploy?', 'how do i  deploy', 'What is RAG?', 'Tell me a joke', 'Is Noah open to relocation?'),
  queryType: fc.constantFrom('technical', 'career', 'fun'),
  responseTime: responseTimeArb,
  success: fc.boolean(),
  userRating: fc.option(fc.integer({ min: 1, max: 5 }), { nil: null }),
  conversationTurn: fc.integer({ min: 1, max: 5 }),
  followUpQuery: fc.boolean(),
  codeSnippetsShown: fc.integer({ min: 0, max: 3 }),
  citationsProvided: fc.integer({ min: 0, max: 3 }),
  content: contentArb,
});

type EventRecord = typeof eventArb extends fc.Arbitrary<infer T> ? T : never;

function toInteractions(records: readonly EventRecord[]): Interaction[] {
  return records.map((record, index) => ({
    ...record,
    eventId: `e${index}`,
    responseLength: null,
    ipHash: null,
    userAgentHash: null,
  }));
}

/** A workload: unique events, and the order and batches they are written in, with repeats. */
const workloadArb = fc
  .array(eventArb, { minLength: 1, maxLength: 60 })
  .map(toInteractions)
  .chain((events) =>
    fc.record({
      events: fc.constant(events),
      order: fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length }),
      repeats: fc.array(fc.constantFrom(...events), { maxLength: 15 }),
      cuts: fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 1, maxLength: 10 }),
      // When each batch is stored, relative to the events: minute rollups take only events at most a day old.
      storedAt: fc.array(fc.integer({ min: 0, max: 5 * DAY }).map((offset) => BASE + offset), { minLength: 1, maxLength: 10 }),
      conversionDepth: fc.integer({ min: 1, max: 4 }),
    }),
  );

/** Splits events into batches of the given sizes (cycling), with repeats mixed in. */
function batches(order: readonly Interaction[], repeats: readonly Interaction[], cuts: readonly number[]): Interaction[][] {
  const stream = [...order];
  repeats.forEach((event, index) => stream.splice((index * 7) % (stream.length + 1), 0, event));
  const out: Interaction[][] = [];
  let index = 0;
  for (let cut = 0; index < stream.length; cut += 1) {
    const size = cuts[cut % cuts.length]!;
    out.push(stream.slice(index, index + size));
    index += size;
  }
  return out;
}

describe('rollups maintained at ingest', () => {
  it('equal a GROUP BY over the raw rows, for any events, order, batch split and repeats', () => {
    fc.assert(
      fc.property(workloadArb, ({ events, order, repeats, cuts, storedAt, conversionDepth }) => {
        const db = openMemoryDatabase();
        try {
          const write = prepareBatchWriter(db, { conversionDepth });
          let duplicates = 0;
          batches(order, repeats, cuts).forEach((batch, index) => {
            duplicates += write(batch, storedAt[index % storedAt.length]!).duplicateIds.length;
          });
          expect(duplicates).toBe(repeats.length);
          expect((db.prepare('SELECT COUNT(*) AS n FROM user_interactions').get() as { n: number }).n).toBe(events.length);
          expect(storedRollups(db)).toEqual(expectedRollups(db, conversionDepth));
        } finally {
          db.close();
        }
      }),
      { numRuns: 60 },
    );
  });

  it('do not depend on how the same events were split into batches or ordered', () => {
    fc.assert(
      fc.property(workloadArb, ({ events, order, cuts, storedAt, conversionDepth }) => {
        const one = openMemoryDatabase();
        const other = openMemoryDatabase();
        try {
          // Stored at the same time, so the same events fall inside the minute horizon.
          prepareBatchWriter(one, { conversionDepth })(events, storedAt[0]!);
          const write = prepareBatchWriter(other, { conversionDepth });
          for (const batch of batches([...order].reverse(), [], cuts)) write(batch, storedAt[0]!);
          expect(storedRollups(other)).toEqual(storedRollups(one));
        } finally {
          one.close();
          other.close();
        }
      }),
      { numRuns: 40 },
    );
  });

  it('are left byte-identical by re-ingesting events already stored', () => {
    fc.assert(
      fc.property(workloadArb, fc.integer({ min: 1, max: 25 }), ({ order, repeats, cuts, storedAt, conversionDepth }, size) => {
        const db = openMemoryDatabase();
        try {
          const write = prepareBatchWriter(db, { conversionDepth });
          batches(order, [], cuts).forEach((batch, index) => write(batch, storedAt[index % storedAt.length]!));
          const before = storedRollups(db, true);
          const again = [...repeats, ...order];
          for (let index = 0; index < again.length; index += size) {
            expect(write(again.slice(index, index + size), BASE).duplicateIds).toHaveLength(again.slice(index, index + size).length);
          }
          expect(storedRollups(db, true)).toEqual(before);
        } finally {
          db.close();
        }
      }),
      { numRuns: 40 },
    );
  });
});
