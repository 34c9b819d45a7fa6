import type { DailyBusinessMetrics, InsightsPage, InsightsQuery, RoleBehaviour, TrendingPage, TrendingQueriesQuery } from '@strata/core';
import { compareText } from './compareText.js';
import { decodeCursor, encodeCursor, insightsPageSize, pageAfter } from './insightsCursor.js';
import { DEFAULT_BASELINE_DAYS, DEFAULT_RECENT_DAYS, rankTrending, trendingWindowDays, type TrendingAsks } from './insightsShaping.js';
import { RollupTotals, type LatencyRow, type RollupSums } from './rollupReader.js';
import { DAY_MS, alignToRollups, ceilTo, reportedBound } from './timeBuckets.js';

/** Rollup sums of one role and query type. */
export type RoleTypeSums = RollupSums & { user_role: string; query_type: string };

/**
 * What the time-rollup answers read: hot-sqlite's `RollupReader` (synchronous) or another store's
 * reader of the same tables (asynchronous), over ranges aligned with `alignToRollups`.
 */
export interface RollupSource {
  sumsByRoleAndType(from: number, to: number, userRole: string | undefined): RoleTypeSums[] | Promise<RoleTypeSums[]>;
  sumsByDay(from: number, to: number, userRole: string | undefined): Map<number, RollupSums> | Promise<Map<number, RollupSums>>;
  latencyRows(from: number, to: number, userRole: string | undefined): LatencyRow[] | Promise<LatencyRow[]>;
}

/** Behaviour by role over the range widened to whole rollup buckets: most interactions first, ties by role. */
export async function userBehaviourPage(tier: string, source: RollupSource, query: InsightsQuery, now: number): Promise<InsightsPage<RoleBehaviour>> {
  const limit = insightsPageSize(query.limit);
  const aligned = alignToRollups(query.range, now);
  const groups = new Map<string, { totals: RollupTotals; types: Map<string, number> }>();
  const groupOf = (role: string) => {
    let group = groups.get(role);
    if (!group) {
      group = { totals: new RollupTotals(), types: new Map() };
      groups.set(role, group);
    }
    return group;
  };
  const [sums, latencies] = await Promise.all([
    source.sumsByRoleAndType(aligned.from, aligned.to, query.userRole),
    source.latencyRows(aligned.from, aligned.to, query.userRole),
  ]);
  for (const row of sums) {
    const group = groupOf(row.user_role);
    group.totals.add(row);
    group.types.set(row.query_type, (group.types.get(row.query_type) ?? 0) + row.interactions);
  }
  for (const row of latencies) groups.get(row.user_role)?.totals.addLatency(row);
  const ordered = [...groups].sort(([roleA, a], [roleB, b]) => b.totals.interactions - a.totals.interactions || compareText(roleA, roleB));
  const items = ordered.map(([userRole, { totals, types }]): RoleBehaviour => {
    const { sums: total } = totals;
    return {
      userRole,
      interactions: total.interactions,
      sessions: total.sessions_started,
      queriesPerSession: total.sessions_started > 0 ? total.interactions / total.sessions_started : null,
      successRate: totals.successRate,
      avgResponseTime: totals.avgResponseTime,
      p95ResponseTime: totals.p95ResponseTime,
      avgRating: totals.avgRating,
      ratedInteractions: total.rating_count,
      conversionRate: total.sessions_started > 0 ? total.sessions_converted / total.sessions_started : null,
      followUpRate: totals.ratio(total.follow_ups),
      codeSnippetsPerInteraction: totals.ratio(total.code_snippets),
      citationsPerInteraction: totals.ratio(total.citations),
      queryTypes: Object.fromEntries([...types].filter(([, count]) => count > 0).sort(([a], [b]) => compareText(a, b))),
    };
  });
  return pageAfter(tier, items, limit, query.cursor, 'roles', ['number', 'string'], (item) => [item.interactions, item.userRole], {
    from: reportedBound(aligned.from),
    to: reportedBound(aligned.to),
  });
}

