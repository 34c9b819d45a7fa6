import type { Pool } from 'pg';
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
import { DAY_MS, HOUR_MS, MINUTE_MS, RollupTotals, alignRange, alignToRollups, ceilTo, compareText, reportedBound, sqlBound, trendingScore } from '@strata/hot-sqlite';
import { decodeCursor, encodeCursor, pageAfter, pageSize, wholeDays } from './insightsPaging.js';
import { performanceScoreFloat8 } from './migrations.js';
import { NAME } from './pgConnection.js';
import { PgRollupReader } from './rollupReader.js';
import type { Qualify, StatementNames } from './sqlNames.js';

const DEFAULT_RECENT_DAYS = 7;
const DEFAULT_BASELINE_DAYS = 28;
const GRANULARITY_MS: Record<InsightsGranularity, number> = { minute: MINUTE_MS, hour: HOUR_MS, day: DAY_MS };
export const DETAIL_PRUNED_BEFORE = 'detail_pruned_before';

interface QuestionRow {
  id: number;
  query_hash: string;
  asks: number;
  successes: number;
  response_us_sum: number;
  rating_sum: number;
  rating_count: number;
  roles: string[];
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
  roles: string[];
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
 * The insights API over the PostgreSQL tier's rollups, answering exactly what hot-sqlite's
 * `HotSqliteInsights` answers for the same data (tested side by side): the same ranges, widening,
 * orderings, tie-breaks, floating-point operations and cursors. Every answer reads rollup rows
 * only, never `user_interactions`.
 */
export class PgInsights implements InsightsProvider {
  readonly reader: PgRollupReader;
  private readonly sql: Record<string, string>;

