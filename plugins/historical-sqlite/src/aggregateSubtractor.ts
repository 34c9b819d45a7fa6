import type Database from 'better-sqlite3';
import type { MonthKey } from '@strata/core';
import { encodeHistogram, subtractHistogram } from '@strata/hot-sqlite';
import { prepareBaselineRefresh } from './baselines.js';
import type { MonthlyAggregation } from './monthlyAggregation.js';

/** What taking rows back out did. */
export interface SubtractedRows {
  /** Aggregate rows left with no uses and deleted (a question only these rows asked goes with its text). */
  deleted: number;
  /** Months whose aggregates changed (their baselines were recomputed). */
  months: MonthKey[];
}

/**
 * Takes the aggregates of some rows already added back out, for an erasure: the inverse of the
 * additive UPSERTs in aggregateWriter.ts, only where an aggregate row exists (an expired month is
 * gone already). Counts, sums and response-time histograms become what they would be without the
 * rows; a row left with no uses is deleted. Maxima and first/last times cannot be un-merged and
 * stay; they identify no one. The ledger of applied sources keeps its row counts: it records what
 * was added, so a retried source is still recognised. Run inside the caller's write transaction.
 */
export function prepareAggregateSubtractor(db: Database.Database): (aggregation: MonthlyAggregation) => SubtractedRows {
  const measures = `interactions = interactions - ?, successes = successes - ?, response_us_sum = response_us_sum - ?, response_histogram = ?,
       rating_sum = rating_sum - ?, rating_count = rating_count - ?, code_snippets = code_snippets - ?, citations = citations - ?, follow_ups = follow_ups - ?`;
  const interactionsKey = 'month = ? AND user_role = ? AND query_type = ?';
  const readInteractions = db.prepare(`SELECT response_histogram FROM interactions_monthly WHERE ${interactionsKey}`).pluck();
  const updateInteractions = db.prepare(`UPDATE interactions_monthly SET ${measures} WHERE ${interactionsKey}`);
  const pruneInteractions = db.prepare(`DELETE FROM interactions_monthly WHERE ${interactionsKey} AND interactions <= 0`);
  const readDay = db.prepare('SELECT response_histogram FROM business_daily WHERE day = ? AND user_role = ?').pluck();
  const updateDay = db.prepare(`UPDATE business_daily SET ${measures} WHERE day = ? AND user_role = ?`);
  const pruneDay = db.prepare('DELETE FROM business_daily WHERE day = ? AND user_role = ? AND interactions <= 0');
  const questionKey = 'month = ? AND user_role = ? AND query_hash = ?';
  const updateQuestion = db.prepare(
    `UPDATE questions_monthly SET asks = asks - ?, successes = successes - ?, response_us_sum = response_us_sum - ?, rating_sum = rating_sum - ?, rating_count = rating_count - ?
     WHERE ${questionKey}`,
  );
  const pruneQuestion = db.prepare(`DELETE FROM questions_monthly WHERE ${questionKey} AND asks <= 0`);
  const contentKey = 'month = ? AND user_role = ? AND content_type = ? AND content_id = ?';
  const updateContent = db.prepare(
    `UPDATE content_monthly SET accesses = accesses - ?, successes = successes - ?, relevance_micro_sum = relevance_micro_sum - ?, relevance_count = relevance_count - ?
     WHERE ${contentKey}`,
  );
  const pruneContent = db.prepare(`DELETE FROM content_monthly WHERE ${contentKey} AND accesses <= 0`);
  const refreshBaselines = prepareBaselineRefresh(db);

  return (aggregation) => {
    let deleted = 0;
    const months = new Set<MonthKey>();
    for (const cell of aggregation.interactions.values()) {
      const key = [cell.month, cell.role, cell.type];
      const histogram = readInteractions.get(...key) as Uint8Array | undefined;
      if (histogram === undefined) continue;
      const left = subtractHistogram(histogram, encodeHistogram(cell.bins));
      updateInteractions.run(cell.interactions, cell.successes, cell.responseUs, left, cell.ratingSum, cell.ratingCount, cell.snippets, cell.citations, cell.followUps, ...key);
      deleted += pruneInteractions.run(...key).changes;
      months.add(cell.month);
    }
    for (const cell of aggregation.days.values()) {
      const histogram = readDay.get(cell.day, cell.role) as Uint8Array | undefined;
      if (histogram === undefined) continue;
      const left = subtractHistogram(histogram, encodeHistogram(cell.bins));
      updateDay.run(cell.interactions, cell.successes, cell.responseUs, left, cell.ratingSum, cell.ratingCount, cell.snippets, cell.citations, cell.followUps, cell.day, cell.role);
      deleted += pruneDay.run(cell.day, cell.role).changes;
    }
    for (const cell of aggregation.questions.values()) {
      const key = [cell.month, cell.role, cell.hash];
      if (updateQuestion.run(cell.asks, cell.successes, cell.responseUs, cell.ratingSum, cell.ratingCount, ...key).changes === 0) continue;
      deleted += pruneQuestion.run(...key).changes;
      months.add(cell.month);
    }
    for (const cell of aggregation.content.values()) {
      const key = [cell.month, cell.role, cell.type, cell.id];
      if (updateContent.run(cell.accesses, cell.successes, cell.relevanceMicros, cell.relevanceCount, ...key).changes === 0) continue;
      deleted += pruneContent.run(...key).changes;
      months.add(cell.month);
    }
    const changed = [...months].sort();
    for (const month of changed) refreshBaselines(month);
    return { deleted, months: changed };
  };
}
