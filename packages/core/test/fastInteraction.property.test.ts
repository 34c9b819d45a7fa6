import fc from 'fast-check';
import { DEFAULT_EVENT_LIMITS, createInteractionSchema } from '@strata/core';
import { describe, expect, it } from 'vitest';
import { checkInteractionFast } from '../src/fastInteraction.js';

const NOW = Date.UTC(2026, 5, 1);
const schema = createInteractionSchema(DEFAULT_EVENT_LIMITS, () => NOW);
const queryTypes = new Set(DEFAULT_EVENT_LIMITS.queryTypes);

// Values near every boundary the schema draws, plus arbitrary junk, for each field.
const edgeNumber = fc.oneof(
  fc.constantFrom(-1, 0, 0.5, 1, 2.5, 5, 6, 128, 1e21, Number.MAX_SAFE_INTEGER + 2, Number.NaN, Number.POSITIVE_INFINITY, -0),
  fc.double(),
  fc.integer({ min: -10, max: 300 }),
);
const edgeText = fc.oneof(fc.constantFrom('', 'a', 'x'.repeat(64), 'x'.repeat(65), 'x'.repeat(128), 'x'.repeat(129), 'x'.repeat(257), '🧠'), fc.string({ maxLength: 300 }));
const anyValue = fc.oneof(edgeNumber, edgeText, fc.boolean(), fc.constant(null), fc.constant(undefined), fc.anything({ maxDepth: 1 }));
const field = <T>(valid: fc.Arbitrary<T>) => fc.oneof({ weight: 6, arbitrary: valid }, { weight: 1, arbitrary: anyValue });
const contentItem = fc.record(
  { type: field(edgeText), id: field(edgeText), relevance: field(fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), edgeNumber, fc.constant(null))) },
  { requiredKeys: [] },
);

const interaction = fc.record(
  {
    eventId: field(edgeText),
    sessionId: field(edgeText),
    timestamp: field(
      fc.oneof(
        fc.integer({ min: Date.UTC(1999, 0, 1), max: NOW + 2 * 86_400_000 }),
        fc.date({ min: new Date(Date.UTC(1999, 0, 1)), max: new Date(NOW + 2 * 86_400_000), noInvalidDate: true }).map((date) => date.toISOString()),
        fc.constantFrom('2026-01-01', '2026-02-30T00:00:00Z', '2026-01-01T10:00:00+02:00', 'yesterday', 1_700_000_000),
      ),
    ),
    userRole: field(edgeText),
    query: field(fc.oneof(edgeText, fc.constant('q'.repeat(40_000)), fc.constant('é'.repeat(11_000)))),
    queryType: field(fc.constantFrom('technical', 'career', 'mma', 'fun', 'general', 'other', '')),
    responseTime: field(edgeNumber),
    responseLength: field(edgeNumber),
    codeSnippetsShown: field(edgeNumber),
    citationsProvided: field(edgeNumber),
    success: field(fc.boolean()),
    userRating: field(edgeNumber),
    followUpQuery: field(fc.boolean()),
    conversationTurn: field(edgeNumber),
    ipAddress: field(edgeText),
    userAgent: field(fc.oneof(edgeText, fc.constant('u'.repeat(1_025)))),
    content: field(fc.array(fc.oneof({ weight: 8, arbitrary: contentItem }, { weight: 1, arbitrary: anyValue }), { maxLength: 4 })),
  },
  { requiredKeys: [] },
);

describe('checkInteractionFast', () => {
  it('never accepts an event the zod schema rejects, and agrees with it on every accepted value', () => {
    fc.assert(
      fc.property(interaction, (input) => {
        const fast = checkInteractionFast(input as Record<string, unknown>, DEFAULT_EVENT_LIMITS, queryTypes, NOW);
        if (!fast) return;
        const parsed = schema.safeParse(input);
        expect(parsed.success).toBe(true);
        const { content, ...rest } = parsed.data!;
        const { content: fastContent, ...fastRest } = fast;
        expect(fastRest).toEqual(rest);
        expect((fastContent ?? []).map((item) => ({ ...item, relevance: item.relevance ?? null }))).toEqual(
          (content ?? []).map((item) => ({ ...item, relevance: item.relevance ?? null })),
        );
      }),
      { numRuns: 3_000 },
    );
  });

  it('takes the fast path for the valid events a producer normally sends', () => {
    fc.assert(
      fc.property(
        fc.record({
          sessionId: fc.string({ minLength: 1, maxLength: 40 }),
          userRole: fc.constantFrom('student', 'recruiter'),
          query: fc.string({ minLength: 1, maxLength: 200 }),
          queryType: fc.constantFrom(...DEFAULT_EVENT_LIMITS.queryTypes),
          responseTime: fc.double({ min: 0, max: 60, noNaN: true }),
          success: fc.boolean(),
          timestamp: fc.integer({ min: Date.UTC(2020, 0, 1), max: NOW }),
        }),
        (input) => {
          expect(checkInteractionFast(input, DEFAULT_EVENT_LIMITS, queryTypes, NOW)).toBeDefined();
        },
      ),
      { numRuns: 500 },
    );
  });
});
