import type Database from 'better-sqlite3';
import type { Report, ReportQuery } from '@strata/core';

interface GroupRow {
  key: string;
  interactions: number;
  successes: number;
  response_sum: number;
}

/**
 * The dashboard figures for a range, computed over the raw rows. This costs a scan of the range;
 * rollups maintained at ingest replace it (see the hot-tier issue).
 */
export function buildReport(db: Database.Database, query: ReportQuery, normalize: (query: string) => string): Report {
  const clauses: string[] = [];
  const params: unknown[] = [];
  if (query.range?.from !== undefined) {
    clauses.push('timestamp >= ?');
    params.push(query.range.from);
  }
  if (query.range?.to !== undefined) {
    clauses.push('timestamp < ?');
    params.push(query.range.to);
  }
  if (query.userRole !== undefined) {
    clauses.push('user_role = ?');
    params.push(query.userRole);
  }
  const where = clauses.length ? `WHERE ${clauses.join(' AND ')}` : '';
  const totals = db
    .prepare(
      `SELECT COUNT(*) AS interactions, COUNT(DISTINCT session_id) AS sessions, COALESCE(SUM(success), 0) AS successes,
              COALESCE(SUM(response_time), 0) AS response_sum, AVG(user_rating) AS avg_rating, COUNT(user_rating) AS rated
       FROM user_interactions ${where}`,
    )
    .get(...params) as { interactions: number; sessions: number; successes: number; response_sum: number; avg_rating: number | null; rated: number };

  let p95: number | null = null;
  if (totals.interactions > 0) {
    // Nearest-rank percentile: the smallest value with at least 95% of values at or below it.
    const rank = Math.ceil(0.95 * totals.interactions);
    const row = db.prepare(`SELECT response_time FROM user_interactions ${where} ORDER BY response_time LIMIT 1 OFFSET ?`).get(...params, rank - 1) as
      | { response_time: number }
      | undefined;
    p95 = row?.response_time ?? null;
  }

  const group = (column: string) =>
    (
      db
        .prepare(
          `SELECT ${column} AS key, COUNT(*) AS interactions, SUM(success) AS successes, SUM(response_time) AS response_sum
           FROM user_interactions ${where} GROUP BY ${column} ORDER BY interactions DESC, key`,
        )
        .all(...params) as GroupRow[]
    ).map((row) => ({ key: row.key, ...stats(row.interactions, row.successes, row.response_sum) }));

  const topN = Math.max(1, Math.min(1_000, Math.trunc(query.topN ?? 10)));
  const top = db
    .prepare(
      `SELECT query_hash, MIN(query) AS sample, COUNT(*) AS n, SUM(success) AS successes
       FROM user_interactions ${where} GROUP BY query_hash ORDER BY n DESC, query_hash LIMIT ?`,
    )
    .all(...params, topN) as Array<{ query_hash: string; sample: string; n: number; successes: number }>;

  return {
    range: { from: query.range?.from ?? null, to: query.range?.to ?? null },
    totals: {
      ...stats(totals.interactions, totals.successes, totals.response_sum),
      sessions: totals.sessions,
      p95ResponseTime: p95,
      avgRating: totals.avg_rating,
      ratedInteractions: totals.rated,
    },
    byRole: group('user_role').map(({ key, ...rest }) => ({ userRole: key, ...rest })),
    byQueryType: group('query_type').map(({ key, ...rest }) => ({ queryType: key, ...rest })),
    topQueries: top.map((row) => ({ query: normalize(row.sample), queryHash: row.query_hash, count: row.n, successRate: row.n > 0 ? row.successes / row.n : null })),
  };
}

function stats(interactions: number, successes: number, responseSum: number) {
  return {
    interactions,
    successRate: interactions > 0 ? successes / interactions : null,
    avgResponseTime: interactions > 0 ? responseSum / interactions : null,
  };
}
