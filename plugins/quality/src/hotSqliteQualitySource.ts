import Database from 'better-sqlite3';
import { describeError, type StorageTier } from '@strata/core';
import { interactionField, type FieldValues } from './interactionFields.js';
import { QualitySetupError, QualityStoreError } from './qualityErrors.js';
import type {
  BucketMeasures,
  DuplicateCount,
  FieldPage,
  MissingValues,
  QualitySource,
  RawExtent,
  SchemaSnapshot,
  SessionComparison,
  SessionTotals,
} from './qualitySource.js';
import { expectedHotSqliteSchema, readSqliteSchema } from './sqliteSchema.js';
import type { ClosedRange } from './timeSlices.js';

/** SQL for each field of `user_interactions`, by its API name. */
const COLUMN_SQL: Readonly<Record<string, string>> = {
  eventId: 'event_id',
  sessionId: 'session_id',
  timestamp: 'timestamp',
  userRole: 'user_role',
  query: 'query',
  queryHash: 'query_hash',
  queryType: 'query_type',
  responseTime: 'response_time',
  responseLength: 'response_length',
  codeSnippetsShown: 'code_snippets_shown',
  citationsProvided: 'citations_provided',
  success: 'success',
  userRating: 'user_rating',
  followUpQuery: 'follow_up_query',
  conversationTurn: 'conversation_turn',
  ipHash: 'ip_hash',
  userAgentHash: 'user_agent_hash',
  // A malformed content array counts as unknown rather than failing the whole page.
  contentCount: 'CASE WHEN json_valid(content) THEN json_array_length(content) END',
};

const EXAMPLES = 5;
const WHITESPACE = `' ' || char(9) || char(10) || char(13)`;
const IN_RANGE = 'timestamp >= ? AND timestamp < ?';

const RAW_MEASURES = `user_role, query_type, COUNT(*) AS interactions, SUM(success) AS successes,
  SUM(COALESCE(user_rating, 0)) AS rating_sum, COUNT(user_rating) AS rating_count,
  SUM(code_snippets_shown) AS code_snippets, SUM(citations_provided) AS citations, SUM(follow_up_query) AS follow_ups`;
const ROLLUP_MEASURES = 'user_role, query_type, interactions, successes, rating_sum, rating_count, code_snippets, citations, follow_ups';

interface MeasureRow {
  user_role: string;
  query_type: string;
  interactions: number;
  successes: number;
  rating_sum: number;
  rating_count: number;
  code_snippets: number;
  citations: number;
  follow_ups: number;
  sessions_started?: number;
  sessions_converted?: number;
}

export interface HotSqliteQualitySourceOptions {
  /** The hot tier's database file. */
  file: string;
  /** How long a read waits on a lock (only a checkpoint truncating the WAL takes one). */
  busyTimeoutMs?: number;
  /** Receives every statement run, with its values (diagnostics: see which queries a run makes). */
  verbose?: (sql: string) => void;
}

/**
 * The quality checks' reads on the hot SQLite tier, through a read-only connection of its own:
 * SQLite refuses any write through it, and in WAL mode its reads never block the tier's writer nor
 * wait for it. Each call is one short statement (or one short read snapshot) over a bounded range,
 * served by the tier's indexes: the timestamp index for raw rows, the rollups' clustered keys, the
 * event-id and session indexes for duplicate lookups.
 */
export class HotSqliteQualitySource implements QualitySource {
  readonly name = 'hot-sqlite';
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();
  private indexedColumns: Set<string> | undefined;
  private closed = false;

  constructor(options: HotSqliteQualitySourceOptions) {
    const { verbose } = options;
    try {
      this.db = new Database(options.file, { readonly: true, fileMustExist: true, timeout: options.busyTimeoutMs ?? 5_000, ...(verbose ? { verbose: (message: unknown) => verbose(String(message)) } : {}) });
    } catch (error) {
      throw new QualityStoreError(`cannot open the hot tier ${options.file} for reading (${describeError(error)}); check the hot-sqlite file option and that the file is readable`, { cause: error });
    }
  }

