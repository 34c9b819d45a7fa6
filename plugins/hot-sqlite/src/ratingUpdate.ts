import type Database from 'better-sqlite3';
import { DAY_MS, HOUR_MS, MINUTE_MS, MINUTE_ROLLUP_HORIZON_MS, floorTo } from './timeBuckets.js';

interface RatedRow {
  session_id: string;
  timestamp: number;
  user_role: string;
  query_type: string;
  query_hash: string;
  user_rating: number | null;
  created_at: number;
}

/** What `rateInteraction` did. */
export type RatingOutcome = 'updated' | 'unchanged' | 'not-found';

/**
 * Sets the rating of a stored interaction after the fact (a user rates an answer minutes later) and
 * moves every rating sum and count that includes it — the time rollups of its buckets, its session,
 * its question and the question's day rows — by the difference, in one transaction. The rollups end
 * exactly as if the event had carried the rating when it was stored (tested against such a tier).
 */
export function rateStoredInteraction(db: Database.Database, eventId: string, userRating: number | null): RatingOutcome {
  return db
    .transaction((): RatingOutcome => {
      const row = db
        .prepare('SELECT session_id, timestamp, user_role, query_type, query_hash, user_rating, created_at FROM user_interactions WHERE event_id = ?')
        .get(eventId) as RatedRow | undefined;
      if (!row) return 'not-found';
      if (row.user_rating === userRating) return 'unchanged';
      const sumDelta = (userRating ?? 0) - (row.user_rating ?? 0);
      const countDelta = (userRating === null ? 0 : 1) - (row.user_rating === null ? 0 : 1);
      db.prepare('UPDATE user_interactions SET user_rating = ? WHERE event_id = ?').run(userRating, eventId);

      // The same buckets the batch writer put it in: minutes only for events recent when stored.
      const buckets: Array<[string, number]> = [
        ['rollup_hour', floorTo(row.timestamp, HOUR_MS)],
        ['rollup_day', floorTo(row.timestamp, DAY_MS)],
      ];
      if (row.timestamp >= row.created_at - MINUTE_ROLLUP_HORIZON_MS) buckets.push(['rollup_minute', floorTo(row.timestamp, MINUTE_MS)]);
      for (const [table, bucket] of buckets) {
        db.prepare(`UPDATE ${table} SET rating_sum = rating_sum + ?, rating_count = rating_count + ? WHERE bucket_start = ? AND user_role = ? AND query_type = ?`).run(
          sumDelta,
          countDelta,
          bucket,
          row.user_role,
          row.query_type,
        );
      }
      db.prepare('UPDATE session_analytics SET rating_sum = rating_sum + ?, rating_count = rating_count + ? WHERE session_id = ?').run(sumDelta, countDelta, row.session_id);
      const query = db.prepare('SELECT id FROM query_performance WHERE query_hash = ?').get(row.query_hash) as { id: number } | undefined;
      if (query) {
        db.prepare('UPDATE query_performance SET rating_sum = rating_sum + ?, rating_count = rating_count + ? WHERE id = ?').run(sumDelta, countDelta, query.id);
        const day = floorTo(row.timestamp, DAY_MS);
        db.prepare('UPDATE query_daily SET rating_sum = rating_sum + ?, rating_count = rating_count + ? WHERE day = ? AND query_ref = ?').run(sumDelta, countDelta, day, query.id);
        db.prepare('UPDATE query_daily_by_role SET rating_sum = rating_sum + ?, rating_count = rating_count + ? WHERE user_role = ? AND day = ? AND query_ref = ?').run(
          sumDelta,
          countDelta,
          row.user_role,
          day,
          query.id,
        );
      }
      return 'updated';
    })
    .immediate();
}
