import { DEFAULT_EVENT_LIMITS, MIN_TIMESTAMP_MS, createInteractionValidator, createMetricValidator, parseTimestamp } from '@strata/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { interaction } from './fixtures.js';

const NOW = Date.UTC(2025, 6, 1, 12);
const DAY = 86_400_000;
const validate = createInteractionValidator(DEFAULT_EVENT_LIMITS, () => NOW);
const validateMetric = createMetricValidator(DEFAULT_EVENT_LIMITS, () => NOW);

/** Any value, including the odd ones JSON never produces (null prototypes, Maps, boxed values, sparse arrays). */
const anyValue = fc.anything({
  withBigInt: true,
  withBoxedValues: true,
  withDate: true,
  withMap: true,
  withNullPrototype: true,
  withObjectString: true,
  withSet: true,
  withSparseArray: true,
  withTypedArray: true,
  withUnicodeString: true,
});

/** A valid interaction with some fields replaced by arbitrary JSON. */
const damagedInteraction = fc
  .dictionary(
    fc.constantFrom('eventId', 'sessionId', 'timestamp', 'userRole', 'query', 'queryType', 'responseTime', 'userRating', 'conversationTurn', 'content', 'success'),
    fc.jsonValue(),
  )
  .map((overrides) => interaction(overrides));

function expectExplainedFailure(result: ReturnType<typeof validate> | ReturnType<typeof validateMetric>): void {
  if (result.ok) return;
  expect(result.issues.length).toBeGreaterThan(0);
  for (const issue of result.issues) {
    expect(typeof issue.path).toBe('string');
    expect(issue.message.trim().length).toBeGreaterThan(0);
  }
}

describe('validator properties', () => {
  it('never throws for any value and explains every failure', () => {
    fc.assert(
      fc.property(anyValue, (value) => {
        expectExplainedFailure(validate(value));
      }),
      { numRuns: 500 },
    );
  });

  it('never throws for any JSON value and explains every failure', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expectExplainedFailure(validate(value));
      }),
      { numRuns: 500 },
    );
  });

  it('names the offending field for every failure of a JSON object', () => {
    fc.assert(
      fc.property(damagedInteraction, (value) => {
        const result = validate(value);
        if (!result.ok) for (const issue of result.issues) expect(issue.path).not.toBe('');
      }),
      { numRuns: 500 },
    );
  });

  it('gives the same verdict and the same eventId when the same JSON is validated twice', () => {
    fc.assert(
      fc.property(damagedInteraction, (value) => {
        const copy: unknown = JSON.parse(JSON.stringify(value));
        expect(validate(copy)).toEqual(validate(value));
      }),
      { numRuns: 200 },
    );
  });

  it('never throws for any value given to the metric validator', () => {
    fc.assert(
      fc.property(fc.oneof(anyValue, fc.jsonValue()), (value) => {
        expectExplainedFailure(validateMetric(value));
      }),
      { numRuns: 300 },
    );
  });
});

describe('parseTimestamp properties', () => {
  const inRange = fc.date({ min: new Date(MIN_TIMESTAMP_MS), max: new Date(NOW + DAY), noInvalidDate: true });

  it('round-trips every ISO string from 2000 up to the future allowance', () => {
    fc.assert(
      fc.property(inRange, (date) => {
        expect(parseTimestamp(date.toISOString(), NOW, DAY)).toEqual({ ok: true, ms: date.getTime() });
      }),
      { numRuns: 1_000 },
    );
  });

  it('round-trips epoch milliseconds in the same range', () => {
    fc.assert(
      fc.property(inRange, (date) => {
        expect(parseTimestamp(date.getTime(), NOW, DAY)).toEqual({ ok: true, ms: date.getTime() });
      }),
      { numRuns: 500 },
    );
  });

  it('reads the same instant whatever offset the ISO string is written in', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date(MIN_TIMESTAMP_MS + DAY), max: new Date(NOW - DAY), noInvalidDate: true }),
        fc.integer({ min: -14 * 60, max: 14 * 60 }),
        (date, offsetMinutes) => {
          const local = new Date(date.getTime() + offsetMinutes * 60_000).toISOString().slice(0, 23);
          const sign = offsetMinutes < 0 ? '-' : '+';
          const abs = Math.abs(offsetMinutes);
          const zone = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
          expect(parseTimestamp(`${local}${zone}`, NOW, DAY)).toEqual({ ok: true, ms: date.getTime() });
        },
      ),
      { numRuns: 500 },
    );
  });

  it('rejects with a reason, never throws, for any string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        const parsed = parseTimestamp(text, NOW, DAY);
        if (!parsed.ok) expect(parsed.reason.length).toBeGreaterThan(0);
      }),
      { numRuns: 500 },
    );
  });
});