  async rawExtent(): Promise<RawExtent> {
    // Two subqueries: SQLite answers a lone MIN or MAX from the index, but scans the table for both in one SELECT.
    const row = this.statement(
      'extent',
      'SELECT (SELECT MIN(timestamp) FROM user_interactions) AS oldest, (SELECT MAX(timestamp) FROM user_interactions) AS newest',
    ).get() as RawExtent;
    return { oldest: row.oldest ?? null, newest: row.newest ?? null };
  }

  /** True while the hot tier holds the question (`query_performance`): erasure deletes one only its subject asked. */
  questionHeld(queryHash: string): boolean {
    return this.statement('question', 'SELECT 1 FROM query_performance WHERE query_hash = ?').get(queryHash) !== undefined;
  }

  async countRows(range: ClosedRange): Promise<number> {
    return (this.statement('count', `SELECT COUNT(*) AS n FROM user_interactions WHERE ${IN_RANGE}`).get(range.from, range.to) as { n: number }).n;
  }

  async missingValues(range: ClosedRange, fields: readonly string[]): Promise<MissingValues> {
    const parts = fields.map((field, index) => `SUM(CASE WHEN ${missingSql(field)} THEN 1 ELSE 0 END) AS m${index}`);
    const sql = `SELECT COUNT(*) AS n${parts.map((part) => `, ${part}`).join('')} FROM user_interactions WHERE ${IN_RANGE}`;
    const row = this.statement(`missing:${fields.join(',')}`, sql).get(range.from, range.to) as Record<string, number | null>;
    const missing: Record<string, number> = {};
    fields.forEach((field, index) => (missing[field] = row[`m${index}`] ?? 0));
    return { rows: row.n ?? 0, missing };
  }

  async duplicateEventIds(range: ClosedRange): Promise<DuplicateCount> {
    if (this.hasIndexOn('event_id')) {
      const copies = `FROM user_interactions a WHERE a.timestamp >= ? AND a.timestamp < ?
        AND EXISTS (SELECT 1 FROM user_interactions b WHERE b.event_id = a.event_id AND b.id < a.id)`;
      return this.countWithExamples('dup-event', copies, 'a.event_id', range, true);
    }
    const groups = `FROM (SELECT event_id, COUNT(*) - 1 AS extra FROM user_interactions WHERE ${IN_RANGE} GROUP BY event_id HAVING COUNT(*) > 1)`;
    return this.groupedWithExamples('dup-event-grouped', groups, 'event_id', range);
  }

  async duplicateQueriesInTurn(range: ClosedRange): Promise<DuplicateCount> {
    // Since the hot tier's schema 4 the time index carries session_id (and nothing indexes session_id alone).
    if (this.hasIndexOn('timestamp', 'session_id')) return this.duplicateQueriesInSessionSpan(range);
    const groups = `FROM (SELECT MAX(event_id) AS event_id, COUNT(*) - 1 AS extra FROM user_interactions WHERE ${IN_RANGE}
      GROUP BY session_id, conversation_turn, query_hash HAVING COUNT(*) > 1)`;
    return this.groupedWithExamples('dup-query-grouped', groups, 'event_id', range);
  }

  async hourAgainstRollup(hour: ClosedRange): Promise<{ raw: BucketMeasures[]; rollup: BucketMeasures[] }> {
    const raw = this.statement('hour-raw', `SELECT ${RAW_MEASURES} FROM user_interactions WHERE ${IN_RANGE} GROUP BY user_role, query_type`);
    const rollup = this.statement('hour-rollup', `SELECT ${ROLLUP_MEASURES} FROM rollup_hour WHERE bucket_start = ?`);
    // One read snapshot: a batch committed between the two reads would otherwise look like a mismatch.
    return this.db.transaction(() => ({
      raw: (raw.all(hour.from, hour.to) as MeasureRow[]).map(toMeasures),
      rollup: (rollup.all(hour.from) as MeasureRow[]).map(toMeasures),
    }))();
  }

