import type Database from 'better-sqlite3';
import type { MonthKey } from '@strata/core';
import { encodeHistogram, registerRollupFunctions } from '@strata/hot-sqlite';
import { prepareBaselineRefresh } from './baselines.js';
import type { MonthlyAggregation } from './monthlyAggregation.js';

/** What applying a source did. */
export interface AppliedSource {
  rows: number;
  /** Rows of months already expired, left out of the monthly tables (they still count in the daily business metrics). */
  skippedRows: number;
  /** Months whose aggregates changed. */
  months: MonthKey[];
}

/**
 * Writes a source's aggregates with one additive UPSERT per key, plus its ledger rows and the
 * baselines of the months it touched. The work is a generator of single statements, so the caller
 * can run it inside one transaction in slices and let the event loop breathe between them.
 */
export type AggregateWriter = (sourceId: string, aggregation: MonthlyAggregation, options: { expiredBefore: MonthKey | null; appliedAt: number }) => Generator<void, AppliedSource>;

export function prepareAggregateWriter(db: Database.Database): AggregateWriter {
  registerRollupFunctions(db);
  const measures = `interactions = interactions + excluded.interactions, successes = successes + excluded.successes,
       response_us_sum = response_us_sum + excluded.response_us_sum, response_us_max = MAX(response_us_max, excluded.response_us_max),
       response_histogram = strata_histogram_merge(response_histogram, excluded.response_histogram),
       rating_sum = rating_sum + excluded.rating_sum, rating_count = rating_count + excluded.rating_count,
       code_snippets = code_snippets + excluded.code_snippets, citations = citations + excluded.citations, follow_ups = follow_ups + excluded.follow_ups`;
  const upsertInteractions = db.prepare(
    `INSERT INTO interactions_monthly (month, user_role, query_type, interactions, successes, response_us_sum, response_us_max, response_histogram,
       rating_sum, rating_count, code_snippets, citations, follow_ups) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (month, user_role, query_type) DO UPDATE SET ${measures}`,
  );
  const upsertDay = db.prepare(
    `INSERT INTO business_daily (day, user_role, interactions, successes, response_us_sum, response_us_max, response_histogram,
       rating_sum, rating_count, code_snippets, citations, follow_ups) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (day, user_role) DO UPDATE SET ${measures}`,
  );
  const upsertQuestion = db.prepare(
    `INSERT INTO questions_monthly (month, user_role, query_hash, query_normalized, query_category, first_asked, last_asked,
       asks, successes, response_us_sum, rating_sum, rating_count) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (month, user_role, query_hash) DO UPDATE SET
       query_category = CASE WHEN excluded.first_asked < first_asked OR (excluded.first_asked = first_asked AND excluded.query_category < query_category)
                             THEN excluded.query_category ELSE query_category END,
       first_asked = MIN(first_asked, excluded.first_asked), last_asked = MAX(last_asked, excluded.last_asked),
       asks = asks + excluded.asks, successes = successes + excluded.successes, response_us_sum = response_us_sum + excluded.response_us_sum,
       rating_sum = rating_sum + excluded.rating_sum, rating_count = rating_count + excluded.rating_count`,
  );
  const upsertContent = db.prepare(
    `INSERT INTO content_monthly (month, user_role, content_type, content_id, accesses, successes, relevance_micro_sum, relevance_count,
       first_accessed, last_accessed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (month, user_role, content_type, content_id) DO UPDATE SET
       accesses = accesses + excluded.accesses, successes = successes + excluded.successes,
       relevance_micro_sum = relevance_micro_sum + excluded.relevance_micro_sum, relevance_count = relevance_count + excluded.relevance_count,
       first_accessed = MIN(first_accessed, excluded.first_accessed), last_accessed = MAX(last_accessed, excluded.last_accessed)`,
  );
  const recordSource = db.prepare('INSERT INTO aggregate_sources (source_id, rows, skipped_rows, applied_at) VALUES (?, ?, ?, ?)');
  const recordSourceMonth = db.prepare('INSERT INTO aggregate_source_months (source_id, month, rows) VALUES (?, ?, ?)');
  const refreshBaselines = prepareBaselineRefresh(db);

  return function* applySource(sourceId, aggregation, { expiredBefore, appliedAt }) {
    // An expired month is gone from the warm tier; adding late rows to it would show a partial month.
    const kept = (month: MonthKey) => expiredBefore === null || month >= expiredBefore;
    for (const cell of aggregation.interactions.values()) {
      if (!kept(cell.month)) continue;
      upsertInteractions.run(
        cell.month, cell.role, cell.type, cell.interactions, cell.successes, cell.responseUs, cell.responseUsMax, encodeHistogram(cell.bins),
        cell.ratingSum, cell.ratingCount, cell.snippets, cell.citations, cell.followUps,
      );
      yield;
    }
    for (const cell of aggregation.questions.values()) {
      if (!kept(cell.month)) continue;
      upsertQuestion.run(
        cell.month, cell.role, cell.hash, cell.normalized, cell.category, cell.firstAsked, cell.lastAsked,
        cell.asks, cell.successes, cell.responseUs, cell.ratingSum, cell.ratingCount,
      );
      yield;
    }
    for (const cell of aggregation.content.values()) {
      if (!kept(cell.month)) continue;
      upsertContent.run(cell.month, cell.role, cell.type, cell.id, cell.accesses, cell.successes, cell.relevanceMicros, cell.relevanceCount, cell.first, cell.last);
      yield;
    }
    // Business metrics are kept permanently, so they take every row, expired month or not.
    for (const cell of aggregation.days.values()) {
      upsertDay.run(
        cell.day, cell.role, cell.interactions, cell.successes, cell.responseUs, cell.responseUsMax, encodeHistogram(cell.bins),
        cell.ratingSum, cell.ratingCount, cell.snippets, cell.citations, cell.followUps,
      );
      yield;
    }
    const months = [...aggregation.rowsByMonth.keys()].sort();
    let skippedRows = 0;
    for (const month of months) if (!kept(month)) skippedRows += aggregation.rowsByMonth.get(month)!;
    recordSource.run(sourceId, aggregation.rows, skippedRows, appliedAt);
    for (const month of months) recordSourceMonth.run(sourceId, month, aggregation.rowsByMonth.get(month)!);
    const changed = months.filter(kept);
    for (const month of changed) {
      refreshBaselines(month);
      yield;
    }
    return { rows: aggregation.rows, skippedRows, months: changed };
  };
}
