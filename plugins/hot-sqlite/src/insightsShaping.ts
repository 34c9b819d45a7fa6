import { ValidationError, type CommonQuestion, type ContentEffectiveness, type SystemPerformancePoint, type TrendingQuery } from '@strata/core';
import { compareText } from './compareText.js';

/**
 * Turns summed rollup rows into the insights answer objects: the formulas (and the order of each
 * object's keys) every tier reports, whichever store summed the rows.
 */

export const DEFAULT_RECENT_DAYS = 7;
export const DEFAULT_BASELINE_DAYS = 28;

/** A question's sums over a range, with what is known of the question itself. */
export interface QuestionSums {
  query_hash: string;
  query_normalized: string;
  query_category: string;
  asks: number;
  successes: number;
  response_us_sum: number;
  rating_sum: number;
  rating_count: number;
  last_asked: number;
}

/** A content item's sums over a range, with its score and when it was first and last used. */
export interface ContentSums {
  content_type: string;
  content_id: string;
  accesses: number;
  successes: number;
  relevance_micro_sum: number;
  relevance_count: number;
  score: number;
  first_accessed: number;
  last_accessed: number;
}

/** A row of `metric_rollup_minute`, `metric_rollup_hour` or `metric_rollup_day`. */
export interface MetricRollupRow {
  bucket_start: number;
  metric_name: string;
  component: string;
  metric_unit: string;
  samples: number;
  value_sum: number;
  value_min: number;
  value_max: number;
}

/** The sort key of a metric rollup row, as its page's cursor names it. */
export function metricRollupKey(row: MetricRollupRow): [number, string, string, string] {
  return [row.bucket_start, row.metric_name, row.component, row.metric_unit];
}

/** A question's asks in the recent window and in the baseline before it. */
export interface TrendingAsks {
  query_hash: string;
  query_normalized: string;
  recent: number;
  baseline: number;
}

export function commonQuestionItem(row: QuestionSums, popularRoles: string[]): CommonQuestion {
  return {
    queryHash: row.query_hash,
    query: row.query_normalized,
    category: row.query_category,
    asks: row.asks,
    successRate: row.successes / row.asks,
    avgResponseTime: row.response_us_sum / 1e6 / row.asks,
    avgRating: row.rating_count > 0 ? row.rating_sum / row.rating_count : null,
    ratedAsks: row.rating_count,
    popularRoles,
    lastAsked: row.last_asked,
  };
}

export function contentEffectivenessItem(row: ContentSums, roles: string[]): ContentEffectiveness {
  return {
    contentType: row.content_type,
    contentId: row.content_id,
    accesses: row.accesses,
    avgRelevance: row.relevance_count > 0 ? row.relevance_micro_sum / 1e6 / row.relevance_count : null,
    relevanceCount: row.relevance_count,
    successRate: row.successes / row.accesses,
    performanceScore: row.score,
    roles,
    firstAccessed: row.first_accessed,
    lastAccessed: row.last_accessed,
  };
}

/** Absent component and unit are stored as '' in rollup keys and reported as null. */
export function systemPerformancePoint(row: MetricRollupRow): SystemPerformancePoint {
  return {
    bucketStart: row.bucket_start,
    metricName: row.metric_name,
    component: row.component === '' ? null : row.component,
    unit: row.metric_unit === '' ? null : row.metric_unit,
    samples: row.samples,
    avg: row.value_sum / row.samples,
    min: row.value_min,
    max: row.value_max,
  };
}

/**
 * The questions asked more than their baseline predicts, highest score first (ties by query hash
 * in code point order): the baseline's asks scaled to the recent window are what is expected.
 */
export function rankTrending(rows: readonly TrendingAsks[], recentDays: number, baselineDays: number): TrendingQuery[] {
  return rows
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
}

/**
 * How far a question's recent asks exceed what its history predicts, in Poisson standard
 * deviations: (recent − expected) / √(expected + 1). A question new this week with 5 asks scores
 * 5; one asked 50 times against an expected 40 scores 1.6; anything at or below its history scores ≤ 0.
 */
export function trendingScore(recentAsks: number, expectedAsks: number): number {
  return (recentAsks - expectedAsks) / Math.sqrt(expectedAsks + 1);
}

/** A trending window's length as asked (`name` is the query field), or `fallback` when absent. */
export function trendingWindowDays(tier: string, value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1 || value > 3_650) throw new ValidationError([{ path: name, message: `must be a whole number of days from 1 to 3650, got ${JSON.stringify(value)} (${tier})` }]);
  return value;
}