  async dayAgainstHours(day: ClosedRange): Promise<{ day: BucketMeasures[]; hours: BucketMeasures[] }> {
    const daily = this.statement('day-rollup', `SELECT ${ROLLUP_MEASURES}, sessions_started, sessions_converted FROM rollup_day WHERE bucket_start = ?`);
    const hourly = this.statement(
      'day-hours',
      `SELECT user_role, query_type, SUM(interactions) AS interactions, SUM(successes) AS successes, SUM(rating_sum) AS rating_sum,
         SUM(rating_count) AS rating_count, SUM(code_snippets) AS code_snippets, SUM(citations) AS citations, SUM(follow_ups) AS follow_ups,
         SUM(sessions_started) AS sessions_started, SUM(sessions_converted) AS sessions_converted
       FROM rollup_hour WHERE bucket_start >= ? AND bucket_start < ? GROUP BY user_role, query_type`,
    );
    return this.db.transaction(() => ({
      day: (daily.all(day.from) as MeasureRow[]).map(toMeasures),
      hours: (hourly.all(day.from, day.to) as MeasureRow[]).map(toMeasures),
    }))();
  }

  async sessionsIn(range: ClosedRange): Promise<string[]> {
    const rows = this.statement('sessions-in', `SELECT DISTINCT session_id FROM user_interactions WHERE ${IN_RANGE}`).all(range.from, range.to) as Array<{ session_id: string }>;
    return rows.map((row) => row.session_id);
  }

  async compareSessions(sessionIds: readonly string[]): Promise<SessionComparison[]> {
    if (sessionIds.length === 0) return [];
    // The raw side of the sessions is read inside the span of their session_analytics windows,
    // through the (timestamp, session_id) index (the hot tier keeps no index on session_id alone:
    // see its migration 4). Rows outside a wrong window go uncounted, so the counts still disagree
    // and the mismatch is still found. Sessions without a stored row are counted in one scan of that index.
    const rawAggregates = `COUNT(*) AS raw_queries, SUM(u.success) AS raw_successes, SUM(COALESCE(u.user_rating, 0)) AS raw_rating_sum,
         COUNT(u.user_rating) AS raw_rating_count, SUM(u.code_snippets_shown) AS raw_snippets, SUM(u.citations_provided) AS raw_citations,
         MAX(u.conversation_turn) AS raw_max_turn, MIN(u.timestamp) AS raw_start, MAX(u.timestamp) AS raw_last, MIN(u.event_id) AS example_event_id`;
    const storedRows = this.statement(
      'sessions-stored',
      `SELECT session_id, total_queries, successful_queries, rating_sum, rating_count, total_code_snippets, total_citations, max_turn,
         start_time, last_activity
       FROM session_analytics WHERE session_id IN (SELECT value FROM json_each(?))`,
    );
    const rawInSpan = this.statement(
      'sessions-raw-in-span',
      `SELECT u.session_id, ${rawAggregates}
       FROM user_interactions u WHERE u.timestamp >= ? AND u.timestamp <= ? AND u.session_id IN (SELECT value FROM json_each(?))
       GROUP BY u.session_id`,
    );
    const rawAllTime = this.statement(
      'sessions-raw-all-time',
      `SELECT u.session_id, ${rawAggregates}
       FROM user_interactions u WHERE u.timestamp >= ${Number.MIN_SAFE_INTEGER} AND u.session_id IN (SELECT value FROM json_each(?))
       GROUP BY u.session_id`,
    );
    // One read snapshot: a batch committed between the reads would otherwise look like a mismatch.
    const rows = this.db.transaction((): SessionRow[] => {
      const stored = new Map((storedRows.all(JSON.stringify(sessionIds)) as SessionRow[]).map((row) => [row.session_id, row]));
      const unstored = sessionIds.filter((id) => !stored.has(id));
      const raw = new Map<string, SessionRow>();
      if (stored.size > 0) {
        // One scan of the span the chunk's windows cover, not one per session: the chunk's sessions
        // come from neighbouring hours, while each session's own window, scanned alone, holds every
        // other session's rows of those minutes too (19.5 s against 0.6 s for 170k sessions in 24 h).
        let from = Number.MAX_SAFE_INTEGER;
        let to = Number.MIN_SAFE_INTEGER;
        for (const row of stored.values()) {
          from = Math.min(from, row.start_time!);
          to = Math.max(to, row.last_activity!);
        }
        for (const row of rawInSpan.all(from, to, JSON.stringify([...stored.keys()])) as SessionRow[]) raw.set(row.session_id, row);
      }
      if (unstored.length > 0) for (const row of rawAllTime.all(JSON.stringify(unstored)) as SessionRow[]) raw.set(row.session_id, row);
      return sessionIds.map((sessionId) => ({ ...NO_SESSION_ROW, ...raw.get(sessionId), ...stored.get(sessionId), session_id: sessionId }));
    })();
    return rows.map((row) => ({
      sessionId: row.session_id,
      exampleEventId: row.example_event_id ?? undefined,
      raw:
        row.raw_queries === null
          ? null
          : {
              queries: row.raw_queries,
              successes: row.raw_successes!,
              ratingSum: row.raw_rating_sum!,
              ratingCount: row.raw_rating_count!,
              codeSnippets: row.raw_snippets!,
              citations: row.raw_citations!,
              maxTurn: row.raw_max_turn!,
              startTime: row.raw_start!,
              lastActivity: row.raw_last!,
            },
      stored: storedTotals(row),
    }));
  }

