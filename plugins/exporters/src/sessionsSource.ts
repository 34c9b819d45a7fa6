import type { StorageTier } from '@strata/core';
import { ExportOptionError } from './exportErrors.js';
import type { ExportRow } from './exportFormat.js';
import type { ExportQuery, ExportSource, ExportSourceContext } from './exportSource.js';

const BATCH = 1_000;

/** The part of a better-sqlite3 connection this source uses, so the package needs no SQLite binding of its own. */
interface SqliteReader {
  prepare(sql: string): { all(...params: unknown[]): unknown[]; get(...params: unknown[]): unknown };
}

interface SessionRow {
  session_id: string;
  user_role: string;
  start_time: number;
  start_query_type: string;
  last_activity: number;
  total_queries: number;
  successful_queries: number;
  avg_response_time: number;
  total_code_snippets: number;
  total_citations: number;
  session_rating: number | null;
  rating_count: number;
  max_turn: number;
  conversion_achieved: number;
}

/**
 * Per-session rollups (the plan's `session_analytics`) from the hot-sqlite tier, which keeps them
 * for every session it stored: the warm tier deliberately keeps none (a session's start cannot be
 * summed across archive partitions), so sessions come from the hot tier only. Ordered by session
 * id, the table's key: each batch is one seek past the previous one, so the cost stays linear
 * however many sessions there are (the table has no index on start time to order by).
 */
export const sessionsSource: ExportSource = {
  dataset: 'sessions',
  description: 'per-session rollups (session_analytics) from the hot tier, by session id',
  // Rows are per subject (one person's visit), so they need the raw-data permission, not summaries.
  access: 'interactions',
  columns: [
    { name: 'sessionId', type: 'text' },
    { name: 'userRole', type: 'text' },
    { name: 'startTime', type: 'timestamp' },
    { name: 'startQueryType', type: 'text' },
    { name: 'lastActivity', type: 'timestamp' },
    { name: 'totalQueries', type: 'integer' },
    { name: 'successfulQueries', type: 'integer' },
    { name: 'avgResponseTime', type: 'number' },
    { name: 'totalCodeSnippets', type: 'integer' },
    { name: 'totalCitations', type: 'integer' },
    { name: 'sessionRating', type: 'number' },
    { name: 'ratedQueries', type: 'integer' },
    { name: 'maxTurn', type: 'integer' },
    { name: 'conversionAchieved', type: 'boolean' },
  ],
  filters: {
    range: "the session's start (its earliest event)",
    userRole: "the session's role (that of its first event)",
    queryType: "the query type of the session's first event",
  },
  rows: (query, context) => sessionBatches(query, context),
};

async function* sessionBatches(query: ExportQuery, context: ExportSourceContext): AsyncGenerator<ExportRow[]> {
  const db = sessionDatabase(context.storage('hot'));
  const clauses = ['session_id > ?'];
  const params: unknown[] = [];
  if (query.range?.from !== undefined) {
    clauses.push('start_time >= ?');
    params.push(query.range.from);
  }
  if (query.range?.to !== undefined) {
    clauses.push('start_time < ?');
    params.push(query.range.to);
  }
  if (query.userRole !== undefined) {
    clauses.push('user_role = ?');
    params.push(query.userRole);
  }
  if (query.queryType !== undefined) {
    clauses.push('start_query_type = ?');
    params.push(query.queryType);
  }
  const page = db.prepare(
    `SELECT session_id, user_role, start_time, start_query_type, last_activity, total_queries, successful_queries, avg_response_time,
            total_code_snippets, total_citations, session_rating, rating_count, max_turn, conversion_achieved
       FROM session_analytics WHERE ${clauses.join(' AND ')} ORDER BY session_id LIMIT ${BATCH}`,
  );
  let after = '';
  let rows = 0;
  try {
    for (;;) {
      if (context.signal?.aborted) return;
      const batch = page.all(after, ...params) as SessionRow[];
      if (batch.length === 0) return;
      after = batch[batch.length - 1]!.session_id;
      rows += batch.length;
      yield batch.map(toSession);
      if (batch.length < BATCH) return;
      // Each page is read synchronously; yield to the event loop between pages so a host keeps serving.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  } finally {
    context.count('hot', rows);
  }
}

function toSession(row: SessionRow): ExportRow {
  return {
    sessionId: row.session_id,
    userRole: row.user_role,
    startTime: row.start_time,
    startQueryType: row.start_query_type,
    lastActivity: row.last_activity,
    totalQueries: row.total_queries,
    successfulQueries: row.successful_queries,
    avgResponseTime: row.avg_response_time,
    totalCodeSnippets: row.total_code_snippets,
    totalCitations: row.total_citations,
    sessionRating: row.session_rating,
    ratedQueries: row.rating_count,
    maxTurn: row.max_turn,
    conversionAchieved: row.conversion_achieved === 1,
  };
}

/** The hot tier's SQLite connection, when it is hot-sqlite (or another tier with the same `session_analytics` table). */
function sessionDatabase(tier: StorageTier | undefined): SqliteReader {
  const database = tier && 'database' in tier ? (tier as { database?: unknown }).database : undefined;
  if (!database || typeof (database as SqliteReader).prepare !== 'function') {
    throw new ExportOptionError(
      'dataset',
      `sessions needs a hot tier that keeps session rollups in SQLite (hot-sqlite); the hot tier here is ${tier ? `"${tier.name}"` : 'missing'}`,
    );
  }
  const db = database as SqliteReader;
  if (!db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'session_analytics'").get()) {
    throw new ExportOptionError('dataset', `sessions: the hot tier "${tier!.name}" has no session_analytics table (schema older than 2?); open it once with this version of hot-sqlite to migrate it`);
  }
  return db;
}
