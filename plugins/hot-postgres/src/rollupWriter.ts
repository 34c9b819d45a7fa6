import type { ClientBase } from 'pg';
import {
  MINUTE_GRANULARITY as MINUTE,
  ROLLUP_GRANULARITIES,
  contentKey,
  encodeHistogram,
  type BatchDeltas,
  type ContentDelta,
  type QueryDelta,
  type RollupDelta,
  type SessionState,
} from '@strata/hot-sqlite';
import type { Qualify, StatementNames } from './sqlNames.js';

/**
 * The rollup statements of the write path. Every statement writes all of a batch's rows of one
 * table at once (one array per column, read with `unnest`), sorted by the table's key: every
 * transaction locks rows table by table in one fixed order and, within a table, in key order, so
 * concurrent writers wait for each other but never deadlock. Additive UPSERTs
 * (`ON CONFLICT … DO UPDATE SET n = n + EXCLUDED.n`) are correct under concurrency: the conflicting
 * row is locked and re-read before the update.
 *
 * A `sign` of -1 subtracts (session erasure): rows are then only updated where they exist, never created.
 */
export class RollupWriter {
  private readonly rollupSql: string[];
  private readonly latencySql: string[];
  private readonly sessionPlaceholderSql: string;
  private readonly sessionLockSql: string;
  private readonly sessionUpdateSql: string;
  private readonly queryIdsSql: string;
  private readonly queryReserveSql: string;
  private readonly queryUpsertSql: string;
  private readonly queryRolesSql: string;
  private readonly queryDaySql: string;
  private readonly queryDayRoleSql: string;
  private readonly contentIdsSql: string;
  private readonly contentReserveSql: string;
  private readonly contentUpsertSql: string;
  private readonly contentRolesSql: string;
  private readonly contentDaySql: string;
  private readonly contentDayRoleSql: string;

