import type Database from 'better-sqlite3';
import {
  StorageError,
  type CommonQuestion,
  type ContentEffectiveness,
  type DailyBusinessMetrics,
  type InsightsGranularity,
  type InsightsPage,
  type InsightsProvider,
  type InsightsQuery,
  type RoleBehaviour,
  type SystemPerformancePoint,
  type SystemPerformanceQuery,
  type TrendingPage,
  type TrendingQueriesQuery,
  type TrendingQuery,
} from '@strata/core';
import { compareText, type RankedCounts } from './compareText.js';
import { performanceScoreSql } from './migrations.js';
import { RollupReader, RollupTotals } from './rollupReader.js';
import { DAY_MS, HOUR_MS, MINUTE_MS, alignRange, alignToRollups, ceilTo, reportedBound, sqlBound } from './timeBuckets.js';
import { StatementCache } from './statementCache.js';
import { detailPrunedBefore } from './tierLifecycle.js';

const NAME = 'hot-sqlite';
export const DEFAULT_INSIGHTS_LIMIT = 50;
export const MAX_INSIGHTS_LIMIT = 1_000;
const DEFAULT_RECENT_DAYS = 7;
const DEFAULT_BASELINE_DAYS = 28;

const GRANULARITY_MS: Record<InsightsGranularity, number> = { minute: MINUTE_MS, hour: HOUR_MS, day: DAY_MS };

interface QuestionRow {
  id: number;
  query_hash: string;
  asks: number;
  successes: number;
  response_us_sum: number;
  rating_sum: number;
  rating_count: number;
  roles: string;
  query_normalized: string;
  query_category: string;
  last_asked: number;
}

interface ContentRow {
  id: number;
  content_type: string;
  content_id: string;
  accesses: number;
  successes: number;
  relevance_micro_sum: number;
  relevance_count: number;
  score: number;
  roles: string;
  first_accessed: number;
  last_accessed: number;
}

interface MetricRow {
  bucket_start: number;
  metric_name: string;
  component: string;
  metric_unit: string;
  samples: number;
  value_sum: number;
  value_min: number;
  value_max: number;
}

/**
 * The insights API over the hot tier's rollups. Every statement is prepared once; every answer
 * reads rollup rows only (never `user_interactions`), so its cost depends on the range in days,
 * the roles, query types and distinct questions or content items, not on the number of events.
 *
 * Ranges: business metrics and behaviour by role read hour and day rollups, and minute rollups
 * within the last day, so their range widens to whole hours (whole minutes inside the last day;
 * sessions always by the hour); questions and content read daily rollups, so theirs widens to whole UTC
 * days. Each page says which range it covered.
 */
export class HotSqliteInsights implements InsightsProvider {
  readonly reader: RollupReader;
  private readonly statementCache: StatementCache;

  private readonly now: () => number;
  private readonly assertOpen: () => void;

  constructor(
    private readonly db: Database.Database,
    options: {
      /** The clock: the minute horizon is measured back from it. Default Date.now. */
      now?: () => number;
      /** Throws when the tier is closed. */
      assertOpen?: () => void;
    } = {},
  ) {
    this.now = options.now ?? Date.now;
    this.assertOpen = options.assertOpen ?? (() => undefined);
    this.reader = new RollupReader(db, this.now);
    this.statementCache = new StatementCache(db);
  }

  async detailCoverage(): Promise<{ from: number | null }> {
    this.assertOpen();
    return { from: detailPrunedBefore(this.db) };
  }

