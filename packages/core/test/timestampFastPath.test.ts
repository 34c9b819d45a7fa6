import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseIsoText, parseIsoUtc } from '../src/timestamp.js';

const pad = (value: number, width: number) => String(value).padStart(width, '0');

// Fields near every boundary the fast path draws (and past them), so both answers are exercised.
const isoLike = fc
  .record({
    year: fc.oneof(fc.integer({ min: 1990, max: 2110 }), fc.constantFrom(0, 50, 99, 100, 1900, 1999, 2000, 2100, 2400, 9999)),
    month: fc.integer({ min: 0, max: 13 }),
    day: fc.integer({ min: 0, max: 32 }),
    hour: fc.integer({ min: 0, max: 25 }),
    minute: fc.integer({ min: 0, max: 61 }),
    second: fc.integer({ min: 0, max: 61 }),
    fraction: fc.oneof(fc.constant(''), fc.stringMatching(/^\.\d{1,10}$/), fc.constantFrom('.', '.12a', '.1', '.12', '.123', '.123456789')),
    separator: fc.constantFrom('T', 't', ' ', 'X'),
    zone: fc.constantFrom('Z', 'z', '', '+00:00', '+02:00', '-0530', 'ZZ'),
  })
  .map(({ year, month, day, hour, minute, second, fraction, separator, zone }) => `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}${separator}${pad(hour, 2)}:${pad(minute, 2)}:${pad(second, 2)}${fraction}${zone}`);

describe('parseIsoUtc (the fast path of parseTimestamp)', () => {
  it('gives the general parser’s answer whenever it answers at all', () => {
    fc.assert(
      fc.property(fc.oneof(isoLike, fc.string({ maxLength: 32 })), (text) => {
        const fast = parseIsoUtc(text);
        if (Number.isNaN(fast)) return;
        expect(parseIsoText(text)).toEqual({ ok: true, ms: fast });
      }),
      { numRuns: 5_000 },
    );
  });

  it('answers for what toISOString() writes from 2000 on', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date(Date.UTC(2000, 0, 1)), max: new Date(Date.UTC(2200, 0, 1)), noInvalidDate: true }), (date) => {
        expect(parseIsoUtc(date.toISOString())).toBe(date.getTime());
      }),
      { numRuns: 1_000 },
    );
  });

  it('reads fractions of any length as milliseconds, truncating', () => {
    expect(parseIsoUtc('2025-03-04T05:06:07Z')).toBe(Date.UTC(2025, 2, 4, 5, 6, 7));
    expect(parseIsoUtc('2025-03-04T05:06:07.1Z')).toBe(Date.UTC(2025, 2, 4, 5, 6, 7, 100));
    expect(parseIsoUtc('2025-03-04T05:06:07.12Z')).toBe(Date.UTC(2025, 2, 4, 5, 6, 7, 120));
    expect(parseIsoUtc('2025-03-04T05:06:07.123456789Z')).toBe(Date.UTC(2025, 2, 4, 5, 6, 7, 123));
  });

  it('leaves everything it is not sure of to the general parser', () => {
    for (const text of [
      '2025-02-29T10:00:00Z', // not a real date: the general parser explains
      '2016-12-31T23:59:60Z', // leap second
      '1999-12-31T23:59:59Z', // before 2000: the general parser and the range check explain
      '2025-03-04T05:06:07z',
      '2025-03-04t05:06:07Z',
      '2025-03-04T05:06:07+00:00',
      '2025-03-04T05:06:07.Z',
      '2025-03-04T05:06:07.1234567890Z',
      ' 2025-03-04T05:06:07Z',
      '2025-03-04',
    ]) {
      expect(parseIsoUtc(text), text).toBeNaN();
    }
    expect(parseIsoUtc('2024-02-29T10:00:00Z')).toBe(Date.UTC(2024, 1, 29, 10));
  });
});