  constructor(
    q: Qualify,
    private readonly names: StatementNames,
  ) {
    this.rollupSql = ROLLUP_GRANULARITIES.map((name, granularity) => rollupUpsertSql(q(`rollup_${name}`), granularity !== MINUTE));
    this.latencySql = ROLLUP_GRANULARITIES.map(
      (name) => `INSERT INTO ${q(`latency_${name}`)} AS t (bucket_start, user_role, response_us_max, response_histogram)
        SELECT u.* FROM unnest($1::int8[], $2::text[], $3::int8[], $4::bytea[]) AS u(b, ro, mx, h)
        ORDER BY u.b, u.ro COLLATE "C"
        ON CONFLICT (bucket_start, user_role) DO UPDATE SET
          response_us_max = GREATEST(t.response_us_max, EXCLUDED.response_us_max),
          response_histogram = ${q('strata_histogram_merge')}(t.response_histogram, EXCLUDED.response_histogram)`,
    );
    const sessions = q('session_analytics');
    const sessionColumns = `session_id, user_role, start_time, start_query_type, last_activity, total_queries, successful_queries, response_us_sum,
      total_code_snippets, total_citations, rating_sum, rating_count, max_turn, conversion_achieved, created_at, updated_at`;
    // A placeholder row (total_queries 0) for each new session, so the next statement can lock
    // every session of the batch, new or not: two writers never both decide a session is new.
    this.sessionPlaceholderSql = `INSERT INTO ${sessions} (${sessionColumns})
      SELECT u.id, '', 0, '', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, $2::int8, $2::int8 FROM unnest($1::text[]) AS u(id)
      ORDER BY u.id COLLATE "C"
      ON CONFLICT (session_id) DO NOTHING`;
    this.sessionLockSql = `SELECT ${sessionColumns} FROM ${sessions} WHERE session_id = ANY($1::text[]) ORDER BY session_id FOR UPDATE`;
    this.sessionUpdateSql = `UPDATE ${sessions} AS t SET
        user_role = u.role, start_time = u.start, start_query_type = u.type, last_activity = u.last, total_queries = u.queries,
        successful_queries = u.successes, response_us_sum = u.us, total_code_snippets = u.snippets, total_citations = u.citations,
        rating_sum = u.rsum, rating_count = u.rcount, max_turn = u.turn, conversion_achieved = u.conv, created_at = u.created, updated_at = u.updated
      FROM unnest($1::text[], $2::text[], $3::int8[], $4::text[], $5::int8[], $6::int8[], $7::int8[], $8::int8[], $9::int8[], $10::int8[],
                  $11::int8[], $12::int8[], $13::int8[], $14::int2[], $15::int8[], $16::int8[])
        AS u(id, role, start, type, last, queries, successes, us, snippets, citations, rsum, rcount, turn, conv, created, updated)
      WHERE t.session_id = u.id`;

    const queries = q('query_performance');
    this.queryIdsSql = `SELECT id, query_hash FROM ${queries} WHERE query_hash = ANY($1::text[])`;
    this.queryReserveSql = `SELECT nextval('${q('query_performance_id_seq')}') AS id FROM generate_series(1, $1::int4)`;
    this.queryUpsertSql = `INSERT INTO ${queries} AS t (id, query_hash, query_normalized, query_category, total_asks, successes, response_us_sum,
        rating_sum, rating_count, first_asked, last_asked, created_at, updated_at)
      SELECT u.*, $12::int8, $12::int8 FROM unnest($1::int8[], $2::text[], $3::text[], $4::text[], $5::int8[], $6::int8[], $7::int8[], $8::int8[],
                                            $9::int8[], $10::int8[], $11::int8[]) AS u(id, hash, normalized, category, asks, s, us, rs, rc, first, last)
      ORDER BY u.hash COLLATE "C"
      ON CONFLICT (query_hash) DO UPDATE SET
        query_category = CASE WHEN EXCLUDED.first_asked < t.first_asked OR (EXCLUDED.first_asked = t.first_asked AND EXCLUDED.query_category < t.query_category)
                              THEN EXCLUDED.query_category ELSE t.query_category END,
        total_asks = t.total_asks + EXCLUDED.total_asks,
        successes = t.successes + EXCLUDED.successes,
        response_us_sum = t.response_us_sum + EXCLUDED.response_us_sum,
        rating_sum = t.rating_sum + EXCLUDED.rating_sum,
        rating_count = t.rating_count + EXCLUDED.rating_count,
        first_asked = LEAST(t.first_asked, EXCLUDED.first_asked),
        last_asked = GREATEST(t.last_asked, EXCLUDED.last_asked),
        updated_at = EXCLUDED.updated_at
      RETURNING id, query_hash`;
    this.queryRolesSql = signedUpsertSql(q('query_role_counts'), ['query_ref', 'user_role'], ['int8', 'text'], ['asks'], 'int8');
    const queryDayMeasures = ['asks', 'successes', 'response_us_sum', 'rating_sum', 'rating_count'];
    this.queryDaySql = signedUpsertSql(q('query_daily'), ['day', 'query_ref'], ['int8', 'int8'], queryDayMeasures, 'int8');
    this.queryDayRoleSql = signedUpsertSql(q('query_daily_by_role'), ['user_role', 'day', 'query_ref'], ['text', 'int8', 'int8'], queryDayMeasures, 'int8');

    const contents = q('content_performance');
    this.contentIdsSql = `SELECT id, content_type, content_id FROM ${contents}
      WHERE (content_type, content_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))`;
    this.contentReserveSql = `SELECT nextval('${q('content_performance_id_seq')}') AS id FROM generate_series(1, $1::int4)`;
    this.contentUpsertSql = `INSERT INTO ${contents} AS t (id, content_type, content_id, access_count, successes, relevance_micro_sum, relevance_count,
        first_accessed, last_accessed, created_at, updated_at)
      SELECT u.*, $10::int8, $10::int8 FROM unnest($1::int8[], $2::text[], $3::text[], $4::int8[], $5::int8[], $6::int8[], $7::int8[], $8::int8[], $9::int8[])
        AS u(id, type, item, n, s, rel, relc, first, last)
      ORDER BY u.type COLLATE "C", u.item COLLATE "C"
      ON CONFLICT (content_type, content_id) DO UPDATE SET
        access_count = t.access_count + EXCLUDED.access_count,
        successes = t.successes + EXCLUDED.successes,
        relevance_micro_sum = t.relevance_micro_sum + EXCLUDED.relevance_micro_sum,
        relevance_count = t.relevance_count + EXCLUDED.relevance_count,
        first_accessed = LEAST(t.first_accessed, EXCLUDED.first_accessed),
        last_accessed = GREATEST(t.last_accessed, EXCLUDED.last_accessed),
        updated_at = EXCLUDED.updated_at
      RETURNING id, content_type, content_id`;
    this.contentRolesSql = signedUpsertSql(q('content_role_counts'), ['content_ref', 'user_role'], ['int8', 'text'], ['accesses'], 'int8');
    const contentDayMeasures = ['accesses', 'successes', 'relevance_micro_sum', 'relevance_count'];
    this.contentDaySql = signedUpsertSql(q('content_daily'), ['day', 'content_ref'], ['int8', 'int8'], contentDayMeasures, 'int8');
    this.contentDayRoleSql = signedUpsertSql(q('content_daily_by_role'), ['user_role', 'day', 'content_ref'], ['text', 'int8', 'int8'], contentDayMeasures, 'int8');
  }