  async commonQuestions(query: InsightsQuery = {}): Promise<InsightsPage<CommonQuestion>> {
    this.assertOpen();
    const limit = pageSize(query.limit);
    // Ordered by asks, ties by id (first asked first): the keyset of the cursor.
    const [asks, afterId] = query.cursor ? (decodeCursor('questions', query.cursor, ['number', 'number']) as [number, number]) : [Number.MAX_SAFE_INTEGER, 0];
    let rows: QuestionRow[];
    let range: InsightsPage<unknown>['range'];
    if (query.range === undefined && query.userRole === undefined) {
      // All stored data: query_performance is the answer, read in order from its (total_asks DESC, id) index.
      const columns = `id, query_hash, total_asks AS asks, successes, response_us_sum, rating_sum, rating_count, popular_roles AS roles, query_normalized, query_category, last_asked`;
      rows = this.rankedPage<QuestionRow>('questions', `SELECT ${columns} FROM query_performance`, 'total_asks', asks, afterId, limit);
      range = { from: null, to: null };
    } else {
      const days = alignRange(query.range, DAY_MS);
      const role = query.userRole !== undefined;
      rows = this.statement(
        `questions-range${role ? '-role' : ''}`,
        `SELECT q.id, q.query_hash, g.total_asks AS asks, g.successes, g.response_us_sum, g.rating_sum, g.rating_count, q.popular_roles AS roles,
                q.query_normalized, q.query_category, q.last_asked
         FROM (
           SELECT query_ref, SUM(asks) AS total_asks, SUM(successes) AS successes, SUM(response_us_sum) AS response_us_sum,
                  SUM(rating_sum) AS rating_sum, SUM(rating_count) AS rating_count
           FROM ${role ? 'query_daily_by_role WHERE user_role = @role AND' : 'query_daily WHERE'} day >= @from AND day < @to
           GROUP BY query_ref
           HAVING total_asks < @asks OR (total_asks = @asks AND query_ref > @id)
           ORDER BY total_asks DESC, query_ref LIMIT @limit
         ) g JOIN query_performance q ON q.id = g.query_ref
         ORDER BY g.total_asks DESC, g.query_ref`,
      ).all({ from: sqlBound(days.from), to: sqlBound(days.to), asks, id: afterId, limit: limit + 1, ...(role ? { role: query.userRole } : {}) }) as QuestionRow[];
      range = { from: reportedBound(days.from), to: reportedBound(days.to) };
    }
    const items = rows.slice(0, limit).map(
      (row): CommonQuestion => ({
        queryHash: row.query_hash,
        query: row.query_normalized,
        category: row.query_category,
        asks: row.asks,
        successRate: row.successes / row.asks,
        avgResponseTime: row.response_us_sum / 1e6 / row.asks,
        avgRating: row.rating_count > 0 ? row.rating_sum / row.rating_count : null,
        ratedAsks: row.rating_count,
        popularRoles: rankedKeys(row.roles),
        lastAsked: row.last_asked,
      }),
    );
    const last = rows[limit - 1];
    return { items, nextCursor: rows.length > limit && last ? encodeCursor('questions', [last.asks, last.id]) : null, range };
  }

  async userBehaviour(query: InsightsQuery = {}): Promise<InsightsPage<RoleBehaviour>> {
    this.assertOpen();
    const limit = pageSize(query.limit);
    const aligned = alignToRollups(query.range, this.now());
    const groups = new Map<string, { totals: RollupTotals; types: Map<string, number> }>();
    const groupOf = (role: string) => {
      let group = groups.get(role);
      if (!group) {
        group = { totals: new RollupTotals(), types: new Map() };
        groups.set(role, group);
      }
      return group;
    };
    for (const row of this.reader.sumsByRoleAndType(aligned.from, aligned.to, query.userRole)) {
      const group = groupOf(row.user_role);
      group.totals.add(row);
      group.types.set(row.query_type, (group.types.get(row.query_type) ?? 0) + row.interactions);
    }
    for (const row of this.reader.latencyRows(aligned.from, aligned.to, query.userRole)) groups.get(row.user_role)?.totals.addLatency(row);
    const ordered = [...groups].sort(([roleA, a], [roleB, b]) => b.totals.interactions - a.totals.interactions || compareText(roleA, roleB));
    const items = ordered.map(([userRole, { totals, types }]): RoleBehaviour => {
      const { sums } = totals;
      return {
        userRole,
        interactions: sums.interactions,
        sessions: sums.sessions_started,
        queriesPerSession: sums.sessions_started > 0 ? sums.interactions / sums.sessions_started : null,
        successRate: totals.successRate,
        avgResponseTime: totals.avgResponseTime,
        p95ResponseTime: totals.p95ResponseTime,
        avgRating: totals.avgRating,
        ratedInteractions: sums.rating_count,
        conversionRate: sums.sessions_started > 0 ? sums.sessions_converted / sums.sessions_started : null,
        followUpRate: totals.ratio(sums.follow_ups),
        codeSnippetsPerInteraction: totals.ratio(sums.code_snippets),
        citationsPerInteraction: totals.ratio(sums.citations),
        queryTypes: Object.fromEntries([...types].filter(([, count]) => count > 0).sort(([a], [b]) => compareText(a, b))),
      };
    });
    return pageAfter(items, limit, query.cursor, 'roles', ['number', 'string'], (item) => [item.interactions, item.userRole], {
      from: reportedBound(aligned.from),
      to: reportedBound(aligned.to),
    });
  }

