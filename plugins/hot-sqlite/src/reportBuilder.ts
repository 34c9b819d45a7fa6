import type { CommonQuestion, GroupStats, InsightsPage, InsightsQuery, Report, ReportQuery } from '@strata/core';
import { compareText } from './compareText.js';
import type { RollupSource } from './rollupAnswers.js';
import { RollupTotals } from './rollupReader.js';
import { alignToRollups, reportedBound } from './timeBuckets.js';

/**
 * The dashboard figures for a range, from the rollups: totals, by role and by query type from the
 * hour and day rollups (minute rollups within the last day; the range widens to whole buckets, and
 * `range` says so), the top queries from `commonQuestions` (daily query rollups, whole UTC days).
 * `sessions` counts the sessions that started in the range widened to whole hours; the p95 comes
 * from merged histograms (within 2%).
 */
export async function buildReport(
  source: RollupSource,
  commonQuestions: (query: InsightsQuery) => Promise<InsightsPage<CommonQuestion>>,
  query: ReportQuery,
  now: number,
): Promise<Report> {
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
    source.sumsByRoleAndType(aligned.from, aligned.to, query.userRole),
    source.latencyRows(aligned.from, aligned.to, query.userRole),
    commonQuestions({
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