  /** Locks every session of the batch (creating placeholders for new ones) and returns the stored ones. */
  async lockSessions(client: ClientBase, sessionIds: readonly string[], createdAt: number): Promise<Map<string, SessionState>> {
    await this.run(client, this.sessionPlaceholderSql, [sessionIds, createdAt]);
    const { rows } = await this.run<SessionState>(client, this.sessionLockSql, [sessionIds]);
    // A placeholder is a session this batch starts.
    return new Map(rows.filter((row) => row.total_queries > 0).map((row) => [row.session_id, row]));
  }

  async writeSessions(client: ClientBase, rows: readonly SessionState[]): Promise<void> {
    if (rows.length === 0) return;
    const keys: Array<keyof SessionState> = [
      'session_id', 'user_role', 'start_time', 'start_query_type', 'last_activity', 'total_queries', 'successful_queries', 'response_us_sum',
      'total_code_snippets', 'total_citations', 'rating_sum', 'rating_count', 'max_turn', 'conversion_achieved', 'created_at', 'updated_at',
    ];
    await this.run(client, this.sessionUpdateSql, keys.map((key) => rows.map((row) => row[key])));
  }

  /** Time rollups of every granularity, then their latency histograms (merged on the server). */
  async writeTimeRollups(client: ClientBase, deltas: BatchDeltas, sign: 1 | -1): Promise<void> {
    for (let granularity = 0; granularity < ROLLUP_GRANULARITIES.length; granularity += 1) {
      const rows = [...deltas.rollups[granularity]!.values()].filter(
        (delta) => delta.interactions !== 0 || (granularity !== MINUTE && (delta.sessionsStarted !== 0 || delta.sessionsConverted !== 0)),
      );
      if (rows.length === 0) continue;
      const measures = (delta: RollupDelta) => {
        const values = [delta.interactions, delta.successes, delta.responseUs, delta.ratingSum, delta.ratingCount, delta.snippets, delta.citations, delta.followUps];
        if (granularity !== MINUTE) values.push(delta.sessionsStarted, delta.sessionsConverted);
        return values.map((value) => sign * value);
      };
      const measured = rows.map(measures);
      const params: unknown[][] = [rows.map((row) => row.bucket), rows.map((row) => row.role), rows.map((row) => row.type)];
      for (let column = 0; column < measured[0]!.length; column += 1) params.push(measured.map((values) => values[column]));
      await this.run(client, this.rollupSql[granularity]!, params);
    }
    if (sign < 0) return;
    for (let granularity = 0; granularity < ROLLUP_GRANULARITIES.length; granularity += 1) {
      const rows = [...deltas.latencies[granularity]!.values()];
      if (rows.length === 0) continue;
      await this.run(client, this.latencySql[granularity]!, [
        rows.map((row) => row.bucket),
        rows.map((row) => row.role),
        rows.map((row) => row.responseUsMax),
        rows.map((row) => encodeHistogram(row.bins)),
      ]);
    }
  }

