import type Database from 'better-sqlite3';
import type {
  CommonQuestion,
  ContentEffectiveness,
  DailyBusinessMetrics,
  InsightsPage,
  InsightsProvider,
  InsightsQuery,
  RoleBehaviour,
  SystemPerformancePoint,
  SystemPerformanceQuery,
  TrendingPage,
  TrendingQueriesQuery,
} from '@strata/core';
import type { RankedCounts } from './compareText.js';
import { CONTENT_KEYSET, QUESTIONS_KEYSET, dailyKeysetPage, keysetPage, metricsKeysetPage, type CursorValue } from './insightsCursor.js';
import {
  commonQuestionItem,
  contentEffectivenessItem,
  metricRollupKey,
  systemPerformancePoint,
  type ContentSums,
  type MetricRollupRow,
  type QuestionSums,
  type TrendingAsks,
} from './insightsShaping.js';
import { performanceScoreSql } from './migrations.js';
import { businessMetricsPage, dailyTrendingPage, userBehaviourPage } from './rollupAnswers.js';
import { RollupReader } from './rollupReader.js';
import { sqlBound } from './timeBuckets.js';
import { StatementCache } from './statementCache.js';
import { detailPrunedBefore } from './tierLifecycle.js';

const NAME = 'hot-sqlite';

/** The stored roles are a `RankedCounts` JSON text. */
type QuestionRow = QuestionSums & { id: number; roles: string };
type ContentRow = ContentSums & { id: number; roles: string };

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
    const all = query.range === undefined && query.userRole === undefined;
    const role = query.userRole !== undefined;
    const { days, page } = dailyKeysetPage<CommonQuestion>(QUESTIONS_KEYSET, query);
    const read = ([asks, afterId]: readonly CursorValue[], limit: number): QuestionRow[] => {
      if (all) {
        // All stored data: query_performance is the answer, read in order from its (total_asks DESC, id) index.
        const columns = `id, query_hash, total_asks AS asks, successes, response_us_sum, rating_sum, rating_count, popular_roles AS roles, query_normalized, query_category, last_asked`;
        return this.rankedPage<QuestionRow>('questions', `SELECT ${columns} FROM query_performance`, 'total_asks', asks as number, afterId as number, limit);
      }
      return this.statement(
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
    };
    return keysetPage(NAME, page, read, (row) => [row.asks, row.id], (row) => commonQuestionItem(row, rankedKeys(row.roles)));
  }

  async userBehaviour(query: InsightsQuery = {}): Promise<InsightsPage<RoleBehaviour>> {
    this.assertOpen();
    return userBehaviourPage(NAME, this.reader, query, this.now());
  }

  async contentEffectiveness(query: InsightsQuery = {}): Promise<InsightsPage<ContentEffectiveness>> {
    this.assertOpen();
    const all = query.range === undefined && query.userRole === undefined;
    const role = query.userRole !== undefined;
    const { days, page } = dailyKeysetPage<ContentEffectiveness>(CONTENT_KEYSET, query);
    const columns = `id, content_type, content_id, user_roles_accessing AS roles, first_accessed, last_accessed`;
    const read = ([score, afterId]: readonly CursorValue[], limit: number): ContentRow[] => {
      if (all) {
        const columnsAll = `${columns}, access_count AS accesses, successes, relevance_micro_sum, relevance_count, performance_score AS score`;
        return this.rankedPage<ContentRow>('content', `SELECT ${columnsAll} FROM content_performance`, 'performance_score', score as number, afterId as number, limit);
      }
      return this.statement(
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
    };
    return keysetPage(NAME, page, read, (row) => [row.score, row.id], (row) => contentEffectivenessItem(row, rankedKeys(row.roles)));
  }

  async businessMetrics(query: InsightsQuery = {}): Promise<InsightsPage<DailyBusinessMetrics>> {
    this.assertOpen();
    return businessMetricsPage(NAME, this.reader, query, this.now());
  }

  async trendingQueries(query: TrendingQueriesQuery = {}): Promise<TrendingPage> {
    this.assertOpen();
    const role = query.userRole !== undefined;
    return dailyTrendingPage(
      NAME,
      query,
      () => this.reader.latestDay(),
      ({ recentFrom, baselineFrom, asOf }) =>
        this.statement(
          `trending${role ? '-role' : ''}`,
          `SELECT q.query_hash, g.recent, g.baseline, q.query_normalized FROM (
             SELECT query_ref, SUM(CASE WHEN day >= @recentFrom THEN asks ELSE 0 END) AS recent, SUM(CASE WHEN day < @recentFrom THEN asks ELSE 0 END) AS baseline
             FROM ${role ? 'query_daily_by_role WHERE user_role = @role AND' : 'query_daily WHERE'} day >= @baselineFrom AND day < @asOf
             GROUP BY query_ref HAVING recent > 0
           ) g JOIN query_performance q ON q.id = g.query_ref`,
        ).all({ recentFrom, baselineFrom, asOf, ...(role ? { role: query.userRole } : {}) }) as TrendingAsks[],
    );
  }

  async systemPerformance(query: SystemPerformanceQuery = {}): Promise<InsightsPage<SystemPerformancePoint>> {
    this.assertOpen();
    const { granularity, aligned, page } = metricsKeysetPage<SystemPerformancePoint>(NAME, query);
    const byName = query.metricName !== undefined;
    const read = ([bucket, metric, component, unit]: readonly CursorValue[], limit: number): MetricRollupRow[] =>
      this.statement(
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
      }) as MetricRollupRow[];
    return keysetPage(NAME, page, read, metricRollupKey, systemPerformancePoint);
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

/** Keys of a stored `[[key, count], …]` list, which is kept ranked (most counted first). */
function rankedKeys(json: string): string[] {
  return (JSON.parse(json) as RankedCounts).map(([key]) => key);
}
