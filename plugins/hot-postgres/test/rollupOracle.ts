import type pg from 'pg';
import { normalizeQuery } from '@strata/core';
import { encodeHistogram, histogramBin, rankCounts, toMicros } from '@strata/hot-sqlite';

/**
 * The test oracle (hot-sqlite's rollupOracle.ts, on PostgreSQL): every rollup recomputed with
 * GROUP BY over the raw `user_interactions` rows, and the stored rollups read back in the same
 * shape, so a test compares them with toEqual. The two functions hot-sqlite registers in SQLite
 * (micros and histogram bin of a response time, computed in JavaScript) are computed here once per
 * row into a temporary table the GROUP BYs join.
 */

const SIZES = { minute: 60_000, hour: 3_600_000, day: 86_400_000 } as const;
const DAY = 86_400_000;

type Row = Record<string, unknown>;
export type RollupSnapshot = Record<string, Row[]>;

const rankedJson = (rows: Row[], keyOf: (row: Row) => string, count: string): Map<string, string> => {
  const byKey = new Map<string, Map<string, number>>();
  for (const row of rows) {
    const key = keyOf(row);
    if (!byKey.has(key)) byKey.set(key, new Map());
    byKey.get(key)!.set(row.user_role as string, row[count] as number);
  }
  return new Map([...byKey].map(([key, counts]) => [key, JSON.stringify(rankCounts(counts))]));
};

/** Every derived table as stored. `withTimes` keeps ids and created_at/updated_at (for byte-identical checks). */
export async function storedRollups(client: pg.Client, schema: string, withTimes = false): Promise<RollupSnapshot> {
  const s = (name: string) => `"${schema}".${name}`;
  const all = async (sql: string) => (await client.query<Row>(sql)).rows;
  const snapshot: RollupSnapshot = {};
  const measures = 'interactions, successes, response_us_sum, rating_sum, rating_count, code_snippets, citations, follow_ups';
  for (const name of Object.keys(SIZES)) {
    snapshot[`rollup_${name}`] = await all(
      `SELECT bucket_start, user_role, query_type, ${measures}${name === 'minute' ? '' : ', sessions_started, sessions_converted'}
       FROM ${s(`rollup_${name}`)} ORDER BY bucket_start, user_role, query_type`,
    );
    snapshot[`latency_${name}`] = await all(
      `SELECT bucket_start, user_role, response_us_max, encode(response_histogram, 'hex') AS response_histogram FROM ${s(`latency_${name}`)} ORDER BY bucket_start, user_role`,
    );
  }
  snapshot.session_analytics = await all(
    `SELECT session_id, user_role, start_time, start_query_type, last_activity, total_queries, successful_queries, response_us_sum,
            total_code_snippets, total_citations, rating_sum, rating_count, max_turn, conversion_achieved ${withTimes ? ', created_at, updated_at' : ''}
     FROM ${s('session_analytics')} ORDER BY session_id`,
  );
  const queryRoles = rankedJson(await all(`SELECT query_ref, user_role, asks FROM ${s('query_role_counts')} WHERE asks <> 0`), (row) => String(row.query_ref), 'asks');
  snapshot.query_performance = (
    await all(
      `SELECT id, query_hash, query_normalized, query_category, total_asks, successes, response_us_sum, rating_sum, rating_count, first_asked, last_asked
              ${withTimes ? ', created_at, updated_at' : ''}
       FROM ${s('query_performance')} ORDER BY query_hash`,
    )
  ).map(({ id, first_asked, last_asked, ...row }) => ({ ...row, popular_roles: queryRoles.get(String(id)) ?? '[]', first_asked, last_asked, ...(withTimes ? { id } : {}) }));
  const questionDays = (table: string, role: string) =>
    all(
      `SELECT ${role} d.day, q.query_hash, d.asks, d.successes, d.response_us_sum, d.rating_sum, d.rating_count
       FROM ${s(table)} d JOIN ${s('query_performance')} q ON q.id = d.query_ref ORDER BY ${role} d.day, q.query_hash`,
    );
  snapshot.query_daily = await questionDays('query_daily', '');
  snapshot.query_daily_by_role = await questionDays('query_daily_by_role', 'd.user_role,');
  const contentRoles = rankedJson(await all(`SELECT content_ref, user_role, accesses FROM ${s('content_role_counts')} WHERE accesses <> 0`), (row) => String(row.content_ref), 'accesses');
  snapshot.content_performance = (
    await all(
      `SELECT id, content_type, content_id, access_count, successes, relevance_micro_sum, relevance_count, first_accessed, last_accessed
              ${withTimes ? ', created_at, updated_at' : ''}
       FROM ${s('content_performance')} ORDER BY content_type, content_id`,
    )
  ).map(({ id, first_accessed, last_accessed, ...row }) => ({ ...row, user_roles_accessing: contentRoles.get(String(id)) ?? '[]', first_accessed, last_accessed, ...(withTimes ? { id } : {}) }));
  const contentDays = (table: string, role: string) =>
    all(
      `SELECT ${role} d.day, c.content_type, c.content_id, d.accesses, d.successes, d.relevance_micro_sum, d.relevance_count
       FROM ${s(table)} d JOIN ${s('content_performance')} c ON c.id = d.content_ref ORDER BY ${role} d.day, c.content_type, c.content_id`,
    );
  snapshot.content_daily = await contentDays('content_daily', '');
  snapshot.content_daily_by_role = await contentDays('content_daily_by_role', 'd.user_role,');
  return snapshot;
}