  /**
   * Question rollups. New questions get ids reserved from the sequence in the order the batch
   * first asks them (hot-sqlite's rowid order); existing ones keep theirs. Returns hash → id.
   */
  async writeQueries(client: ClientBase, queries: ReadonlyMap<string, QueryDelta>, createdAt: number): Promise<Map<string, number>> {
    const list = [...queries.values()];
    if (list.length === 0) return new Map();
    const ids = new Map<string, number>();
    const existing = await this.run<{ id: number; query_hash: string }>(client, this.queryIdsSql, [list.map((query) => query.hash)]);
    for (const row of existing.rows) ids.set(row.query_hash, row.id);
    await this.reserveIds(client, this.queryReserveSql, list.map((query) => query.hash), ids);
    const { rows } = await this.run<{ id: number; query_hash: string }>(client, this.queryUpsertSql, [
      list.map((query) => ids.get(query.hash)),
      list.map((query) => query.hash),
      list.map((query) => query.normalized),
      list.map((query) => query.category),
      list.map((query) => query.asks),
      list.map((query) => query.successes),
      list.map((query) => query.responseUs),
      list.map((query) => query.ratingSum),
      list.map((query) => query.ratingCount),
      list.map((query) => query.firstAsked),
      list.map((query) => query.lastAsked),
      createdAt,
    ]);
    // Another writer may have created a question after the lookup: the UPSERT says which id won.
    for (const row of rows) ids.set(row.query_hash, row.id);
    return ids;
  }

  async writeQueryDetails(client: ClientBase, deltas: BatchDeltas, ids: ReadonlyMap<string, number>, sign: 1 | -1): Promise<void> {
    const roles: Array<[number, string, number]> = [];
    for (const query of deltas.queries.values()) {
      const ref = ids.get(query.hash);
      if (ref === undefined) continue;
      for (const [role, count] of query.roles) roles.push([ref, role, sign * count]);
    }
    await this.runRows(client, this.queryRolesSql, roles);
    const all: unknown[][] = [];
    const byRole: unknown[][] = [];
    for (const day of deltas.queryDays.values()) {
      const ref = ids.get(day.hash);
      if (ref === undefined) continue;
      const measures = [day.asks, day.successes, day.responseUs, day.ratingSum, day.ratingCount].map((value) => sign * value);
      if (day.role === undefined) all.push([day.day, ref, ...measures]);
      else byRole.push([day.role, day.day, ref, ...measures]);
    }
    await this.runRows(client, this.queryDaySql, all);
    await this.runRows(client, this.queryDayRoleSql, byRole);
  }

  /** Content rollups, as `writeQueries`; returns item key → id. */
  async writeContents(client: ClientBase, contents: ReadonlyMap<string, ContentDelta>, createdAt: number): Promise<Map<string, number>> {
    const entries = [...contents];
    if (entries.length === 0) return new Map();
    const ids = new Map<string, number>();
    const existing = await this.run<{ id: number; content_type: string; content_id: string }>(client, this.contentIdsSql, [
      entries.map(([, content]) => content.type),
      entries.map(([, content]) => content.id),
    ]);
    for (const row of existing.rows) ids.set(contentKey(row.content_type, row.content_id), row.id);
    await this.reserveIds(client, this.contentReserveSql, entries.map(([key]) => key), ids);
    const { rows } = await this.run<{ id: number; content_type: string; content_id: string }>(client, this.contentUpsertSql, [
      entries.map(([key]) => ids.get(key)),
      entries.map(([, content]) => content.type),
      entries.map(([, content]) => content.id),
      entries.map(([, content]) => content.accesses),
      entries.map(([, content]) => content.successes),
      entries.map(([, content]) => content.relevanceMicros),
      entries.map(([, content]) => content.relevanceCount),
      entries.map(([, content]) => content.first),
      entries.map(([, content]) => content.last),
      createdAt,
    ]);
    for (const row of rows) ids.set(contentKey(row.content_type, row.content_id), row.id);
    return ids;
  }

