/**
 * How the hot tier finds one session's raw rows without an index on `session_id` alone (session ids
 * are random, so such an index would take every insert to a random page; see migration 4).
 *
 * Rows are found through the `(timestamp, session_id)` index instead, inside a time window: every
 * batch counts its rows into the session's `session_analytics` row in the same transaction, so a
 * session's rows lie between that row's `start_time` and `last_activity`. A session with no row
 * (never counted, or its row removed) is looked for over all time: a scan of the index alone.
 */

const ALL_TIME_FROM = Number.MIN_SAFE_INTEGER;
const ALL_TIME_TO = Number.MAX_SAFE_INTEGER;

/** WHERE terms for the session's rows, bounded by its window; bind `sessionRowsParams(id)`. */
export const SESSION_ROWS_SQL = `timestamp >= COALESCE((SELECT start_time FROM session_analytics WHERE session_id = ?), ${ALL_TIME_FROM})
  AND timestamp <= COALESCE((SELECT last_activity FROM session_analytics WHERE session_id = ?), ${ALL_TIME_TO})
  AND session_id = ?`;

export function sessionRowsParams(sessionId: string): [string, string, string] {
  return [sessionId, sessionId, sessionId];
}

/**
 * WHERE terms for the session's rows over all time, for erasure: it must find every row even if a
 * window were ever wrong, and it is rare enough to afford a scan of the time index. The bound on
 * `timestamp` is what lets SQLite use that index rather than read the table.
 */
export const SESSION_ROWS_ALL_TIME_SQL = `timestamp >= ${ALL_TIME_FROM} AND session_id = ?`;
