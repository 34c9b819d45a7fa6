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
    ms = base - zoneOffsetMs(zone);
  } else {
    return { ok: false, reason: `must be an ISO-8601 string or epoch milliseconds, got ${describeType(value)}` };
  }
  if (ms < MIN_TIMESTAMP_MS) {
    const hint = typeof value === 'number' && value > 0 && value < 1e11 ? ' (this looks like seconds; send milliseconds)' : '';
    return { ok: false, reason: `must be after 2000-01-01, got ${preview(value)}${hint}` };
  }
  if (ms > nowMs + maxFutureMs) {
    return { ok: false, reason: `is more than ${Math.round(maxFutureMs / 3_600_000)} h in the future, got ${preview(value)}` };
  }
  return { ok: true, ms };
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