  constructor(
    private readonly pool: Pool,
    q: Qualify,
    private readonly names: StatementNames,
    private readonly now: () => number,
    private readonly assertOpen: () => void,
  ) {
    this.reader = new PgRollupReader(pool, q, names, now);
    const questionRoles = `ARRAY(SELECT r.user_role FROM ${q('query_role_counts')} r WHERE r.query_ref = g.id AND r.asks > 0 ORDER BY r.asks DESC, r.user_role)`;
    const contentRoles = `ARRAY(SELECT r.user_role FROM ${q('content_role_counts')} r WHERE r.content_ref = g.id AND r.accesses > 0 ORDER BY r.accesses DESC, r.user_role)`;
    const questionColumns = `id, query_hash, total_asks AS asks, successes, response_us_sum, rating_sum, rating_count, query_normalized, query_category, last_asked`;
    const contentColumns = `id, content_type, content_id, access_count AS accesses, successes, relevance_micro_sum, relevance_count, performance_score AS score, first_accessed, last_accessed`;
    const ranked = (table: string, columns: string, roles: string, rank: string) => ({
      ties: `SELECT g.*, ${roles} AS roles FROM (SELECT ${columns} FROM ${q(table)} WHERE ${rank} = $1 AND id > $2 ORDER BY id LIMIT $3) g ORDER BY g.id`,
      below: `SELECT g.*, ${roles} AS roles FROM (SELECT ${columns} FROM ${q(table)} WHERE ${rank} < $1 ORDER BY ${rank} DESC, id LIMIT $2) g ORDER BY g.${rank === 'total_asks' ? 'asks' : 'score'} DESC, g.id`,
    });
    const questions = ranked('query_performance', questionColumns, questionRoles, 'total_asks');
    const content = ranked('content_performance', contentColumns, contentRoles, 'performance_score');
    this.sql = { questionTies: questions.ties, questionsBelow: questions.below, contentTies: content.ties, contentBelow: content.below };
    for (const role of [false, true]) {
      const suffix = role ? 'Role' : '';
      const where = (table: string) => `${q(role ? `${table}_by_role` : table)} WHERE ${role ? 'user_role = $6 AND ' : ''}`;
      this.sql[`questionsRange${suffix}`] = `SELECT g.*, ${questionRoles} AS roles FROM (
          SELECT q.id, q.query_hash, s.asks, s.successes, s.response_us_sum, s.rating_sum, s.rating_count, q.query_normalized, q.query_category, q.last_asked
          FROM (
            SELECT query_ref, SUM(asks)::int8 AS asks, SUM(successes)::int8 AS successes, SUM(response_us_sum)::int8 AS response_us_sum,
                   SUM(rating_sum)::int8 AS rating_sum, SUM(rating_count)::int8 AS rating_count
            FROM ${where('query_daily')} day >= $1 AND day < $2
            GROUP BY query_ref
            HAVING SUM(asks) < $3 OR (SUM(asks) = $3 AND query_ref > $4)
            ORDER BY asks DESC, query_ref LIMIT $5
          ) s JOIN ${q('query_performance')} q ON q.id = s.query_ref
        ) g ORDER BY g.asks DESC, g.id`;
      const score = performanceScoreFloat8('SUM(successes)', 'SUM(accesses)', 'SUM(relevance_micro_sum)', 'SUM(relevance_count)');
      this.sql[`contentRange${suffix}`] = `SELECT g.*, ${contentRoles} AS roles FROM (
          SELECT c.id, c.content_type, c.content_id, s.accesses, s.successes, s.relevance_micro_sum, s.relevance_count, s.score, c.first_accessed, c.last_accessed
          FROM (
            SELECT content_ref, SUM(accesses)::int8 AS accesses, SUM(successes)::int8 AS successes,
                   SUM(relevance_micro_sum)::int8 AS relevance_micro_sum, SUM(relevance_count)::int8 AS relevance_count, ${score} AS score
            FROM ${where('content_daily')} day >= $1 AND day < $2
            GROUP BY content_ref
            HAVING ${score} < $3 OR (${score} = $3 AND content_ref > $4)
            ORDER BY score DESC, content_ref LIMIT $5
          ) s JOIN ${q('content_performance')} c ON c.id = s.content_ref
        ) g ORDER BY g.score DESC, g.id`;
      const whereTrending = `${q(role ? 'query_daily_by_role' : 'query_daily')} WHERE ${role ? 'user_role = $4 AND ' : ''}`;
      this.sql[`trending${suffix}`] = `SELECT q.query_hash, g.recent, g.baseline, q.query_normalized FROM (
          SELECT query_ref, SUM(CASE WHEN day >= $1 THEN asks ELSE 0 END)::int8 AS recent, SUM(CASE WHEN day < $1 THEN asks ELSE 0 END)::int8 AS baseline
          FROM ${whereTrending} day >= $2 AND day < $3
          GROUP BY query_ref HAVING SUM(CASE WHEN day >= $1 THEN asks ELSE 0 END) > 0
        ) g JOIN ${q('query_performance')} q ON q.id = g.query_ref`;
    }
    for (const granularity of Object.keys(GRANULARITY_MS)) {
      for (const byName of [false, true]) {
        this.sql[`metrics-${granularity}${byName ? '-name' : ''}`] = `SELECT bucket_start, metric_name, component, metric_unit, samples, value_sum, value_min, value_max
          FROM ${q(`metric_rollup_${granularity}`)}
          WHERE bucket_start >= $1 AND bucket_start < $2 ${byName ? 'AND metric_name = $8' : ''}
            AND (bucket_start, metric_name, component, metric_unit) > ($3, $4, $5, $6)
          ORDER BY bucket_start, metric_name, component, metric_unit LIMIT $7`;
      }
    }
    this.sql.coverage = `SELECT value FROM ${q('tier_state')} WHERE key = $1`;
  }

  async detailCoverage(): Promise<{ from: number | null }> {
    this.assertOpen();
    const { rows } = await this.query<{ value: number }>('coverage', [DETAIL_PRUNED_BEFORE]);
    return { from: rows[0]?.value ?? null };
  }

