import type { Interaction } from '@strata/core';
import fc from 'fast-check';

/** The start of the generated workloads' days (2026-01-05, UTC). */
export const ROLLUP_WORKLOAD_BASE = Date.UTC(2026, 0, 5);
const BASE = ROLLUP_WORKLOAD_BASE;
const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

// Small value sets so sessions, buckets, questions and content items collide often, with ties on
// timestamps and roles whose order differs between UTF-16 and code points ('\uffff' vs an emoji).
const timestampArb = fc.oneof(
  fc.constantFrom(BASE, BASE + 1, BASE + MINUTE - 1, BASE + MINUTE, BASE + HOUR, BASE + DAY - 1, BASE + DAY, BASE + 2 * DAY + 5 * MINUTE, BASE - 1),
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
    id: fc.constantFrom('a', 'b', 'c', 'ü', 'x:student'),
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
  return records.map((record, index) => ({ ...record, eventId: `e${index}`, responseLength: null, ipHash: null, userAgentHash: null }));
}

/**
 * A workload for rollup property tests: unique events, the order and batches they are written in
 * (with repeats), when each batch is stored, and a conversion depth. Shared by every hot tier's
 * tests so they hold their rollups to the same cases.
 */
export const rollupWorkloadArbitrary = fc
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
export function splitIntoBatches(order: readonly Interaction[], repeats: readonly Interaction[], cuts: readonly number[]): Interaction[][] {
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