  async writeContentDetails(client: ClientBase, deltas: BatchDeltas, ids: ReadonlyMap<string, number>, sign: 1 | -1): Promise<void> {
    const roles: Array<[number, string, number]> = [];
    for (const [key, content] of deltas.contents) {
      const ref = ids.get(key);
      if (ref === undefined) continue;
      for (const [role, count] of content.roles) roles.push([ref, role, sign * count]);
    }
    await this.runRows(client, this.contentRolesSql, roles);
    const all: unknown[][] = [];
    const byRole: unknown[][] = [];
    for (const day of deltas.contentDays.values()) {
      const ref = ids.get(day.item);
      if (ref === undefined) continue;
      const measures = [day.accesses, day.successes, day.relevanceMicros, day.relevanceCount].map((value) => sign * value);
      if (day.role === undefined) all.push([day.day, ref, ...measures]);
      else byRole.push([day.role, day.day, ref, ...measures]);
    }
    await this.runRows(client, this.contentDaySql, all);
    await this.runRows(client, this.contentDayRoleSql, byRole);
  }

  /** Ids for the keys that have none, from the sequence, handed out in the order the keys are listed. */
  private async reserveIds(client: ClientBase, sql: string, keys: readonly string[], ids: Map<string, number>): Promise<void> {
    const missing = keys.filter((key) => !ids.has(key));
    if (missing.length === 0) return;
    const { rows } = await this.run<{ id: number }>(client, sql, [missing.length]);
    const reserved = rows.map((row) => row.id).sort((a, b) => a - b);
    missing.forEach((key, index) => ids.set(key, reserved[index]!));
  }

  private async runRows(client: ClientBase, sql: string, rows: ReadonlyArray<readonly unknown[]>): Promise<void> {
    if (rows.length === 0) return;
    const params = rows[0]!.map((_, column) => rows.map((row) => row[column]));
    await this.run(client, sql, params);
  }

  private run<Row extends object = Record<string, unknown>>(client: ClientBase, text: string, values: unknown[]) {
    return client.query<Row>({ ...this.names.get(text), values });
  }
}

/** The minute table has no session columns: sessions are counted per hour and per day. */
function rollupUpsertSql(table: string, withSessions: boolean): string {
  const measures = ['interactions', 'successes', 'response_us_sum', 'rating_sum', 'rating_count', 'code_snippets', 'citations', 'follow_ups'];
  if (withSessions) measures.push('sessions_started', 'sessions_converted');
  return signedUpsertSql(table, ['bucket_start', 'user_role', 'query_type'], ['int8', 'text', 'text'], measures, 'int8');
}

/**
 * `INSERT … ON CONFLICT (key) DO UPDATE SET m = m + EXCLUDED.m` over arrays, in key order. A row
 * whose first measure is not positive (a subtraction, or a session start moving out of a bucket)
 * is only applied where the row exists, so it never creates a row of negative or zero counts.
 */
function signedUpsertSql(table: string, keys: readonly string[], keyTypes: readonly string[], measures: readonly string[], measureType: string): string {
  const columns = [...keys, ...measures];
  const alias = columns.map((_, index) => `c${index}`);
  const arrays = [...keyTypes, ...measures.map(() => measureType)].map((type, index) => `$${index + 1}::${type}[]`);
  const order = keys.map((_, index) => (keyTypes[index] === 'text' ? `u.c${index} COLLATE "C"` : `u.c${index}`)).join(', ');
  const match = keys.map((key, index) => `x.${key} = u.c${index}`).join(' AND ');
  return `INSERT INTO ${table} AS t (${columns.join(', ')})
    SELECT u.* FROM unnest(${arrays.join(', ')}) AS u(${alias.join(', ')})
    WHERE u.c${keys.length} > 0 OR EXISTS (SELECT 1 FROM ${table} x WHERE ${match})
    ORDER BY ${order}
    ON CONFLICT (${keys.join(', ')}) DO UPDATE SET ${measures.map((measure) => `${measure} = t.${measure} + EXCLUDED.${measure}`).join(', ')}`;
}
