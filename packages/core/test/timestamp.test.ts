import { MIN_TIMESTAMP_MS, parseTimestamp } from '@strata/core';
import { describe, expect, it } from 'vitest';

const NOW = Date.UTC(2025, 6, 1, 12);
const DAY = 86_400_000;

describe('parseTimestamp', () => {
  it('reads a date-time without an offset as UTC, not the local zone', () => {
    expect(parseTimestamp('2025-03-04T05:06:07', NOW, DAY)).toEqual({ ok: true, ms: Date.UTC(2025, 2, 4, 5, 6, 7) });
  });

  it('reads a date alone as midnight UTC', () => {
    expect(parseTimestamp('2025-03-04', NOW, DAY)).toEqual({ ok: true, ms: Date.UTC(2025, 2, 4) });
  });

  it('accepts a space between date and time', () => {
    expect(parseTimestamp('2025-03-04 05:06', NOW, DAY)).toEqual({ ok: true, ms: Date.UTC(2025, 2, 4, 5, 6) });
  });

  it('keeps milliseconds and ignores digits beyond them', () => {
    expect(parseTimestamp('2025-03-04T05:06:07.123456789Z', NOW, DAY)).toEqual({ ok: true, ms: Date.UTC(2025, 2, 4, 5, 6, 7, 123) });
  });

  it.each([
    ['+05:30', -(5 * 60 + 30)],
    ['-0800', 8 * 60],
    ['+01', -60],
    ['z', 0],
  ])('applies the offset %s', (zone, minutes) => {
    expect(parseTimestamp(`2025-03-04T12:00:00${zone}`, NOW, DAY)).toEqual({ ok: true, ms: Date.UTC(2025, 2, 4, 12) + minutes * 60_000 });
  });

  it('accepts 29 February in a leap year and rejects it in other years', () => {
    expect(parseTimestamp('2024-02-29T10:00:00Z', NOW, DAY).ok).toBe(true);
    expect(parseTimestamp('2025-02-29T10:00:00Z', NOW, DAY)).toEqual({ ok: false, reason: 'is not a real date, got "2025-02-29T10:00:00Z"' });
  });

  it('accepts a leap second at the end of a day', () => {
    expect(parseTimestamp('2016-12-31T23:59:60Z', NOW, DAY)).toEqual({ ok: true, ms: Date.UTC(2017, 0, 1) });
  });

  it('truncates fractional epoch milliseconds', () => {
    expect(parseTimestamp(1_700_000_000_000.9, NOW, DAY)).toEqual({ ok: true, ms: 1_700_000_000_000 });
  });

  it('accepts the first instant of 2000 and rejects the one before', () => {
    expect(parseTimestamp(MIN_TIMESTAMP_MS, NOW, DAY).ok).toBe(true);
    expect(parseTimestamp(MIN_TIMESTAMP_MS - 1, NOW, DAY).ok).toBe(false);
  });

  it('rejects non-finite numbers', () => {
    expect(parseTimestamp(Number.POSITIVE_INFINITY, NOW, DAY)).toEqual({ ok: false, reason: 'must be a finite number of epoch milliseconds, got Infinity' });
    expect(parseTimestamp(Number.NaN, NOW, DAY).ok).toBe(false);
  });

  it('allows exactly the future allowance and rejects one millisecond more', () => {
    expect(parseTimestamp(NOW + DAY, NOW, DAY).ok).toBe(true);
    expect(parseTimestamp(NOW + DAY + 1, NOW, DAY)).toEqual({ ok: false, reason: `is more than 24 h in the future, got ${NOW + DAY + 1}` });
  });

  it('does not give the seconds hint for a negative number', () => {
    const parsed = parseTimestamp(-5, NOW, DAY);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.reason).not.toContain('seconds');
  });

  it('shortens a very long unparseable string in its reason', () => {
    const parsed = parseTimestamp('x'.repeat(10_000), NOW, DAY);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.reason.length).toBeLessThan(200);
  });
});