  async firstRollupHour(): Promise<number | null> {
    const row = this.statement('first-hour', 'SELECT MIN(bucket_start) AS first FROM rollup_hour').get() as { first: number | null };
    return row.first ?? null;
  }

  async hourlyVolume(range: ClosedRange): Promise<Map<number, number>> {
    const rows = this.statement(
      'hourly-volume',
      'SELECT bucket_start, SUM(interactions) AS n FROM rollup_hour WHERE bucket_start >= ? AND bucket_start < ? GROUP BY bucket_start',
    ).all(range.from, range.to) as Array<{ bucket_start: number; n: number }>;
    return new Map(rows.map((row) => [row.bucket_start, row.n]));
  }

  async readFields(range: ClosedRange, fields: readonly string[], page: { cursor: string | null; limit: number }): Promise<FieldPage> {
    const wanted = [...new Set(['eventId', ...fields])];
    const select = wanted.map((field, index) => `${columnSql(field)} AS f${index}`).join(', ');
    const sql = `SELECT id, timestamp AS cursor_ts, ${select} FROM user_interactions
      WHERE ${IN_RANGE} AND (timestamp > ? OR (timestamp = ? AND id > ?)) ORDER BY timestamp, id LIMIT ?`;
    const after = page.cursor ? decodeCursor(page.cursor) : { timestamp: range.from, id: -1 };
    const rows = this.statement(`fields:${wanted.join(',')}`, sql).all(range.from, range.to, after.timestamp, after.timestamp, after.id, page.limit) as Array<
      Record<string, number | string | null>
    >;
    const booleans = wanted.map((field) => interactionField(field)?.type === 'boolean');
    const values = rows.map((row) => {
      const record: Record<string, number | string | boolean | null> = {};
      wanted.forEach((field, index) => {
        const value = row[`f${index}`] ?? null;
        record[field] = booleans[index] && value !== null ? value !== 0 : value;
      });
      return record as FieldValues;
    });
    const last = rows[rows.length - 1];
    return { rows: values, cursor: rows.length === page.limit && last ? `${last.cursor_ts}:${last.id}` : null };
  }

  async schema(): Promise<SchemaSnapshot> {
    return readSqliteSchema(this.db);
  }

  async expectedSchema(): Promise<SchemaSnapshot> {
    return expectedHotSqliteSchema();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }

