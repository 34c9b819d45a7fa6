import { parseDuration, parseTimestamp } from '@strata/core';
import { ExportOptionError } from './exportErrors.js';

/**
 * Reads a time bound as people type it: a duration back from `now` (`30d`, `12h`), an ISO-8601
 * date or date-time (UTC unless it has an offset), or epoch milliseconds.
 */
export function parseTimeBound(text: string, field: string, now: number): number {
  const ago = parseDuration(text);
  if (ago !== undefined) return now - ago;
  const trimmed = text.trim();
  const parsed = parseTimestamp(/^\d+$/.test(trimmed) ? Number(trimmed) : trimmed, now, Number.POSITIVE_INFINITY);
  if (!parsed.ok) throw new ExportOptionError(field, `${parsed.reason}; use a duration back from now such as 30d or 12h, a date such as 2026-01-31, or a date-time such as 2026-01-31T12:00:00Z`);
  return parsed.ms;
}
