/** Earliest timestamp accepted: anything earlier is almost always seconds mistaken for milliseconds. */
export const MIN_TIMESTAMP_MS = Date.UTC(2000, 0, 1);

const ISO_8601 =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;

export type TimestampParse = { ok: true; ms: number } | { ok: false; reason: string };

/**
 * Parses an event timestamp: an ISO-8601 string or epoch milliseconds.
 * A date-time without an offset is read as UTC (not the server's local zone), so the same
 * event gets the same time on every machine.
 */
export function parseTimestamp(value: unknown, nowMs: number, maxFutureMs: number): TimestampParse {
  let ms: number;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return { ok: false, reason: `must be a finite number of epoch milliseconds, got ${value}` };
    ms = Math.trunc(value);
  } else if (typeof value === 'string') {
    ms = parseIsoUtc(value);
    if (Number.isNaN(ms)) {
      const general = parseIsoText(value);
      if (!general.ok) return general;
      ms = general.ms;
    }
  } else {
    return { ok: false, reason: `must be an ISO-8601 string or epoch milliseconds, got ${describeType(value)}` };
  }
  return finishTimestamp(value, ms, nowMs, maxFutureMs);
}

/** Any ISO-8601 form the RegExp allows, before the range checks; the reason names what is wrong. */
export function parseIsoText(value: string): TimestampParse {
  const match = ISO_8601.exec(value.trim());
  if (!match) return { ok: false, reason: `must be an ISO-8601 date-time or epoch milliseconds, got ${preview(value)}` };
  const [, y, mo, d, h = '00', mi = '00', s = '00', frac = '', zone] = match;
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12 || day < 1 || day > 31 || Number(h) > 23 || Number(mi) > 59 || Number(s) > 60) {
    return { ok: false, reason: `is not a real date-time, got ${preview(value)}` };
  }
  // The calendar date is checked on its own: a leap second (23:59:60) rolls the time into the
  // next day, which must not make a real date look unreal.
  if (new Date(Date.UTC(Number(y), month - 1, day)).getUTCDate() !== day) return { ok: false, reason: `is not a real date, got ${preview(value)}` };
  const base = Date.UTC(Number(y), month - 1, day, Number(h), Number(mi), Number(s), Number((frac + '000').slice(0, 3)));
  return { ok: true, ms: base - zoneOffsetMs(zone) };
}

/** The range checks every form shares: not before 2000, not too far in the future. */
function finishTimestamp(value: unknown, ms: number, nowMs: number, maxFutureMs: number): TimestampParse {
  if (ms < MIN_TIMESTAMP_MS) {
    const hint = typeof value === 'number' && value > 0 && value < 1e11 ? ' (this looks like seconds; send milliseconds)' : '';
    return { ok: false, reason: `must be after 2000-01-01, got ${preview(value)}${hint}` };
  }
  if (ms > nowMs + maxFutureMs) {
    return { ok: false, reason: `is more than ${Math.round(maxFutureMs / 3_600_000)} h in the future, got ${preview(value)}` };
  }
  return { ok: true, ms };
}

const DIGIT_0 = 48;

/** The value of `count` ASCII digits at `start`, or -1 when any of them is not a digit. */
function digitsAt(text: string, start: number, count: number): number {
  let value = 0;
  for (let index = start; index < start + count; index += 1) {
    const digit = text.charCodeAt(index) - DIGIT_0;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

const isLeapYear = (year: number) => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;

function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

const DAYS_BEFORE_MONTH = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];

/**
 * Days from 1970-01-01 to a date of 1970 or later, counted as Date.UTC counts them (proleptic
 * Gregorian). Plain arithmetic: Date.UTC is a call into the runtime, the larger part of this parse.
 */
function daysSinceEpoch(year: number, month: number, day: number): number {
  const leapDaysBefore = Math.floor((year - 1969) / 4) - Math.floor((year - 1901) / 100) + Math.floor((year - 1601) / 400);
  const leapDayThisYear = month > 2 && isLeapYear(year) ? 1 : 0;
  return (year - 1970) * 365 + leapDaysBefore + DAYS_BEFORE_MONTH[month - 1]! + leapDayThisYear + day - 1;
}

/**
 * The form producers nearly always send (`toISOString()`: `2025-03-04T05:06:07.123Z`, fraction
 * optional, 1–9 digits), read without the RegExp and its captures: validation runs for every
 * ingested event. Returns NaN for anything else — other forms, out-of-range fields, a leap second,
 * years before 2000 — and the general parser then decides and explains, so both give the same answer.
 */
export function parseIsoUtc(text: string): number {
  const length = text.length;
  if (length < 20 || length > 30 || length === 21 || text.charCodeAt(length - 1) !== 90 /* Z */) return Number.NaN;
  // - - T : :
  if (text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45 || text.charCodeAt(10) !== 84 || text.charCodeAt(13) !== 58 || text.charCodeAt(16) !== 58) return Number.NaN;
  const year = digitsAt(text, 0, 4);
  const month = digitsAt(text, 5, 2);
  const day = digitsAt(text, 8, 2);
  const hour = digitsAt(text, 11, 2);
  const minute = digitsAt(text, 14, 2);
  const second = digitsAt(text, 17, 2);
  if (year < 2000 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) {
    return Number.NaN;
  }
  let millis = 0;
  if (length > 20) {
    if (text.charCodeAt(19) !== 46 /* . */) return Number.NaN;
    // Milliseconds are the first three digits, padded: ".1" is 100 ms, ".123456" is 123 ms.
    const digits = length - 21;
    const kept = Math.min(digits, 3);
    millis = digitsAt(text, 20, kept);
    if (millis < 0 || digitsAt(text, 20 + kept, digits - kept) < 0) return Number.NaN;
    millis *= kept === 3 ? 1 : kept === 2 ? 10 : 100;
  }
  return daysSinceEpoch(year, month, day) * 86_400_000 + hour * 3_600_000 + minute * 60_000 + second * 1_000 + millis;
}

function zoneOffsetMs(zone: string | undefined): number {
  if (!zone || zone.toUpperCase() === 'Z') return 0;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const hours = Number(digits.slice(0, 2));
  const minutes = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
  return sign * (hours * 60 + minutes) * 60_000;
}

/** A short, safe rendering of a value for an error message. */
export function preview(value: unknown): string {
  if (typeof value === 'string') {
    const shown = value.length > 60 ? `${value.slice(0, 57)}...` : value;
    return JSON.stringify(shown);
  }
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  return describeType(value);
}

export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (value === undefined) return 'nothing';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