  private statement(key: string, sql: string): Database.Statement {
    let statement = this.statements.get(key);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(key, statement);
    }
    return statement;
  }

  /** Whether some index of `user_interactions` starts with `column` (so a lookup by it is a seek, not a scan). */
  /** True when an index on user_interactions starts with these columns, in this order. */
  private hasIndexOn(...columns: string[]): boolean {
    if (!this.indexedColumns) {
      this.indexedColumns = new Set();
      for (const index of this.db.pragma('index_list(user_interactions)') as Array<{ name: string }>) {
        const entries = (this.db.pragma(`index_info("${index.name.replace(/"/g, '""')}")`) as Array<{ seqno: number; name: string | null }>).sort((a, b) => a.seqno - b.seqno);
        // Every leading run of the index's columns, so a lookup by a prefix finds it.
        for (let length = 1; length <= entries.length && entries[length - 1]!.name; length += 1) {
          this.indexedColumns.add(entries.slice(0, length).map((entry) => entry.name).join(','));
        }
      }
    }
    return this.indexedColumns.has(columns.join(','));
  }


  /**
   * Copies of a question in the same turn, for the hot tier's layout since its migration 4 (no index
   * on session_id alone): the rows of the range's sessions are read in one scan of the time index
   * over the span their session_analytics windows cover (the range itself for sessions without one),
   * and grouped here. A copy counts when an earlier row (smaller id) of its session, turn and
   * question exists anywhere in that span. A per-row lookup in each session's window, or the
   * automatic index SQLite builds over the whole table for it, cost 0.85 s per hour at 1M rows.
   */
  private duplicateQueriesInSessionSpan(range: ClosedRange): DuplicateCount {
    const span = this.statement(
      'dup-query-span',
      `SELECT MIN(start_time) AS lo, MAX(last_activity) AS hi FROM session_analytics
       WHERE session_id IN (SELECT session_id FROM user_interactions WHERE ${IN_RANGE})`,
    ).get(range.from, range.to) as { lo: number | null; hi: number | null };
    const from = Math.min(span.lo ?? range.from, range.from);
    const to = Math.max(span.hi ?? range.to - 1, range.to - 1);
    const rows = this.statement(
      'dup-query-rows',
      `SELECT id, timestamp, session_id, conversation_turn, query_hash, event_id FROM user_interactions
       WHERE timestamp >= ? AND timestamp <= ? AND session_id IN (SELECT session_id FROM user_interactions WHERE ${IN_RANGE})`,
    ).all(from, to, range.from, range.to) as Array<{ id: number; timestamp: number; session_id: string; conversation_turn: number; query_hash: string; event_id: string }>;
    const firstId = new Map<string, number>();
    const keyOf = (row: (typeof rows)[number]) => `${row.session_id}\u0000${row.conversation_turn}\u0000${row.query_hash}`;
    for (const row of rows) {
      const key = keyOf(row);
      const first = firstId.get(key);
      if (first === undefined || row.id < first) firstId.set(key, row.id);
    }
    let duplicates = 0;
    const examples: string[] = [];
    for (const row of rows) {
      if (row.timestamp < range.from || row.timestamp >= range.to || firstId.get(keyOf(row)) === row.id) continue;
      duplicates += 1;
      if (examples.length < EXAMPLES) examples.push(row.event_id);
    }
    return { duplicates, examples, anywhere: true };
  }

  private countWithExamples(key: string, from: string, example: string, range: ClosedRange, anywhere: boolean): DuplicateCount {
    const count = this.statement(`${key}:count`, `SELECT COUNT(*) AS n ${from}`).get(range.from, range.to) as { n: number };
    if (count.n === 0) return { duplicates: 0, examples: [], anywhere };
    const examples = this.statement(`${key}:examples`, `SELECT ${example} AS example ${from} LIMIT ${EXAMPLES}`).all(range.from, range.to) as Array<{ example: string }>;
    return { duplicates: count.n, examples: examples.map((row) => row.example), anywhere };
  }

  private groupedWithExamples(key: string, from: string, example: string, range: ClosedRange): DuplicateCount {
    const count = this.statement(`${key}:count`, `SELECT COALESCE(SUM(extra), 0) AS n ${from}`).get(range.from, range.to) as { n: number };
    if (count.n === 0) return { duplicates: 0, examples: [], anywhere: false };
    const examples = this.statement(`${key}:examples`, `SELECT ${example} AS example ${from} LIMIT ${EXAMPLES}`).all(range.from, range.to) as Array<{ example: string }>;
    return { duplicates: count.n, examples: examples.map((row) => row.example), anywhere: false };
  }
}

/**
 * The database file of the hot tier when it is hot-sqlite. Other tiers (hot-postgres) need a source
 * of their own; until one exists the plugin says so when Strata starts rather than failing every run.
 */