  async commonQuestions(query: InsightsQuery = {}): Promise<InsightsPage<CommonQuestion>> {
    this.assertOpen();
    const limit = pageSize(query.limit);
    // Ordered by asks, ties by id (first asked first): the keyset of the cursor.
    const [asks, afterId] = query.cursor ? (decodeCursor('questions', query.cursor, ['number', 'number']) as [number, number]) : [Number.MAX_SAFE_INTEGER, 0];
    let rows: QuestionRow[];
    let range: InsightsPage<unknown>['range'];
    if (query.range === undefined && query.userRole === undefined) {
      rows = await this.rankedPage<QuestionRow>('question', asks, afterId, limit);
      range = { from: null, to: null };
    } else {
      const days = alignRange(query.range, DAY_MS);
      const role = query.userRole !== undefined;
      const params: unknown[] = [sqlBound(days.from), sqlBound(days.to), asks, afterId, limit + 1];
      if (role) params.push(query.userRole);
      rows = (await this.query<QuestionRow>(`questionsRange${role ? 'Role' : ''}`, params)).rows;
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
        popularRoles: row.roles,
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
    const [sums, latencies] = await Promise.all([
      this.reader.sumsByRoleAndType(aligned.from, aligned.to, query.userRole),
      this.reader.latencyRows(aligned.from, aligned.to, query.userRole),
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
    if (query.range === undefined && query.userRole === undefined) {
      rows = await this.rankedPage<ContentRow>('content', score, afterId, limit);
      range = { from: null, to: null };
    } else {
      const days = alignRange(query.range, DAY_MS);
      const role = query.userRole !== undefined;
      const params: unknown[] = [sqlBound(days.from), sqlBound(days.to), score, afterId, limit + 1];
      if (role) params.push(query.userRole);
      rows = (await this.query<ContentRow>(`contentRange${role ? 'Role' : ''}`, params)).rows;
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
        roles: row.roles,
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
    const sums = await this.reader.sumsByDay(from, aligned.to, query.userRole);
    const days = [...sums.keys()].sort((a, b) => a - b);
    const pageDays = days.slice(0, limit);
    // Only the days on this page pay for merging histograms.
    const totals = new Map(pageDays.map((day) => [day, new RollupTotals()]));
    for (const day of pageDays) totals.get(day)!.add(sums.get(day)!);
    if (pageDays.length > 0) {
      const pageEnd = Math.min(aligned.to, pageDays[pageDays.length - 1]! + DAY_MS);
      for (const row of await this.reader.latencyRows(from, pageEnd, query.userRole)) totals.get(Math.floor(row.bucket_start / DAY_MS) * DAY_MS)?.addLatency(row);
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
    const latest = await this.reader.latestDay();
    const asOf = query.range?.to !== undefined ? ceilTo(query.range.to, DAY_MS) : latest === null ? null : latest + DAY_MS;
    const empty = { items: [], nextCursor: null, range: { from: null, to: null }, asOf, recentDays, baselineDays };
    if (asOf === null) return empty;
    const recentFrom = asOf - recentDays * DAY_MS;
    const baselineFrom = recentFrom - baselineDays * DAY_MS;
    const role = query.userRole !== undefined;
    const params: unknown[] = [recentFrom, baselineFrom, asOf];
    if (role) params.push(query.userRole);
    const { rows } = await this.query<{ query_hash: string; recent: number; baseline: number; query_normalized: string }>(`trending${role ? 'Role' : ''}`, params);
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
    const params: unknown[] = [sqlBound(aligned.from), sqlBound(aligned.to), bucket, metric, component, unit, limit + 1];
    if (byName) params.push(query.metricName);
    const { rows } = await this.query<MetricRow>(`metrics-${granularity}${byName ? '-name' : ''}`, params);
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

  /**
   * Up to `limit + 1` rows after the keyset (rank, id) in the order `rank DESC, id`: first the rest
   * of the rows tied at `rank`, then those below it. Two index range scans, however deep the page.
   */
  private async rankedPage<Row>(kind: 'question' | 'content', rank: number, afterId: number, limit: number): Promise<Row[]> {
    const ties = (await this.query<Row & object>(kind === 'question' ? 'questionTies' : 'contentTies', [rank, afterId, limit + 1])).rows;
    if (ties.length > limit) return ties;
    const below = (await this.query<Row & object>(kind === 'question' ? 'questionsBelow' : 'contentBelow', [rank, limit + 1 - ties.length])).rows;
    return ties.concat(below);
  }

  private query<Row extends object>(key: string, values: unknown[]) {
    return this.pool.query<Row>({ ...this.names.get(this.sql[key]!), values });
  }
}
