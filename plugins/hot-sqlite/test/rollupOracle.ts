import Database from 'better-sqlite3';
import { normalizeQuery } from '@strata/core';
import { rankCounts } from '../src/compareText.js';
import { HOT_SQLITE_MIGRATIONS, SchemaMigrator, encodeHistogram, histogramBin, toMicros } from '../src/index.js';

/**
 * The test oracle: every rollup recomputed with GROUP BY over the raw `user_interactions` rows,
 * and the stored rollups read back in the same shape, so a test can compare them with toEqual.
 */

const SIZES = { minute: 60_000, hour: 3_600_000, day: 86_400_000 } as const;
const DAY = 86_400_000;

type Row = Record<string, unknown>;
export type RollupSnapshot = Record<string, Row[]>;

/** A fresh in-memory database at the latest schema. */
export function openMemoryDatabase(): Database.Database {
  const db = new Database(':memory:');
  new SchemaMigrator(db, HOT_SQLITE_MIGRATIONS, 'test').migrate(0);
  return db;
}

/** Every derived table as stored. `withTimes` keeps created_at/updated_at (for byte-identical checks). */
export function storedRollups(db: Database.Database, withTimes = false): RollupSnapshot {
  const strip = (row: Row): Row => {
    const out: Row = {};
    for (const [key, value] of Object.entries(row)) {
      if (!withTimes && (key === 'created_at' || key === 'updated_at' || key === 'id')) continue;
      out[key] = Buffer.isBuffer(value) ? value.toString('hex') : value;
    }
    return out;
  };
  const read = (sql: string) => (db.prepare(sql).all() as Row[]).map(strip);
  const snapshot: RollupSnapshot = {};
  for (const name of Object.keys(SIZES)) {
    snapshot[`rollup_${name}`] = read(`SELECT * FROM rollup_${name} ORDER BY bucket_start, user_role, query_type`);
    snapshot[`latency_${name}`] = read(`SELECT * FROM latency_${name} ORDER BY bucket_start, user_role`);
  }
  snapshot.session_analytics = read(
    `SELECT session_id, user_role, start_time, start_query_type, last_activity, total_queries, successful_queries, response_us_sum,
            total_code_snippets, total_citations, rating_sum, rating_count, max_turn, conversion_achieved
            ${withTimes ? ', created_at, updated_at' : ''}
     FROM session_analytics ORDER BY session_id`,
  );
  snapshot.query_performance = read(
    `SELECT query_hash, query_normalized, query_category, total_asks, successes, response_us_sum, rating_sum, rating_count, popular_roles, first_asked, last_asked
            ${withTimes ? ', id, created_at, updated_at' : ''}
     FROM query_performance ORDER BY query_hash`,
  );
  // The daily tables name questions and items by id; ids depend on arrival order, so compare natural keys.
  const questionDays = (table: string, role: string) =>
    read(
      `SELECT ${role} d.day, q.query_hash, d.asks, d.successes, d.response_us_sum, d.rating_sum, d.rating_count
       FROM ${table} d JOIN query_performance q ON q.id = d.query_ref ORDER BY ${role} d.day, q.query_hash`,
    );
  snapshot.query_daily = questionDays('query_daily', '');
  snapshot.query_daily_by_role = questionDays('query_daily_by_role', 'd.user_role,');
  snapshot.content_performance = read(
    `SELECT content_type, content_id, access_count, successes, relevance_micro_sum, relevance_count, user_roles_accessing, first_accessed, last_accessed
            ${withTimes ? ', id, created_at, updated_at' : ''}
     FROM content_performance ORDER BY content_type, content_id`,
  );
  const contentDays = (table: string, role: string) =>
    read(
      `SELECT ${role} d.day, c.content_type, c.content_id, d.accesses, d.successes, d.relevance_micro_sum, d.relevance_count
       FROM ${table} d JOIN content_performance c ON c.id = d.content_ref ORDER BY ${role} d.day, c.content_type, c.content_id`,
    );
  snapshot.content_daily = contentDays('content_daily', '');
  snapshot.content_daily_by_role = contentDays('content_daily_by_role', 'd.user_role,');
  return snapshot;
}

