import type { GroupStats, Report, ReportQuery } from '@strata/core';
import { RollupTotals, alignToRollups, compareText, reportedBound } from '@strata/hot-sqlite';
import type { PgInsights } from './insights.js';

/**
 * The dashboard figures for a range, from the rollups, built exactly as hot-sqlite's report:
 * totals, by role and by query type from the time rollups (the range widens to whole buckets and
 * `range` says so), the top queries from `commonQuestions`.
 */
export async function buildReport(insights: PgInsights, query: ReportQuery, now: number): Promise<Report> {
  const aligned = alignToRollups(query.range, now);
  const totals = new RollupTotals();
  const byRole = new Map<string, RollupTotals>();
  const byQueryType = new Map<string, RollupTotals>();
  const group = (groups: Map<string, RollupTotals>, key: string) => {
    let stats = groups.get(key);
    if (!stats) {
      stats = new RollupTotals();
      groups.set(key, stats);
    }
    return stats;
  };
  const topN = Math.max(1, Math.min(1_000, Math.trunc(query.topN ?? 10)));
  const [sums, latencies, top] = await Promise.all([
    insights.reader.sumsByRoleAndType(aligned.from, aligned.to, query.userRole),
    insights.reader.latencyRows(aligned.from, aligned.to, query.userRole),
    insights.commonQuestions({
      ...(query.range ? { range: query.range } : {}),
      ...(query.userRole !== undefined ? { userRole: query.userRole } : {}),
      limit: topN,
    }),
  ]);
  for (const row of sums) {
    totals.add(row);
    group(byRole, row.user_role).add(row);
    group(byQueryType, row.query_type).add(row);
  }
  for (const row of latencies) totals.addLatency(row);

  return {
    range: { from: reportedBound(aligned.from), to: reportedBound(aligned.to) },
    totals: {
      ...stats(totals),
      sessions: totals.sums.sessions_started,
      p95ResponseTime: totals.p95ResponseTime,
      avgRating: totals.avgRating,
      ratedInteractions: totals.sums.rating_count,
    },
    byRole: ordered(byRole).map(([userRole, row]) => ({ userRole, ...stats(row) })),
    byQueryType: ordered(byQueryType).map(([queryType, row]) => ({ queryType, ...stats(row) })),
    topQueries: top.items.map((item) => ({ query: item.query, queryHash: item.queryHash, count: item.asks, successRate: item.successRate })),
  };
}

function stats(totals: RollupTotals): GroupStats {
  return { interactions: totals.interactions, successRate: totals.successRate, avgResponseTime: totals.avgResponseTime };
}

/** Most interactions first, ties by name; groups with no interactions (sessions only) are left out. */
function ordered(groups: Map<string, RollupTotals>): Array<[string, RollupTotals]> {
  return [...groups].filter(([, row]) => row.interactions > 0).sort(([keyA, a], [keyB, b]) => b.interactions - a.interactions || compareText(keyA, keyB));
}
