import type { Pool } from 'pg';
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
import {
  CONTENT_KEYSET,
  QUESTIONS_KEYSET,
  ROLLUP_GRANULARITIES,
  businessMetricsPage,
  commonQuestionItem,
  contentEffectivenessItem,
  dailyKeysetPage,
  dailyTrendingPage,
  keysetPage,
  metricsKeysetPage,
  metricRollupKey,
  sqlBound,
  systemPerformancePoint,
  userBehaviourPage,
  type ContentSums,
  type CursorValue,
  type MetricRollupRow,
  type QuestionSums,
  type TrendingAsks,
} from '@strata/hot-sqlite';
import { performanceScoreFloat8 } from './migrations.js';
import { NAME } from './pgConnection.js';
import { PgRollupReader } from './rollupReader.js';
import type { Qualify, StatementNames } from './sqlNames.js';

export const DETAIL_PRUNED_BEFORE = 'detail_pruned_before';

/** The roles come as an array, ranked by the query. */
type QuestionRow = QuestionSums & { id: number; roles: string[] };
type ContentRow = ContentSums & { id: number; roles: string[] };

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
    for (const granularity of ROLLUP_GRANULARITIES) {
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
    const all = query.range === undefined && query.userRole === undefined;
    const role = query.userRole !== undefined;
    const { days, page } = dailyKeysetPage<CommonQuestion>(QUESTIONS_KEYSET, query);
    const read = async ([asks, afterId]: readonly CursorValue[], limit: number): Promise<QuestionRow[]> => {
      if (all) return this.rankedPage<QuestionRow>('question', asks as number, afterId as number, limit);
      const params: unknown[] = [sqlBound(days.from), sqlBound(days.to), asks, afterId, limit + 1];
      if (role) params.push(query.userRole);
      return (await this.query<QuestionRow>(`questionsRange${role ? 'Role' : ''}`, params)).rows;
    };
    return keysetPage(NAME, page, read, (row) => [row.asks, row.id], (row) => commonQuestionItem(row, row.roles));
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
    const read = async ([score, afterId]: readonly CursorValue[], limit: number): Promise<ContentRow[]> => {
      if (all) return this.rankedPage<ContentRow>('content', score as number, afterId as number, limit);
      const params: unknown[] = [sqlBound(days.from), sqlBound(days.to), score, afterId, limit + 1];
      if (role) params.push(query.userRole);
      return (await this.query<ContentRow>(`contentRange${role ? 'Role' : ''}`, params)).rows;
    };
    return keysetPage(NAME, page, read, (row) => [row.score, row.id], (row) => contentEffectivenessItem(row, row.roles));
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
      async ({ recentFrom, baselineFrom, asOf }) => {
        const params: unknown[] = [recentFrom, baselineFrom, asOf];
        if (role) params.push(query.userRole);
        return (await this.query<TrendingAsks>(`trending${role ? 'Role' : ''}`, params)).rows;
      },
    );
  }

  async systemPerformance(query: SystemPerformanceQuery = {}): Promise<InsightsPage<SystemPerformancePoint>> {
    this.assertOpen();
    const { granularity, aligned, page } = metricsKeysetPage<SystemPerformancePoint>(NAME, query);
    const byName = query.metricName !== undefined;
    const read = async ([bucket, metric, component, unit]: readonly CursorValue[], limit: number): Promise<MetricRollupRow[]> => {
      const params: unknown[] = [sqlBound(aligned.from), sqlBound(aligned.to), bucket, metric, component, unit, limit + 1];
      if (byName) params.push(query.metricName);
      return (await this.query<MetricRollupRow>(`metrics-${granularity}${byName ? '-name' : ''}`, params)).rows;
    };
    return keysetPage(NAME, page, read, metricRollupKey, systemPerformancePoint);
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