/** What every derived table must hold, recomputed from the raw rows with GROUP BY. */
export async function expectedRollups(client: pg.Client, schema: string, conversionDepth: number): Promise<RollupSnapshot> {
  const s = (name: string) => `"${schema}".${name}`;
  const all = async (sql: string, params: unknown[] = []) => (await client.query<Row>(sql, params)).rows;
  // Per-row micros and bins, and one row per content item listed, computed in JavaScript as the writer does.
  const raw = await all(`SELECT id, response_time, content FROM ${s('user_interactions')}`);
  await client.query('DROP TABLE IF EXISTS oracle_events, oracle_items');
  await client.query('CREATE TEMP TABLE oracle_events (id bigint PRIMARY KEY, us bigint NOT NULL, bin integer NOT NULL)');
  await client.query('CREATE TEMP TABLE oracle_items (id bigint NOT NULL, content_type text COLLATE "C" NOT NULL, content_id text COLLATE "C" NOT NULL, relevance_us bigint)');
  await client.query('INSERT INTO oracle_events SELECT * FROM unnest($1::int8[], $2::int8[], $3::int4[])', [
    raw.map((row) => row.id),
    raw.map((row) => toMicros(row.response_time as number)),
    raw.map((row) => histogramBin(row.response_time as number)),
  ]);
  const items = raw.flatMap((row) =>
    (JSON.parse(row.content as string) as Array<{ type: string; id: string; relevance: number | null }>).map((item) => [row.id, item.type, item.id, item.relevance === null ? null : toMicros(item.relevance)]),
  );
  await client.query('INSERT INTO oracle_items SELECT * FROM unnest($1::int8[], $2::text[], $3::text[], $4::int8[])', [0, 1, 2, 3].map((column) => items.map((item) => item[column])));

  const events = `(SELECT u.*, e.us, e.bin FROM ${s('user_interactions')} u JOIN oracle_events e USING (id))`;
  const depth = Number(conversionDepth);
  // A session's start is its earliest event, ties broken by role then query type (code point order).
  const starts = `starts AS (
      SELECT DISTINCT ON (session_id) session_id, timestamp, user_role, query_type FROM ${s('user_interactions')} ORDER BY session_id, timestamp, user_role, query_type),
    totals AS (SELECT session_id, COUNT(*) AS queries, MAX(conversation_turn) AS max_turn FROM ${s('user_interactions')} GROUP BY session_id)`;
  const snapshot: RollupSnapshot = {};
  for (const [name, size] of Object.entries(SIZES)) {
    // Minute rollups hold only the events at most a day old when stored; they count no sessions.
    const minute = name === 'minute';
    const source = minute ? `(SELECT * FROM ${events} ev WHERE timestamp >= created_at - ${DAY})` : events;
    const measures = `(timestamp / ${size}) * ${size} AS bucket_start, user_role, query_type, COUNT(*)::int8 AS interactions,
        COUNT(*) FILTER (WHERE success)::int8 AS successes, SUM(us)::int8 AS response_us_sum, COALESCE(SUM(user_rating), 0)::int8 AS rating_sum,
        COUNT(user_rating)::int8 AS rating_count, SUM(code_snippets_shown)::int8 AS code_snippets, SUM(citations_provided)::int8 AS citations,
        COUNT(*) FILTER (WHERE follow_up_query)::int8 AS follow_ups`;
    snapshot[`rollup_${name}`] = minute
      ? await all(`SELECT ${measures} FROM ${source} src GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`)
      : await all(
          `WITH ${starts},
             session_keys AS (
               SELECT (s.timestamp / ${size}) * ${size} AS bucket_start, s.user_role, s.query_type, COUNT(*)::int8 AS started,
                      COUNT(*) FILTER (WHERE t.queries >= ${depth} OR t.max_turn >= ${depth})::int8 AS converted
               FROM starts s JOIN totals t USING (session_id) GROUP BY 1, 2, 3),
             grouped AS (SELECT ${measures} FROM ${source} src GROUP BY 1, 2, 3)
           SELECT g.*, COALESCE(k.started, 0)::int8 AS sessions_started, COALESCE(k.converted, 0)::int8 AS sessions_converted
           FROM grouped g LEFT JOIN session_keys k USING (bucket_start, user_role, query_type)
           ORDER BY bucket_start, user_role, query_type`,
        );
    const bins = new Map<string, Map<number, number>>();
    for (const row of await all(`SELECT (timestamp / ${size}) * ${size} AS b, user_role, bin, COUNT(*)::int8 AS n FROM ${source} src GROUP BY 1, 2, 3`)) {
      const key = JSON.stringify([row.b, row.user_role]);
      if (!bins.has(key)) bins.set(key, new Map());
      bins.get(key)!.set(row.bin as number, row.n as number);
    }
    snapshot[`latency_${name}`] = (
      await all(`SELECT (timestamp / ${size}) * ${size} AS bucket_start, user_role, MAX(us)::int8 AS response_us_max FROM ${source} src GROUP BY 1, 2 ORDER BY 1, 2`)
    ).map((row) => ({ ...row, response_histogram: encodeHistogram(bins.get(JSON.stringify([row.bucket_start, row.user_role]))!).toString('hex') }));
  }

  snapshot.session_analytics = await all(
    `WITH ${starts}
     SELECT i.session_id, s.user_role, s.timestamp AS start_time, s.query_type AS start_query_type, MAX(i.timestamp) AS last_activity,
            COUNT(*)::int8 AS total_queries, COUNT(*) FILTER (WHERE i.success)::int8 AS successful_queries, SUM(i.us)::int8 AS response_us_sum,
            SUM(i.code_snippets_shown)::int8 AS total_code_snippets, SUM(i.citations_provided)::int8 AS total_citations,
            COALESCE(SUM(i.user_rating), 0)::int8 AS rating_sum, COUNT(i.user_rating)::int8 AS rating_count, MAX(i.conversation_turn) AS max_turn,
            CASE WHEN COUNT(*) >= ${depth} OR MAX(i.conversation_turn) >= ${depth} THEN 1 ELSE 0 END AS conversion_achieved
     FROM ${events} i JOIN starts s USING (session_id)
     GROUP BY i.session_id, s.user_role, s.timestamp, s.query_type ORDER BY i.session_id`,
  );

  const queryRoles = rankedJson(await all(`SELECT query_hash, user_role, COUNT(*)::int8 AS n FROM ${s('user_interactions')} GROUP BY 1, 2`), (row) => row.query_hash as string, 'n');
  snapshot.query_performance = (
    await all(
      `WITH firsts AS (SELECT DISTINCT ON (query_hash) query_hash, query_type FROM ${s('user_interactions')} ORDER BY query_hash, timestamp, query_type)
       SELECT i.query_hash, MIN(i.query) AS query, f.query_type AS query_category, COUNT(*)::int8 AS total_asks, COUNT(*) FILTER (WHERE i.success)::int8 AS successes,
              SUM(i.us)::int8 AS response_us_sum, COALESCE(SUM(i.user_rating), 0)::int8 AS rating_sum, COUNT(i.user_rating)::int8 AS rating_count,
              MIN(i.timestamp) AS first_asked, MAX(i.timestamp) AS last_asked
       FROM ${events} i JOIN firsts f USING (query_hash)
       GROUP BY i.query_hash, f.query_type ORDER BY i.query_hash`,
    )
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

  const questionMeasures = `COUNT(*)::int8 AS asks, COUNT(*) FILTER (WHERE success)::int8 AS successes, SUM(us)::int8 AS response_us_sum,
            COALESCE(SUM(user_rating), 0)::int8 AS rating_sum, COUNT(user_rating)::int8 AS rating_count`;
  snapshot.query_daily = await all(`SELECT (timestamp / ${DAY}) * ${DAY} AS day, query_hash, ${questionMeasures} FROM ${events} ev GROUP BY 1, 2 ORDER BY 1, 2`);
  snapshot.query_daily_by_role = await all(
    `SELECT user_role, (timestamp / ${DAY}) * ${DAY} AS day, query_hash, ${questionMeasures} FROM ${events} ev GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
  );

  const listed = `(SELECT i.timestamp, i.user_role, i.success, o.content_type, o.content_id, o.relevance_us FROM ${s('user_interactions')} i JOIN oracle_items o USING (id))`;
  const contentRoles = rankedJson(
    await all(`SELECT content_type, content_id, user_role, COUNT(*)::int8 AS n FROM ${listed} l GROUP BY 1, 2, 3`),
    (row) => JSON.stringify([row.content_type, row.content_id]),
    'n',
  );
  const contentMeasures = `COUNT(*)::int8 AS accesses, COUNT(*) FILTER (WHERE success)::int8 AS successes,
            COALESCE(SUM(relevance_us), 0)::int8 AS relevance_micro_sum, COUNT(relevance_us)::int8 AS relevance_count`;
  snapshot.content_performance = (
    await all(
      `SELECT content_type, content_id, ${contentMeasures}, MIN(timestamp) AS first_accessed, MAX(timestamp) AS last_accessed
       FROM ${listed} l GROUP BY content_type, content_id ORDER BY content_type, content_id`,
    )
  ).map(({ accesses, first_accessed, last_accessed, ...row }) => ({
    content_type: row.content_type,
    content_id: row.content_id,
    access_count: accesses,
    successes: row.successes,
    relevance_micro_sum: row.relevance_micro_sum,
    relevance_count: row.relevance_count,
    user_roles_accessing: contentRoles.get(JSON.stringify([row.content_type, row.content_id])),
    first_accessed,
    last_accessed,
  }));
  snapshot.content_daily = await all(
    `SELECT (timestamp / ${DAY}) * ${DAY} AS day, content_type, content_id, ${contentMeasures} FROM ${listed} l GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
  );
  snapshot.content_daily_by_role = await all(
    `SELECT user_role, (timestamp / ${DAY}) * ${DAY} AS day, content_type, content_id, ${contentMeasures} FROM ${listed} l GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`,
  );
  await client.query('DROP TABLE oracle_events, oracle_items');
  return snapshot;
}

/** Empties every table of a tier's schema (and restarts its id sequences), keeping its partitions and policies. */
export async function resetTier(client: pg.Client, schema: string): Promise<void> {
  const s = (name: string) => `"${schema}".${name}`;
  const tables = [
    'user_interactions', 'interaction_ids', 'rollup_minute', 'rollup_hour', 'rollup_day', 'latency_minute', 'latency_hour', 'latency_day',
    'session_analytics', 'query_performance', 'query_role_counts', 'query_daily', 'query_daily_by_role', 'content_performance',
    'content_role_counts', 'content_daily', 'content_daily_by_role', 'system_performance', 'metric_rollup_minute', 'metric_rollup_hour',
    'metric_rollup_day', 'tier_state',
  ];
  await client.query(`TRUNCATE ${tables.map(s).join(', ')}`);
  for (const sequence of ['user_interactions_id_seq', 'query_performance_id_seq', 'content_performance_id_seq']) await client.query(`ALTER SEQUENCE ${s(sequence)} RESTART`);
}
