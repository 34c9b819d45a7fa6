import type Database from 'better-sqlite3';
import { ValidationError, monthRange, type MonthKey, type TimeRange } from '@strata/core';
import { monthSpan } from './months.js';
import { ResponseTimeDistribution } from './responseTimes.js';

/** Which baselines to read. An absent role or query type reads the baseline over all of them. */
export interface BaselineQuery {
  /** Widened outward to whole months. */
  range?: TimeRange;
  userRole?: string;
  queryType?: string;
}

/** How one month performed: the reference an alert compares the present with. Ordered by month. */
export interface PerformanceBaseline {
  month: MonthKey;
  /** Epoch ms of the month's start (UTC). */
  monthStart: number;
  /** null: all roles. */
  userRole: string | null;
  /** null: all query types. */
  queryType: string | null;
  interactions: number;
  successRate: number;
  /** Seconds. */
  avgResponseTime: number;
  /** Nearest-rank percentiles in seconds, read from the month's response-time histogram (within ~2%). */
  p50ResponseTime: number;
  p95ResponseTime: number;
  maxResponseTime: number;
}

interface MonthRow {
  user_role: string;
  query_type: string;
  interactions: number;
  successes: number;
  response_us_sum: number;
  response_us_max: number;
  response_histogram: Buffer;
}

/** '' stands for "all" in the key columns: roles and query types are never empty. */
const ALL = '';

class BaselineTotals {
  interactions = 0;
  successes = 0;
  responseUs = 0;
  readonly responseTimes = new ResponseTimeDistribution();

  add(row: MonthRow): void {
    this.interactions += row.interactions;
    this.successes += row.successes;
    this.responseUs += row.response_us_sum;
    this.responseTimes.add(row.response_histogram, row.response_us_max);
  }
}

/**
 * Recomputes a month's baselines from its stored aggregates (never from raw rows): per role and
 * query type, per role, per query type, and over everything. Runs inside the transaction that
 * changed the month, so baselines always agree with the aggregates they came from.
 */
export function prepareBaselineRefresh(db: Database.Database): (month: MonthKey) => void {
  const read = db.prepare(
    `SELECT user_role, query_type, interactions, successes, response_us_sum, response_us_max, response_histogram
     FROM interactions_monthly WHERE month = ?`,
  );
  const clear = db.prepare('DELETE FROM performance_baselines WHERE month = ?');
  const insert = db.prepare(
    `INSERT INTO performance_baselines (month, user_role, query_type, interactions, successes, response_us_sum,
       p50_response_time, p95_response_time, max_response_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  return (month) => {
    const groups = new Map<string, { role: string; type: string; totals: BaselineTotals }>();
    for (const row of read.all(month) as MonthRow[]) {
      for (const [role, type] of [[row.user_role, row.query_type], [row.user_role, ALL], [ALL, row.query_type], [ALL, ALL]] as const) {
        const key = `${role.length}:${role}${type}`;
        let group = groups.get(key);
        if (!group) {
          group = { role, type, totals: new BaselineTotals() };
          groups.set(key, group);
        }
        group.totals.add(row);
      }
    }
    clear.run(month);
    for (const { role, type, totals } of groups.values()) {
      if (totals.interactions === 0) continue;
      const { responseTimes } = totals;
      insert.run(month, role, type, totals.interactions, totals.successes, totals.responseUs, responseTimes.percentile(0.5), responseTimes.percentile(0.95), responseTimes.maxUs / 1e6);
    }
  };
}

interface BaselineRow {
  month: string;
  user_role: string;
  query_type: string;
  interactions: number;
  success_rate: number;
  avg_response_time: number;
  p50_response_time: number;
  p95_response_time: number;
  max_response_time: number;
}

/** Reads baselines, oldest month first; one row per month for the role and query type asked (or all). */
export function prepareBaselineReader(db: Database.Database): (query: BaselineQuery) => PerformanceBaseline[] {
  const select = db.prepare(
    `SELECT month, user_role, query_type, interactions, success_rate, avg_response_time, p50_response_time, p95_response_time, max_response_time
     FROM performance_baselines WHERE month >= ? AND month < ? AND user_role = ? AND query_type = ? ORDER BY month`,
  );
  return (query) => {
    const role = checkName(query.userRole, 'userRole');
    const type = checkName(query.queryType, 'queryType');
    const span = monthSpan(query.range);
    return (select.all(span.fromMonth, span.toMonth, role, type) as BaselineRow[]).map((row) => ({
      month: row.month,
      monthStart: monthRange(row.month).from,
      userRole: row.user_role === ALL ? null : row.user_role,
      queryType: row.query_type === ALL ? null : row.query_type,
      interactions: row.interactions,
      successRate: row.success_rate,
      avgResponseTime: row.avg_response_time,
      p50ResponseTime: row.p50_response_time,
      p95ResponseTime: row.p95_response_time,
      maxResponseTime: row.max_response_time,
    }));
  };
}

function checkName(value: unknown, field: string): string {
  if (value === undefined) return ALL;
  if (typeof value !== 'string' || value === '') {
    throw new ValidationError([{ path: field, message: `must be a non-empty string (or absent for all), got ${JSON.stringify(value)} (historical-sqlite baselines)` }]);
  }
  return value;
}