/** What every derived table must hold, recomputed from the raw rows with GROUP BY. */
export function expectedRollups(db: Database.Database, conversionDepth: number): RollupSnapshot {
  db.function('t_us', { deterministic: true }, (value: unknown) => toMicros(value as number));
  db.function('t_bin', { deterministic: true }, (value: unknown) => histogramBin(value as number));
  const all = (sql: string, params: Record<string, unknown> = {}) => db.prepare(sql).all(params) as Row[];
  const depth = { depth: conversionDepth };
  // A session's start is its earliest event, ties broken by role then query type (BINARY order).
  const starts = `starts AS MATERIALIZED (
      SELECT session_id, timestamp, user_role, query_type FROM (
        SELECT session_id, timestamp, user_role, query_type,
               ROW_NUMBER() OVER (PARTITION BY session_id ORDER BY timestamp, user_role, query_type) AS n
        FROM user_interactions)
      WHERE n = 1),
    totals AS MATERIALIZED (SELECT session_id, COUNT(*) AS queries, MAX(conversation_turn) AS max_turn FROM user_interactions GROUP BY session_id)`;

  const snapshot: RollupSnapshot = {};
  for (const [name, size] of Object.entries(SIZES)) {
    // Minute rollups hold only the events at most a day old when stored; they count no sessions.
    const minute = name === 'minute';
    const source = minute ? `(SELECT * FROM user_interactions WHERE timestamp >= created_at - ${DAY})` : 'user_interactions';
    const bins = new Map<string, Map<number, number>>();
    for (const row of all(
      `SELECT (timestamp / ${size}) * ${size} AS b, user_role, t_bin(response_time) AS bin, COUNT(*) AS n FROM ${source} GROUP BY 1, 2, 3`,
    )) {
      const key = JSON.stringify([row.b, row.user_role]);
      if (!bins.has(key)) bins.set(key, new Map());
      bins.get(key)!.set(row.bin as number, row.n as number);
    }
    const measures = `(timestamp / ${size}) * ${size} AS bucket_start, user_role, query_type, COUNT(*) AS interactions, SUM(success) AS successes,
                  SUM(t_us(response_time)) AS response_us_sum, COALESCE(SUM(user_rating), 0) AS rating_sum, COUNT(user_rating) AS rating_count,
                  SUM(code_snippets_shown) AS code_snippets, SUM(citations_provided) AS citations, SUM(follow_up_query) AS follow_ups`;
    snapshot[`rollup_${name}`] = minute ? all(`SELECT ${measures} FROM ${source} GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`) : all(
      `WITH ${starts},
         session_keys AS MATERIALIZED (
           SELECT (s.timestamp / ${size}) * ${size} AS bucket_start, s.user_role, s.query_type, COUNT(*) AS started,
                  SUM(CASE WHEN t.queries >= @depth OR t.max_turn >= @depth THEN 1 ELSE 0 END) AS converted
           FROM starts s JOIN totals t USING (session_id) GROUP BY 1, 2, 3),
         events AS (SELECT ${measures} FROM user_interactions GROUP BY 1, 2, 3)
       SELECT e.*, COALESCE(k.started, 0) AS sessions_started, COALESCE(k.converted, 0) AS sessions_converted
       FROM events e LEFT JOIN session_keys k USING (bucket_start, user_role, query_type)
       ORDER BY bucket_start, user_role, query_type`,
      depth,
    );
    snapshot[`latency_${name}`] = all(
      `SELECT (timestamp / ${size}) * ${size} AS bucket_start, user_role, MAX(t_us(response_time)) AS response_us_max
       FROM ${source} GROUP BY 1, 2 ORDER BY 1, 2`,
    ).map((row) => ({ ...row, response_histogram: encodeHistogram(bins.get(JSON.stringify([row.bucket_start, row.user_role]))!).toString('hex') }));
  }

  snapshot.session_analytics = all(
    `WITH ${starts}
     SELECT i.session_id, s.user_role, s.timestamp AS start_time, s.query_type AS start_query_type, MAX(i.timestamp) AS last_activity,
            COUNT(*) AS total_queries, SUM(i.success) AS successful_queries, SUM(t_us(i.response_time)) AS response_us_sum,
            SUM(i.code_snippets_shown) AS total_code_snippets, SUM(i.citations_provided) AS total_citations,
            COALESCE(SUM(i.user_rating), 0) AS rating_sum, COUNT(i.user_rating) AS rating_count, MAX(i.conversation_turn) AS max_turn,
            CASE WHEN COUNT(*) >= @depth OR MAX(i.conversation_turn) >= @depth THEN 1 ELSE 0 END AS conversion_achieved
     FROM user_interactions i JOIN starts s USING (session_id)
     GROUP BY i.session_id ORDER BY i.session_id`,
    depth,
  );

  const queryRoles = groupedRoles(all('SELECT query_hash AS k, user_role, COUNT(*) AS n FROM user_interactions GROUP BY 1, 2'));
  snapshot.query_performance = all(
    `WITH firsts AS (
       SELECT query_hash, query_type FROM (
         SELECT query_hash, query_type, ROW_NUMBER() OVER (PARTITION BY query_hash ORDER BY timestamp, query_type) AS n FROM user_interactions)
       WHERE n = 1)
     SELECT i.query_hash, MIN(i.query) AS query, f.query_type AS query_category, COUNT(*) AS total_asks, SUM(i.success) AS successes,
            SUM(t_us(i.response_time)) AS response_us_sum, COALESCE(SUM(i.user_rating), 0) AS rating_sum, COUNT(i.user_rating) AS rating_count,
            MIN(i.timestamp) AS first_asked, MAX(i.timestamp) AS last_asked
     FROM user_interactions i JOIN firsts f USING (query_hash)
     GROUP BY i.query_hash ORDER BY i.query_hash`,
  ).map(({ query, ...row }) => ({
    query_hash: row.query_hash,
    query_normalized: normalizeQuery(query as string),
    query_category: row.query_category,
    total_asks: row.total_asks,
    successes: row.successes,
    response_us_sum: row.response_us_sum,
    rating_sum: row.rating_sum,
    rating_count: row.rating_count,
    popular_roles: queryRoles.get(row.query_hash as string),
    first_asked: row.first_asked,
    last_asked: row.last_asked,
  }));

  const questionMeasures = `COUNT(*) AS asks, SUM(success) AS successes, SUM(t_us(response_time)) AS response_us_sum,
            COALESCE(SUM(user_rating), 0) AS rating_sum, COUNT(user_rating) AS rating_count`;
  snapshot.query_daily = all(
    `SELECT (timestamp / ${DAY}) * ${DAY} AS day, query_hash, ${questionMeasures} FROM user_interactions GROUP BY 1, 2 ORDER BY 1, 2`,
  );
  snapshot.query_daily_by_role = all(
    `SELECT user_role, (timestamp / ${DAY}) * ${DAY} AS day, query_hash, ${questionMeasures} FROM user_interactions GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
  );

  const items = `items AS (
      SELECT i.timestamp, i.user_role, i.success, json_extract(j.value, '$.type') AS content_type, json_extract(j.value, '$.id') AS content_id,
             json_extract(j.value, '$.relevance') AS relevance
      FROM user_interactions i, json_each(i.content) j)`;
  const contentRoles = groupedRoles(all(`WITH ${items} SELECT json_array(content_type, content_id) AS k, user_role, COUNT(*) AS n FROM items GROUP BY 1, 2`));
  snapshot.content_performance = all(
    `WITH ${items}
     SELECT content_type, content_id, COUNT(*) AS access_count, SUM(success) AS successes,
            COALESCE(SUM(CASE WHEN relevance IS NULL THEN 0 ELSE t_us(relevance) END), 0) AS relevance_micro_sum, COUNT(relevance) AS relevance_count,
            json_array(content_type, content_id) AS k, MIN(timestamp) AS first_accessed, MAX(timestamp) AS last_accessed
     FROM items GROUP BY content_type, content_id ORDER BY content_type, content_id`,
  ).map(({ k, first_accessed, last_accessed, ...row }) => ({ ...row, user_roles_accessing: contentRoles.get(k as string), first_accessed, last_accessed }));
  const contentMeasures = `COUNT(*) AS accesses, SUM(success) AS successes,
            COALESCE(SUM(CASE WHEN relevance IS NULL THEN 0 ELSE t_us(relevance) END), 0) AS relevance_micro_sum, COUNT(relevance) AS relevance_count`;
  snapshot.content_daily = all(
    `WITH ${items} SELECT (timestamp / ${DAY}) * ${DAY} AS day, content_type, content_id, ${contentMeasures} FROM items GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
  );
  snapshot.content_daily_by_role = all(
    `WITH ${items}
     SELECT user_role, (timestamp / ${DAY}) * ${DAY} AS day, content_type, content_id, ${contentMeasures} FROM items GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`,
  );
  return snapshot;
}

function groupedRoles(rows: Row[]): Map<string, string> {
  const byKey = new Map<string, Map<string, number>>();
  for (const row of rows) {
    const key = row.k as string;
    if (!byKey.has(key)) byKey.set(key, new Map());
    byKey.get(key)!.set(row.user_role as string, row.n as number);
  }
  return new Map([...byKey].map(([key, counts]) => [key, JSON.stringify(rankCounts(counts))]));
}