/** Business metrics per UTC day with interactions, oldest first; the cursor names the last day given. */
export async function businessMetricsPage(tier: string, source: RollupSource, query: InsightsQuery, now: number): Promise<InsightsPage<DailyBusinessMetrics>> {
  const limit = insightsPageSize(query.limit);
  const aligned = alignToRollups(query.range, now);
  let from = aligned.from;
  if (query.cursor) {
    const [lastDay] = decodeCursor(tier, 'days', query.cursor, ['number']) as [number];
    from = Math.max(from, lastDay + DAY_MS);
  }
  const sums = await source.sumsByDay(from, aligned.to, query.userRole);
  const days = [...sums.keys()].sort((a, b) => a - b);
  const pageDays = days.slice(0, limit);
  // Only the days on this page pay for merging histograms.
  const totals = new Map(pageDays.map((day) => [day, new RollupTotals()]));
  for (const day of pageDays) totals.get(day)!.add(sums.get(day)!);
  if (pageDays.length > 0) {
    const pageEnd = Math.min(aligned.to, pageDays[pageDays.length - 1]! + DAY_MS);
    for (const row of await source.latencyRows(from, pageEnd, query.userRole)) totals.get(Math.floor(row.bucket_start / DAY_MS) * DAY_MS)?.addLatency(row);
  }
  const items = pageDays.map((day): DailyBusinessMetrics => {
    const total = totals.get(day)!;
    return {
      day,
      date: new Date(day).toISOString().slice(0, 10),
      interactions: total.sums.interactions,
      sessions: total.sums.sessions_started,
      convertedSessions: total.sums.sessions_converted,
      successRate: total.successRate,
      avgResponseTime: total.avgResponseTime,
      p95ResponseTime: total.p95ResponseTime,
      avgRating: total.avgRating,
      ratedInteractions: total.sums.rating_count,
    };
  });
  const last = items[items.length - 1];
  return {
    items,
    nextCursor: days.length > limit && last ? encodeCursor('days', [last.day]) : null,
    range: { from: reportedBound(aligned.from), to: reportedBound(aligned.to) },
  };
}

/** The days trending compares, epoch ms: recent asks in [recentFrom, asOf), the baseline in [baselineFrom, recentFrom). */
export interface TrendingWindow {
  baselineFrom: number;
  recentFrom: number;
  asOf: number;
}

/**
 * Trending over the daily query rollups: the recent window ends at the range's end widened to a
 * whole UTC day (else after the latest day with data) and the baseline is the days before it.
 * `asksIn` reads each question's asks in the two windows (for `query.userRole` when given).
 */
export async function dailyTrendingPage(
  tier: string,
  query: TrendingQueriesQuery,
  latestDay: () => number | null | Promise<number | null>,
  asksIn: (window: TrendingWindow) => TrendingAsks[] | Promise<TrendingAsks[]>,
): Promise<TrendingPage> {
  const limit = insightsPageSize(query.limit);
  const recentDays = trendingWindowDays(tier, query.recentDays, DEFAULT_RECENT_DAYS, 'recentDays');
  const baselineDays = trendingWindowDays(tier, query.baselineDays, DEFAULT_BASELINE_DAYS, 'baselineDays');
  const latest = await latestDay();
  const asOf = query.range?.to !== undefined ? ceilTo(query.range.to, DAY_MS) : latest === null ? null : latest + DAY_MS;
  const empty = { items: [], nextCursor: null, range: { from: null, to: null }, asOf, recentDays, baselineDays };
  if (asOf === null) return empty;
  const recentFrom = asOf - recentDays * DAY_MS;
  const baselineFrom = recentFrom - baselineDays * DAY_MS;
  const ranked = rankTrending(await asksIn({ baselineFrom, recentFrom, asOf }), recentDays, baselineDays);
  const page = pageAfter(tier, ranked, limit, query.cursor, 'trending', ['number', 'string'], (item) => [item.trendingScore, item.queryHash], {
    from: baselineFrom,
    to: asOf,
  });
  return { ...page, asOf, recentDays, baselineDays };
}
