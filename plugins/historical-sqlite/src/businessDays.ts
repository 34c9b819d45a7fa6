import type Database from 'better-sqlite3';
import { ValidationError, type TimeRange } from '@strata/core';
import { DAY_MS } from './months.js';
import { ResponseTimeDistribution } from './responseTimes.js';

export interface BusinessDaysQuery {
  /** Widened outward to whole UTC days. */
  range?: TimeRange;
  userRole?: string;
}

/**
 * The business figures of one UTC day as the warm tier keeps them, permanently. Like the hot tier's
 * `DailyBusinessMetrics` without sessions: sources arrive separately (late events come in later
 * partitions), so a session's start cannot be counted once from sums. Ordered by day.
 */
export interface WarmBusinessDay {
  /** Epoch ms of 00:00 UTC. */
  day: number;
  /** `YYYY-MM-DD`. */
  date: string;
  interactions: number;
  successRate: number;
  /** Seconds. */
  avgResponseTime: number;
  p95ResponseTime: number;
  avgRating: number | null;
  ratedInteractions: number;
}

interface DayRow {
  day: number;
  interactions: number;
  successes: number;
  response_us_sum: number;
  response_us_max: number;
  response_histogram: Buffer;
  rating_sum: number;
  rating_count: number;
}

/** Reads the permanent daily business metrics, summed over roles unless one is asked for. */
export function prepareBusinessDaysReader(db: Database.Database): (query: BusinessDaysQuery) => WarmBusinessDay[] {
  const columns = 'day, interactions, successes, response_us_sum, response_us_max, response_histogram, rating_sum, rating_count';
  const all = db.prepare(`SELECT ${columns} FROM business_daily WHERE day >= ? AND day < ? ORDER BY day`);
  const byRole = db.prepare(`SELECT ${columns} FROM business_daily WHERE day >= ? AND day < ? AND user_role = ? ORDER BY day`);
  return (query) => {
    const from = query.range?.from === undefined ? Number.MIN_SAFE_INTEGER : Math.floor(checkBound(query.range.from, 'range.from') / DAY_MS) * DAY_MS;
    const to = query.range?.to === undefined ? Number.MAX_SAFE_INTEGER : Math.ceil(checkBound(query.range.to, 'range.to') / DAY_MS) * DAY_MS;
    if (query.userRole !== undefined && typeof query.userRole !== 'string') {
      throw new ValidationError([{ path: 'userRole', message: `must be a string, got ${JSON.stringify(query.userRole)} (historical-sqlite)` }]);
    }
    const rows = (query.userRole === undefined ? all.all(from, to) : byRole.all(from, to, query.userRole)) as DayRow[];
    const days: WarmBusinessDay[] = [];
    let index = 0;
    while (index < rows.length) {
      const day = rows[index]!.day;
      let interactions = 0, successes = 0, responseUs = 0, ratingSum = 0, ratingCount = 0;
      const responseTimes = new ResponseTimeDistribution();
      for (; index < rows.length && rows[index]!.day === day; index += 1) {
        const row = rows[index]!;
        interactions += row.interactions;
        successes += row.successes;
        responseUs += row.response_us_sum;
        ratingSum += row.rating_sum;
        ratingCount += row.rating_count;
        responseTimes.add(row.response_histogram, row.response_us_max);
      }
      days.push({
        day,
        date: new Date(day).toISOString().slice(0, 10),
        interactions,
        successRate: successes / interactions,
        avgResponseTime: responseUs / 1e6 / interactions,
        p95ResponseTime: responseTimes.percentile(0.95),
        avgRating: ratingCount > 0 ? ratingSum / ratingCount : null,
        ratedInteractions: ratingCount,
      });
    }
    return days;
  };
}

function checkBound(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new ValidationError([{ path: what, message: `must be epoch milliseconds (a finite number), got ${JSON.stringify(value)} (historical-sqlite)` }]);
  }
  return value;
}
