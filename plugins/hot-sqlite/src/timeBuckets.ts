import type { TimeRange } from '@strata/core';

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/**
 * Minute rollups hold the events whose timestamp was at most this old when they were stored, so
 * every minute bucket from `minuteHorizon(now)` on is complete; older ranges are read by the hour.
 */
export const MINUTE_ROLLUP_HORIZON_MS = DAY_MS;

/** Start of the span where minute rollups are complete: an hour boundary at most a day before `now`. */
export function minuteHorizon(now: number): number {
  return ceilTo(now - MINUTE_ROLLUP_HORIZON_MS, HOUR_MS);
}

/**
 * The range widened outward to the buckets the rollups hold: whole minutes inside the minute
 * horizon, whole hours before it. Absent ends are infinite.
 */
export function alignToRollups(range: TimeRange | undefined, now: number): { from: number; to: number } {
  const horizon = minuteHorizon(now);
  const from = range?.from === undefined ? Number.NEGATIVE_INFINITY : floorTo(range.from, range.from >= horizon ? MINUTE_MS : HOUR_MS);
  const to = range?.to === undefined ? Number.POSITIVE_INFINITY : ceilTo(range.to, range.to > horizon ? MINUTE_MS : HOUR_MS);
  return { from, to };
}

/** The spans of whole buckets covering an aligned range: minutes only inside the horizon. */
export function rollupSpans(from: number, to: number, now: number): BucketSpan[] {
  const horizon = minuteHorizon(now);
  return [...decomposeRange(from, Math.min(to, horizon), [DAY_MS, HOUR_MS]), ...decomposeRange(Math.max(from, horizon), to)];
}

/** Start of the UTC bucket of `size` ms holding `ms`; infinities pass through. */
export function floorTo(ms: number, size: number): number {
  return Math.floor(ms / size) * size;
}

export function ceilTo(ms: number, size: number): number {
  return Math.ceil(ms / size) * size;
}

/** A half-open span of whole buckets of one size; bounds may be ±Infinity (unbounded). */
export interface BucketSpan {
  size: number;
  from: number;
  to: number;
}

/**
 * The range widened outward to whole buckets of `size`: `from` down, `to` up. Absent ends are
 * infinite. Rollups cannot split a bucket, so a range covers every bucket it touches.
 */
export function alignRange(range: TimeRange | undefined, size: number): { from: number; to: number } {
  return {
    from: range?.from === undefined ? Number.NEGATIVE_INFINITY : floorTo(range.from, size),
    to: range?.to === undefined ? Number.POSITIVE_INFINITY : ceilTo(range.to, size),
  };
}

/**
 * Covers [from, to) (aligned to the smallest size) with as few buckets as possible: whole days in
 * the middle, whole hours next to them, minutes at the edges. At most two runs of each finer size,
 * so a range costs O(days + 2·23 hours + 2·59 minutes) rollup keys whatever it holds.
 */
export function decomposeRange(from: number, to: number, sizes: readonly number[] = [DAY_MS, HOUR_MS, MINUTE_MS]): BucketSpan[] {
  if (!(from < to) || sizes.length === 0) return [];
  const [size, ...finer] = sizes as [number, ...number[]];
  if (finer.length === 0) return [{ size, from, to }];
  const start = ceilTo(from, size);
  const end = floorTo(to, size);
  if (!(start < end)) return decomposeRange(from, to, finer);
  return [...decomposeRange(from, start, finer), { size, from: start, to: end }, ...decomposeRange(end, to, finer)];
}

/** A finite stand-in for an infinite bound, for SQL parameters. */
export function sqlBound(ms: number): number {
  if (ms === Number.NEGATIVE_INFINITY) return Number.MIN_SAFE_INTEGER;
  if (ms === Number.POSITIVE_INFINITY) return Number.MAX_SAFE_INTEGER;
  return ms;
}

/** An aligned bound as the API reports it: null for unbounded. */
export function reportedBound(ms: number): number | null {
  return Number.isFinite(ms) ? ms : null;
}