  async contentEffectiveness(query: InsightsQuery = {}): Promise<InsightsPage<ContentEffectiveness>> {
    this.assertOpen();
    const limit = pageSize(query.limit);
    // Ordered by score, ties by id (first used first): the keyset of the cursor.
    const [score, afterId] = query.cursor ? (decodeCursor('content', query.cursor, ['number', 'number']) as [number, number]) : [Number.POSITIVE_INFINITY, 0];
    let rows: ContentRow[];
    let range: InsightsPage<unknown>['range'];
    const columns = `id, content_type, content_id, user_roles_accessing AS roles, first_accessed, last_accessed`;
    if (query.range === undefined && query.userRole === undefined) {
      const all = `${columns}, access_count AS accesses, successes, relevance_micro_sum, relevance_count, performance_score AS score`;
      rows = this.rankedPage<ContentRow>('content', `SELECT ${all} FROM content_performance`, 'performance_score', score, afterId, limit);
      range = { from: null, to: null };
    } else {
      const days = alignRange(query.range, DAY_MS);
      const role = query.userRole !== undefined;
      rows = this.statement(
        `content-range${role ? '-role' : ''}`,
        `SELECT g.*, ${columns.split(', ').map((column) => `c.${column}`).join(', ')} FROM (
           SELECT content_ref, SUM(accesses) AS accesses, SUM(successes) AS successes,
                  SUM(relevance_micro_sum) AS relevance_micro_sum, SUM(relevance_count) AS relevance_count,
                  ${performanceScoreSql('SUM(successes)', 'SUM(accesses)', 'SUM(relevance_micro_sum)', 'SUM(relevance_count)')} AS score
           FROM ${role ? 'content_daily_by_role WHERE user_role = @role AND' : 'content_daily WHERE'} day >= @from AND day < @to
           GROUP BY content_ref
           HAVING score < @score OR (score = @score AND content_ref > @id)
           ORDER BY score DESC, content_ref LIMIT @limit
         ) g JOIN content_performance c ON c.id = g.content_ref
         ORDER BY g.score DESC, g.content_ref`,
      ).all({ from: sqlBound(days.from), to: sqlBound(days.to), score, id: afterId, limit: limit + 1, ...(role ? { role: query.userRole } : {}) }) as ContentRow[];
      range = { from: reportedBound(days.from), to: reportedBound(days.to) };
    }
    const items = rows.slice(0, limit).map(
      (row): ContentEffectiveness => ({
        contentType: row.content_type,
        contentId: row.content_id,
        accesses: row.accesses,
        avgRelevance: row.relevance_count > 0 ? row.relevance_micro_sum / 1e6 / row.relevance_count : null,
        relevanceCount: row.relevance_count,
        successRate: row.successes / row.accesses,
        performanceScore: row.score,
        roles: rankedKeys(row.roles),
        firstAccessed: row.first_accessed,
        lastAccessed: row.last_accessed,
      }),
    );
    const last = rows[limit - 1];
    return { items, nextCursor: rows.length > limit && last ? encodeCursor('content', [last.score, last.id]) : null, range };
  }

