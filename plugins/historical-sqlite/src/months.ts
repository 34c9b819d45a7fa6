import { StorageError, ValidationError, monthOf, monthRange, type MonthKey, type TimeRange } from '@strata/core';

export const DAY_MS = 86_400_000;
const NAME = 'historical-sqlite';

/** Month keys sort as text only while years have four digits; bounds outside are treated as unbounded. */
const EARLIEST_KEYED = Date.UTC(1000, 0, 1);
const LATEST_KEYED = Date.UTC(9999, 11, 1);
/** Sort below and above every `YYYY-MM` key. */
const BEFORE_ALL_MONTHS = '0000-00';
const AFTER_ALL_MONTHS = '9999-99';

/** Start (epoch ms) of the UTC month holding `ms`. */
export function floorMonth(ms: number): number {
  return monthRange(monthOf(ms)).from;
}

/** `ms` if it starts a month, else the start of the next one. */
export function ceilMonth(ms: number): number {
  const start = floorMonth(ms);
  return start === ms ? ms : monthRange(monthOf(ms)).to;
}

/** The month after `month`. */
export function nextMonth(month: MonthKey): MonthKey {
  return monthOf(monthRange(month).to);
}

/** A range widened outward to whole months: text bounds for the `month` column, and what to report. */
export interface MonthSpan {
  /** First month inside, or a key below all months when unbounded. */
  fromMonth: string;
  /** First month after, or a key above all months when unbounded. */
  toMonth: string;
  /** Reported bounds, epoch ms; null when unbounded. */
  from: number | null;
  to: number | null;
}

export function monthSpan(range: TimeRange | undefined): MonthSpan {
  const from = checkBound(range?.from, 'range.from');
  const to = checkBound(range?.to, 'range.to');
  const start = from === undefined || from < EARLIEST_KEYED ? null : floorMonth(Math.min(from, LATEST_KEYED));
  const end = to === undefined || to > LATEST_KEYED ? null : ceilMonth(Math.max(to, EARLIEST_KEYED));
  return {
    fromMonth: start === null ? BEFORE_ALL_MONTHS : monthOf(start),
    toMonth: end === null ? AFTER_ALL_MONTHS : monthOf(end),
    from: start,
    to: end,
  };
}

/** Checks a `YYYY-MM` key given by a caller, naming the argument when it is not one. */
export function checkMonth(month: unknown, what: string): MonthKey {
  if (typeof month === 'string') {
    try {
      monthRange(month);
      return month;
    } catch {
      // fall through to the error below
    }
  }
  throw new StorageError(`${NAME}: ${what} must be a month as YYYY-MM (e.g. 2025-03), got ${JSON.stringify(month)}`);
}

function checkBound(value: unknown, what: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new ValidationError([{ path: what, message: `must be epoch milliseconds (a finite number), got ${JSON.stringify(value)} (${NAME})` }]);
  }
  return value;
}

/** Orders strings by their UTF-8 bytes, as SQLite's BINARY collation does, so ties decided in JS and in SQL agree. */
export function compareBinary(a: string, b: string): number {
  if (a === b) return 0;
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