export function hotSqliteFileOf(tier: StorageTier | undefined): string {
  if (!tier) throw new QualitySetupError('no hot storage tier is configured; add hot-sqlite to plugins');
  const file = (tier as { file?: unknown }).file;
  if (tier.name !== 'hot-sqlite' || typeof file !== 'string') {
    throw new QualitySetupError(`the hot tier is "${tier.name}", which this version cannot read (it reads hot-sqlite); remove quality from plugins or use hot-sqlite`);
  }
  return file;
}

/** Opens a read-only source on the hot tier (see hotSqliteFileOf for the tiers it accepts). */
export function hotSqliteQualitySource(tier: StorageTier | undefined, options: { busyTimeoutMs?: number } = {}): HotSqliteQualitySource {
  return new HotSqliteQualitySource({ file: hotSqliteFileOf(tier), busyTimeoutMs: options.busyTimeoutMs });
}

function columnSql(field: string): string {
  const sql = COLUMN_SQL[field];
  if (sql === undefined) throw new QualitySetupError(`no column is known for the field "${field}"`);
  return sql;
}

function missingSql(field: string): string {
  const column = columnSql(field);
  return interactionField(field)?.type === 'string' ? `(${column} IS NULL OR trim(${column}, ${WHITESPACE}) = '')` : `${column} IS NULL`;
}

function toMeasures(row: MeasureRow): BucketMeasures {
  const measures: BucketMeasures = {
    userRole: row.user_role,
    queryType: row.query_type,
    interactions: row.interactions,
    successes: row.successes ?? 0,
    ratingSum: row.rating_sum ?? 0,
    ratingCount: row.rating_count ?? 0,
    codeSnippets: row.code_snippets ?? 0,
    citations: row.citations ?? 0,
    followUps: row.follow_ups ?? 0,
  };
  if (row.sessions_started !== undefined) measures.sessionsStarted = row.sessions_started ?? 0;
  if (row.sessions_converted !== undefined) measures.sessionsConverted = row.sessions_converted ?? 0;
  return measures;
}

interface SessionRow {
  session_id: string;
  example_event_id: string | null;
  raw_queries: number | null;
  raw_successes: number | null;
  raw_rating_sum: number | null;
  raw_rating_count: number | null;
  raw_snippets: number | null;
  raw_citations: number | null;
  raw_max_turn: number | null;
  raw_start: number | null;
  raw_last: number | null;
  total_queries: number | null;
  successful_queries: number | null;
  rating_sum: number | null;
  rating_count: number | null;
  total_code_snippets: number | null;
  total_citations: number | null;
  max_turn: number | null;
  start_time: number | null;
  last_activity: number | null;
}

/** A session neither side knows: every column null, so both totals read as absent. */
const NO_SESSION_ROW: Omit<SessionRow, 'session_id'> = {
  example_event_id: null,
  raw_queries: null,
  raw_successes: null,
  raw_rating_sum: null,
  raw_rating_count: null,
  raw_snippets: null,
  raw_citations: null,
  raw_max_turn: null,
  raw_start: null,
  raw_last: null,
  total_queries: null,
  successful_queries: null,
  rating_sum: null,
  rating_count: null,
  total_code_snippets: null,
  total_citations: null,
  max_turn: null,
  start_time: null,
  last_activity: null,
};

function storedTotals(row: SessionRow): SessionTotals | null {
  if (row.total_queries === null) return null;
  return {
    queries: row.total_queries,
    successes: row.successful_queries ?? 0,
    ratingSum: row.rating_sum ?? 0,
    ratingCount: row.rating_count ?? 0,
    codeSnippets: row.total_code_snippets ?? 0,
    citations: row.total_citations ?? 0,
    maxTurn: row.max_turn ?? 0,
    startTime: row.start_time ?? 0,
    lastActivity: row.last_activity ?? 0,
  };
}

function decodeCursor(cursor: string): { timestamp: number; id: number } {
  const [timestamp, id] = cursor.split(':').map(Number);
  return { timestamp: timestamp ?? 0, id: id ?? 0 };
}