  async businessMetrics(query: InsightsQuery = {}): Promise<InsightsPage<DailyBusinessMetrics>> {
    this.assertOpen();
    const limit = pageSize(query.limit);
    const aligned = alignToRollups(query.range, this.now());
    let from = aligned.from;
    if (query.cursor) {
      const [lastDay] = decodeCursor('days', query.cursor, ['number']) as [number];
      from = Math.max(from, lastDay + DAY_MS);
    }
    const sums = this.reader.sumsByDay(from, aligned.to, query.userRole);
    const days = [...sums.keys()].sort((a, b) => a - b);
    const pageDays = days.slice(0, limit);
    // Only the days on this page pay for merging histograms.
    const totals = new Map(pageDays.map((day) => [day, new RollupTotals()]));
    for (const day of pageDays) totals.get(day)!.add(sums.get(day)!);
    if (pageDays.length > 0) {
      const pageEnd = Math.min(aligned.to, pageDays[pageDays.length - 1]! + DAY_MS);
      for (const row of this.reader.latencyRows(from, pageEnd, query.userRole)) totals.get(Math.floor(row.bucket_start / DAY_MS) * DAY_MS)?.addLatency(row);
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

  async trendingQueries(query: TrendingQueriesQuery = {}): Promise<TrendingPage> {
    this.assertOpen();
    const limit = pageSize(query.limit);
    const recentDays = wholeDays(query.recentDays, DEFAULT_RECENT_DAYS, 'recentDays');
    const baselineDays = wholeDays(query.baselineDays, DEFAULT_BASELINE_DAYS, 'baselineDays');
    const latest = this.reader.latestDay();
    const asOf = query.range?.to !== undefined ? ceilTo(query.range.to, DAY_MS) : latest === null ? null : latest + DAY_MS;
    const empty = { items: [], nextCursor: null, range: { from: null, to: null }, asOf, recentDays, baselineDays };
    if (asOf === null) return empty;
    const recentFrom = asOf - recentDays * DAY_MS;
    const baselineFrom = recentFrom - baselineDays * DAY_MS;
    const role = query.userRole !== undefined;
    const rows = this.statement(
      `trending${role ? '-role' : ''}`,
      `SELECT q.query_hash, g.recent, g.baseline, q.query_normalized FROM (
         SELECT query_ref, SUM(CASE WHEN day >= @recentFrom THEN asks ELSE 0 END) AS recent, SUM(CASE WHEN day < @recentFrom THEN asks ELSE 0 END) AS baseline
         FROM ${role ? 'query_daily_by_role WHERE user_role = @role AND' : 'query_daily WHERE'} day >= @baselineFrom AND day < @asOf
         GROUP BY query_ref HAVING recent > 0
       ) g JOIN query_performance q ON q.id = g.query_ref`,
    ).all({ recentFrom, baselineFrom, asOf, ...(role ? { role: query.userRole } : {}) }) as Array<{
      query_hash: string;
      recent: number;
      baseline: number;
      query_normalized: string;
    }>;
    const ranked = rows
      .map((row): TrendingQuery => {
        const expectedAsks = (row.baseline * recentDays) / baselineDays;
        return {
          queryHash: row.query_hash,
          query: row.query_normalized,
          recentAsks: row.recent,
          baselineAsks: row.baseline,
          expectedAsks,
          trendingScore: trendingScore(row.recent, expectedAsks),
        };
      })
      .filter((item) => item.trendingScore > 0)
      .sort((a, b) => b.trendingScore - a.trendingScore || compareText(a.queryHash, b.queryHash));
    const page = pageAfter(ranked, limit, query.cursor, 'trending', ['number', 'string'], (item) => [item.trendingScore, item.queryHash], {
      from: baselineFrom,
      to: asOf,
    });
    return { ...page, asOf, recentDays, baselineDays };
  }

  async systemPerformance(query: SystemPerformanceQuery = {}): Promise<InsightsPage<SystemPerformancePoint>> {
    this.assertOpen();
    const limit = pageSize(query.limit);
    const granularity = query.granularity ?? 'hour';
    const size = GRANULARITY_MS[granularity];
    if (size === undefined) throw new StorageError(`${NAME}: granularity must be minute, hour or day, got ${JSON.stringify(granularity)}`);
    const aligned = alignRange(query.range, size);
    const [bucket, metric, component, unit] = query.cursor
      ? (decodeCursor('metrics', query.cursor, ['number', 'string', 'string', 'string']) as [number, string, string, string])
      : [Number.MIN_SAFE_INTEGER, '', '', ''];
    const byName = query.metricName !== undefined;
    const rows = this.statement(
      `metrics-${granularity}${byName ? '-name' : ''}`,
      `SELECT * FROM metric_rollup_${granularity}
       WHERE bucket_start >= @from AND bucket_start < @to ${byName ? 'AND metric_name = @name' : ''}
         AND (bucket_start, metric_name, component, metric_unit) > (@bucket, @metric, @component, @unit)
       ORDER BY bucket_start, metric_name, component, metric_unit LIMIT @limit`,
    ).all({
      from: sqlBound(aligned.from),
      to: sqlBound(aligned.to),
      bucket,
      metric,
      component,
      unit,
      limit: limit + 1,
      ...(byName ? { name: query.metricName } : {}),
    }) as MetricRow[];
    const page = rows.slice(0, limit);
    const items = page.map(
      (row): SystemPerformancePoint => ({
        bucketStart: row.bucket_start,
        metricName: row.metric_name,
        component: row.component === '' ? null : row.component,
        unit: row.metric_unit === '' ? null : row.metric_unit,
        samples: row.samples,
        avg: row.value_sum / row.samples,
        min: row.value_min,
        max: row.value_max,
      }),
    );
    const last = page[page.length - 1];
    return {
      items,
      nextCursor: rows.length > limit && last ? encodeCursor('metrics', [last.bucket_start, last.metric_name, last.component, last.metric_unit]) : null,
      range: { from: reportedBound(aligned.from), to: reportedBound(aligned.to) },
    };
  }

  private statement(key: string, sql: string): Database.Statement {
    return this.statementCache.get(key, sql);
  }

  /**
   * Up to `limit + 1` rows after the keyset (rank, id) in the order `rank DESC, id`: first the rest
   * of the rows tied at `rank`, then those below it. Two index range scans, however deep the page.
   */
  private rankedPage<Row>(key: string, select: string, rankColumn: string, rank: number, afterId: number, limit: number): Row[] {
    const ties = this.statement(`${key}-ties`, `${select} WHERE ${rankColumn} = ? AND id > ? ORDER BY id LIMIT ?`).all(rank, afterId, limit + 1) as Row[];
    if (ties.length > limit) return ties;
    const below = this.statement(`${key}-below`, `${select} WHERE ${rankColumn} < ? ORDER BY ${rankColumn} DESC, id LIMIT ?`).all(rank, limit + 1 - ties.length) as Row[];
    return ties.concat(below);
  }
}

/**
 * How far a question's recent asks exceed what its history predicts, in Poisson standard
 * deviations: (recent − expected) / √(expected + 1). A question new this week with 5 asks scores
 * 5; one asked 50 times against an expected 40 scores 1.6; anything at or below its history scores ≤ 0.
 */
export function trendingScore(recentAsks: number, expectedAsks: number): number {
  return (recentAsks - expectedAsks) / Math.sqrt(expectedAsks + 1);
}

function pageSize(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return DEFAULT_INSIGHTS_LIMIT;
  return Math.min(Math.max(1, Math.trunc(limit)), MAX_INSIGHTS_LIMIT);
}

function wholeDays(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1 || value > 3_650) throw new StorageError(`${NAME}: ${name} must be a whole number of days from 1 to 3650, got ${JSON.stringify(value)}`);
  return value;
}

/** Keys of a stored `[[key, count], …]` list, which is kept ranked (most counted first). */
function rankedKeys(json: string): string[] {
  return (JSON.parse(json) as RankedCounts).map(([key]) => key);
}

type CursorValue = number | string;

/** A page of an already ordered list, after the item the cursor names (by its sort key). */
function pageAfter<T>(
  items: readonly T[],
  limit: number,
  cursor: string | undefined,
  kind: string,
  types: ReadonlyArray<'number' | 'string'>,
  keyOf: (item: T) => CursorValue[],
  range: InsightsPage<T>['range'],
): InsightsPage<T> {
  let start = 0;
  if (cursor) {
    const after = decodeCursor(kind, cursor, types);
    // Items are sorted by key: first the numeric key descending, then the text keys ascending.
    start = items.findIndex((item) => compareKeys(keyOf(item), after) > 0);
    if (start < 0) start = items.length;
  }
  const page = items.slice(start, start + limit);
  const last = page[page.length - 1];
  return { items: page, nextCursor: start + limit < items.length && last !== undefined ? encodeCursor(kind, keyOf(last)) : null, range };
}

/** Compares sort keys shaped [number (descending), ...strings (ascending)]. */
function compareKeys(a: readonly CursorValue[], b: readonly CursorValue[]): number {
  const byNumber = (b[0] as number) - (a[0] as number);
  if (byNumber !== 0) return byNumber;
  for (let index = 1; index < a.length; index += 1) {
    const order = compareText(a[index] as string, b[index] as string);
    if (order !== 0) return order;
  }
  return 0;
}

function encodeCursor(kind: string, values: readonly CursorValue[]): string {
  return Buffer.from(JSON.stringify([kind, ...values])).toString('base64url');
}

function decodeCursor(kind: string, cursor: string, types: ReadonlyArray<'number' | 'string'>): CursorValue[] {
  try {
    const decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(decoded) && decoded[0] === kind && decoded.length === types.length + 1) {
      const values = decoded.slice(1) as unknown[];
      if (values.every((value, index) => typeof value === types[index] && (typeof value !== 'number' || Number.isFinite(value)))) return values as CursorValue[];
    }
  } catch {
    // fall through to the error below
  }
  throw new StorageError(`${NAME}: cursor ${JSON.stringify(cursor.slice(0, 40))} is not one this tier issued for this question; pass nextCursor from a previous page of the same question`);
}
