import type Database from 'better-sqlite3';
import { createQueryKeyer, normalizeQuery, type Interaction, type Metric } from '@strata/core';
import {
  MINUTE_GRANULARITY,
  ROLLUP_GRANULARITIES,
  aggregateBatch,
  emptyDeltas,
  mergeSessions,
  type BatchDeltas,
  type FreshEvent,
  type PreparedInteraction,
  type StoredSession,
} from './batchAggregation.js';
import { mergeRankedCounts, rankCounts } from './compareText.js';
import { encodeHistogram, mergeHistograms } from './histogram.js';
import { INSERT_COLUMNS, contentColumn, fromRow, toInsertParams, type InteractionRow } from './interactionRows.js';
import { aggregateMetrics } from './metricAggregation.js';

/**
 * The hot tier's write path, as functions of a connection and their arguments only (no hidden
 * state), so the same code runs on the tier's connection or in a worker thread that owns its own.
 *
 * One batch is one transaction: the raw rows (`ON CONFLICT (event_id) DO NOTHING`), then every
 * rollup, from the events that were actually new. The batch is first aggregated in memory
 * (batchAggregation.ts), so each rollup row is written once per batch with one prepared UPSERT
 * adding the deltas, however many events it covers. Re-sent events insert nothing and so change nothing.
 */

export const DEFAULT_CONVERSION_DEPTH = 3;

export interface BatchWriterOptions {
  /**
   * A session counts as converted (the plan's `conversion_achieved`: the user engaged deeply) once it
   * has this many queries or reaches this conversation turn. Default 3. A change applies to
   * sessions as they next receive events; history is not rewritten.
   */
  conversionDepth?: number;
}

export interface BatchWriteResult {
  /** Events whose eventId was already stored, or repeated earlier in the batch; they changed nothing. */
  duplicateIds: string[];
}

/** Writes one batch of validated interactions in one transaction. */
export type BatchWriter = (events: readonly Interaction[], createdAt: number) => BatchWriteResult;

/** Writes system-performance samples and their rollups in one transaction; returns rows stored. */
export type MetricWriter = (metrics: readonly Metric[], createdAt: number) => number;

/** Registers the SQL functions the rollup UPSERTs use. Safe to call more than once. */
export function registerRollupFunctions(db: Database.Database): void {
  db.function('strata_histogram_merge', { deterministic: true }, (a: unknown, b: unknown) => mergeHistograms(a as Uint8Array | null, b as Uint8Array | null));
  db.function('strata_ranked_merge', { deterministic: true }, (a: unknown, b: unknown) => mergeRankedCounts(a as string | null, b as string | null));
}

/** Inserts a batch's raw rows; returns the ids already stored and the events that were new. */
type RowInserter = (items: readonly PreparedInteraction[], createdAt: number) => { duplicateIds: string[]; fresh: FreshEvent[] };

function prepareRowInserter(db: Database.Database): RowInserter {
  const insert = db.prepare(
    `INSERT INTO user_interactions (${INSERT_COLUMNS.join(', ')}) VALUES (${INSERT_COLUMNS.map(() => '?').join(', ')})
     ON CONFLICT (event_id) DO NOTHING`,
  );
  return (items, createdAt) => {
    const duplicateIds: string[] = [];
    const fresh: FreshEvent[] = [];
    for (const item of items) {
      if (insert.run(toInsertParams(item.event, createdAt, item.queryHash, item.contentJson)).changes === 0) duplicateIds.push(item.event.eventId);
      else fresh.push(item);
    }
    return { duplicateIds, fresh };
  };
}

/**
 * Works out each event's query key and `content` column text. Popular questions repeat: each
 * distinct text is normalised and hashed once, across batches.
 */
export function createInteractionPreparer(): (event: Interaction) => PreparedInteraction {
  const queryKey = createQueryKeyer();
  return (event) => {
    const query = queryKey(event.query);
    return { event, queryHash: query.hash, normalizedQuery: query.normalized, contentJson: contentColumn(event.content) };
  };
}

/** The interaction write path: raw rows plus rollups, in one IMMEDIATE transaction per batch. */
export function prepareBatchWriter(db: Database.Database, options: BatchWriterOptions = {}): BatchWriter {
  const applyRollups = prepareRollupWriter(db, options);
  const insertRows = prepareRowInserter(db);
  const prepare = createInteractionPreparer();
  const write = db.transaction((events: readonly Interaction[], createdAt: number): BatchWriteResult => {
    const { duplicateIds, fresh } = insertRows(events.map(prepare), createdAt);
    if (fresh.length > 0) applyRollups(fresh, createdAt);
    return { duplicateIds };
  });
  return (events, createdAt) => write.immediate(events, createdAt);
}

/**
 * Several batches in one transaction (group commit), for the writer thread: each batch's raw rows
 * are inserted as it arrives and its rollup deltas are added to the group's; `commit` writes every
 * rollup row the group touched once, then commits raw rows and rollups together. Rollup rows cost
 * per distinct row, not per event, so a group of 10,000 events costs the writer 12 µs per event
 * against 18 µs for batches of 1,500 committed one by one.
 */
export interface GroupWriter {
  /**
   * Stores a batch's raw rows in the group's transaction, opening one if none is open. A batch that
   * fails is rolled back alone and the group goes on, unless SQLite ended the whole transaction
   * (disk full, I/O error): then `open` is false and the group's earlier batches are gone too.
   */
  add(items: readonly PreparedInteraction[], createdAt: number): BatchWriteResult;
  /** Writes the group's rollups and commits; on failure the whole group is rolled back. */
  commit(): void;
  /** Whether a group transaction is open. */
  readonly open: boolean;
  /** Events added to the open group. */
  readonly events: number;
}

export function prepareGroupWriter(db: Database.Database, options: BatchWriterOptions = {}): GroupWriter {
  const applyDeltas = prepareDeltaWriter(db, options);
  const insertRows = prepareRowInserter(db);
  const begin = db.prepare('BEGIN IMMEDIATE');
  const commit = db.prepare('COMMIT');
  const rollback = db.prepare('ROLLBACK');
  const savepoint = db.prepare('SAVEPOINT strata_batch');
  const release = db.prepare('RELEASE strata_batch');
  const rollbackTo = db.prepare('ROLLBACK TO strata_batch');
  let deltas: BatchDeltas | undefined;
  let events = 0;
  let fresh = 0;
  let lastCreatedAt = 0;
  return {
    get open() {
      return db.inTransaction && deltas !== undefined;
    },
    get events() {
      return events;
    },
    add(items, createdAt) {
      if (!db.inTransaction || !deltas) {
        // A transaction with no group is what a failed rollback leaves: end it, or no batch could ever begin again.
        if (db.inTransaction) rollback.run();
        begin.run();
        deltas = emptyDeltas();
        events = 0;
        fresh = 0;
      }
      savepoint.run();
      let inserted: ReturnType<RowInserter>;
      try {
        inserted = insertRows(items, createdAt);
        release.run();
      } catch (error) {
        if (db.inTransaction) {
          rollbackTo.run();
          release.run();
        } else {
          deltas = undefined;
        }
        throw error;
      }
      aggregateBatch(inserted.fresh, createdAt, deltas);
      events += items.length;
      fresh += inserted.fresh.length;
      lastCreatedAt = createdAt;
      return { duplicateIds: inserted.duplicateIds };
    },
    commit() {
      const group = deltas;
      deltas = undefined;
      if (!group || !db.inTransaction) return;
      try {
        if (fresh > 0) applyDeltas(group, lastCreatedAt);
        commit.run();
      } catch (error) {
        if (db.inTransaction) rollback.run();
        throw error;
      }
    },
  };
}

/**
 * Computes every rollup from the raw rows already stored (databases written by schema 1). Runs
 * inside the caller's transaction, in chunks of rows; each run of rows stored together (same
 * `created_at`) is applied as the batch it was, so minute rollups take the same events they would have.
 */
export function backfillRollups(db: Database.Database, options: BatchWriterOptions & { chunkSize?: number } = {}): number {
  const applyRollups = prepareRollupWriter(db, options);
  const page = db.prepare('SELECT * FROM user_interactions WHERE id > ? ORDER BY id LIMIT ?');
  const chunkSize = options.chunkSize ?? 10_000;
  let after = 0;
  let total = 0;
  for (;;) {
    const rows = page.all(after, chunkSize) as InteractionRow[];
    if (rows.length === 0) return total;
    let run: FreshEvent[] = [];
    let runCreatedAt = rows[0]!.created_at;
    for (const row of rows) {
      if (row.created_at !== runCreatedAt) {
        applyRollups(run, runCreatedAt);
        run = [];
        runCreatedAt = row.created_at;
      }
      run.push({ event: fromRow(row), queryHash: row.query_hash, normalizedQuery: normalizeQuery(row.query) });
    }
    applyRollups(run, runCreatedAt);
    total += rows.length;
    after = rows[rows.length - 1]!.id;
  }
}

const ROLLUP_TABLES = ROLLUP_GRANULARITIES.map((name) => `rollup_${name}`);
const LATENCY_TABLES = ROLLUP_GRANULARITIES.map((name) => `latency_${name}`);

/** The minute table has no session columns: sessions are counted per hour and per day. */
function rollupUpsertSql(table: string, withSessions: boolean): string {
  return `INSERT INTO ${table} (bucket_start, user_role, query_type, interactions, successes, response_us_sum, rating_sum, rating_count,
      code_snippets, citations, follow_ups${withSessions ? ', sessions_started, sessions_converted' : ''})
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?${withSessions ? ', ?, ?' : ''})
    ON CONFLICT (bucket_start, user_role, query_type) DO UPDATE SET
      interactions = interactions + excluded.interactions,
      successes = successes + excluded.successes,
      response_us_sum = response_us_sum + excluded.response_us_sum,
      rating_sum = rating_sum + excluded.rating_sum,
      rating_count = rating_count + excluded.rating_count,
      code_snippets = code_snippets + excluded.code_snippets,
      citations = citations + excluded.citations,
      follow_ups = follow_ups + excluded.follow_ups${
        withSessions
          ? `,
      sessions_started = sessions_started + excluded.sessions_started,
      sessions_converted = sessions_converted + excluded.sessions_converted`
          : ''
      }`;
}

function latencyUpsertSql(table: string): string {
  return `INSERT INTO ${table} (bucket_start, user_role, response_us_max, response_histogram) VALUES (?, ?, ?, ?)
    ON CONFLICT (bucket_start, user_role) DO UPDATE SET
      response_us_max = MAX(response_us_max, excluded.response_us_max),
      response_histogram = strata_histogram_merge(response_histogram, excluded.response_histogram)`;
}

/** Session starts moving between buckets touch rows that already exist; never create a row for them. */
function rollupSessionsSql(table: string): string {
  return `UPDATE ${table} SET sessions_started = sessions_started + ?, sessions_converted = sessions_converted + ?
    WHERE bucket_start = ? AND user_role = ? AND query_type = ?`;
}

/**
 * Applies the rollup deltas of events known to be newly stored. Exported for the worker and the
 * schema-2 backfill; call it only inside a transaction that also stored those events.
 */
export function prepareRollupWriter(db: Database.Database, options: BatchWriterOptions = {}): (fresh: readonly FreshEvent[], createdAt: number) => void {
  const applyDeltas = prepareDeltaWriter(db, options);
  return (fresh, createdAt) => applyDeltas(aggregateBatch(fresh, createdAt), createdAt);
}

/** Writes aggregated deltas into every rollup table; call it only inside the transaction that stored their events. */
function prepareDeltaWriter(db: Database.Database, options: BatchWriterOptions): (deltas: BatchDeltas, createdAt: number) => void {
  const depth = options.conversionDepth ?? DEFAULT_CONVERSION_DEPTH;
  registerRollupFunctions(db);
  const upsertRollup = ROLLUP_TABLES.map((table, granularity) => db.prepare(rollupUpsertSql(table, granularity !== MINUTE_GRANULARITY)));
  const upsertLatency = LATENCY_TABLES.map((table) => db.prepare(latencyUpsertSql(table)));
  const shiftSessions = ROLLUP_TABLES.map((table, granularity) => (granularity === MINUTE_GRANULARITY ? undefined : db.prepare(rollupSessionsSql(table))));
  const readSessions = db.prepare(
    `SELECT session_id, user_role, start_time, start_query_type, last_activity, total_queries, successful_queries, response_us_sum,
            total_code_snippets, total_citations, rating_sum, rating_count, max_turn, conversion_achieved, created_at
     FROM session_analytics WHERE session_id IN (SELECT value FROM json_each(?))`,
  );
  const writeSession = db.prepare(
    `INSERT INTO session_analytics (session_id, user_role, start_time, start_query_type, last_activity, total_queries, successful_queries,
       response_us_sum, total_code_snippets, total_citations, rating_sum, rating_count, max_turn, conversion_achieved, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (session_id) DO UPDATE SET
       user_role = excluded.user_role, start_time = excluded.start_time, start_query_type = excluded.start_query_type,
       last_activity = excluded.last_activity, total_queries = excluded.total_queries, successful_queries = excluded.successful_queries,
       response_us_sum = excluded.response_us_sum, total_code_snippets = excluded.total_code_snippets, total_citations = excluded.total_citations,
       rating_sum = excluded.rating_sum, rating_count = excluded.rating_count, max_turn = excluded.max_turn,
       conversion_achieved = excluded.conversion_achieved, updated_at = excluded.updated_at`,
  );
  const upsertQuery = db.prepare(
    `INSERT INTO query_performance (query_hash, query_normalized, query_category, total_asks, successes, response_us_sum, rating_sum, rating_count,
       popular_roles, first_asked, last_asked, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (query_hash) DO UPDATE SET
       query_category = CASE WHEN excluded.first_asked < first_asked OR (excluded.first_asked = first_asked AND excluded.query_category < query_category)
                             THEN excluded.query_category ELSE query_category END,
       total_asks = total_asks + excluded.total_asks,
       successes = successes + excluded.successes,
       response_us_sum = response_us_sum + excluded.response_us_sum,
       rating_sum = rating_sum + excluded.rating_sum,
       rating_count = rating_count + excluded.rating_count,
       popular_roles = strata_ranked_merge(popular_roles, excluded.popular_roles),
       first_asked = MIN(first_asked, excluded.first_asked),
       last_asked = MAX(last_asked, excluded.last_asked),
       updated_at = excluded.updated_at
     RETURNING id`,
  );
  // The daily tables name a question or item by its id in the all-time table, which the UPSERT returns.
  const queryDaySql = (table: string, key: string) =>
    `INSERT INTO ${table} (${key}, asks, successes, response_us_sum, rating_sum, rating_count)
     VALUES (${key.split(',').map(() => '?').join(', ')}, ?, ?, ?, ?, ?)
     ON CONFLICT (${key}) DO UPDATE SET
       asks = asks + excluded.asks, successes = successes + excluded.successes, response_us_sum = response_us_sum + excluded.response_us_sum,
       rating_sum = rating_sum + excluded.rating_sum, rating_count = rating_count + excluded.rating_count`;
  const upsertQueryDay = db.prepare(queryDaySql('query_daily', 'day, query_ref'));
  const upsertQueryDayRole = db.prepare(queryDaySql('query_daily_by_role', 'user_role, day, query_ref'));
  const upsertContent = db.prepare(
    `INSERT INTO content_performance (content_type, content_id, access_count, successes, relevance_micro_sum, relevance_count,
       user_roles_accessing, first_accessed, last_accessed, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (content_type, content_id) DO UPDATE SET
       access_count = access_count + excluded.access_count,
       successes = successes + excluded.successes,
       relevance_micro_sum = relevance_micro_sum + excluded.relevance_micro_sum,
       relevance_count = relevance_count + excluded.relevance_count,
       user_roles_accessing = strata_ranked_merge(user_roles_accessing, excluded.user_roles_accessing),
       first_accessed = MIN(first_accessed, excluded.first_accessed),
       last_accessed = MAX(last_accessed, excluded.last_accessed),
       updated_at = excluded.updated_at
     RETURNING id`,
  );
  const contentDaySql = (table: string, key: string) =>
    `INSERT INTO ${table} (${key}, accesses, successes, relevance_micro_sum, relevance_count)
     VALUES (${key.split(',').map(() => '?').join(', ')}, ?, ?, ?, ?)
     ON CONFLICT (${key}) DO UPDATE SET
       accesses = accesses + excluded.accesses, successes = successes + excluded.successes,
       relevance_micro_sum = relevance_micro_sum + excluded.relevance_micro_sum, relevance_count = relevance_count + excluded.relevance_count`;
  const upsertContentDay = db.prepare(contentDaySql('content_daily', 'day, content_ref'));
  const upsertContentDayRole = db.prepare(contentDaySql('content_daily_by_role', 'user_role, day, content_ref'));

  return (deltas, createdAt) => {
    const { rollups, latencies } = deltas;
    // Sessions: read the stored state of every session in the batch at once, merge, write back.
    // Merging moves late-arriving starts between buckets in `rollups` before they are written.
    const stored = new Map<string, StoredSession>();
    for (const row of readSessions.all(JSON.stringify([...deltas.sessions.keys()])) as StoredSession[]) stored.set(row.session_id, row);
    for (const session of mergeSessions(deltas, stored, depth, createdAt)) {
      writeSession.run(
        session.session_id,
        session.user_role,
        session.start_time,
        session.start_query_type,
        session.last_activity,
        session.total_queries,
        session.successful_queries,
        session.response_us_sum,
        session.total_code_snippets,
        session.total_citations,
        session.rating_sum,
        session.rating_count,
        session.max_turn,
        session.conversion_achieved,
        session.created_at,
        session.updated_at,
      );
    }

    for (let granularity = 0; granularity < ROLLUP_TABLES.length; granularity += 1) {
      const upsert = upsertRollup[granularity]!;
      const adjust = shiftSessions[granularity];
      for (const delta of rollups[granularity]!.values()) {
        if (delta.interactions > 0) {
          const measures = [
            delta.bucket, delta.role, delta.type, delta.interactions, delta.successes, delta.responseUs,
            delta.ratingSum, delta.ratingCount, delta.snippets, delta.citations, delta.followUps,
          ];
          if (adjust) measures.push(delta.sessionsStarted, delta.sessionsConverted);
          upsert.run(measures);
        } else if (adjust && (delta.sessionsStarted !== 0 || delta.sessionsConverted !== 0)) {
          adjust.run(delta.sessionsStarted, delta.sessionsConverted, delta.bucket, delta.role, delta.type);
        }
      }
      const upsertHistogram = upsertLatency[granularity]!;
      for (const latency of latencies[granularity]!.values()) {
        upsertHistogram.run(latency.bucket, latency.role, latency.responseUsMax, encodeHistogram(latency.bins));
      }
    }

    const queryIds = new Map<string, number>();
    for (const query of deltas.queries.values()) {
      const { id } = upsertQuery.get(
        query.hash, query.normalized, query.category, query.asks, query.successes, query.responseUs, query.ratingSum, query.ratingCount,
        JSON.stringify(rankCounts(query.roles)), query.firstAsked, query.lastAsked, createdAt, createdAt,
      ) as { id: number };
      queryIds.set(query.hash, id);
    }
    for (const day of deltas.queryDays.values()) {
      const ref = queryIds.get(day.hash)!;
      if (day.role === undefined) upsertQueryDay.run(day.day, ref, day.asks, day.successes, day.responseUs, day.ratingSum, day.ratingCount);
      else upsertQueryDayRole.run(day.role, day.day, ref, day.asks, day.successes, day.responseUs, day.ratingSum, day.ratingCount);
    }
    const contentIds = new Map<string, number>();
    for (const [itemKey, content] of deltas.contents) {
      const { id } = upsertContent.get(
        content.type, content.id, content.accesses, content.successes, content.relevanceMicros, content.relevanceCount,
        JSON.stringify(rankCounts(content.roles)), content.first, content.last, createdAt, createdAt,
      ) as { id: number };
      contentIds.set(itemKey, id);
    }
    for (const day of deltas.contentDays.values()) {
      const ref = contentIds.get(day.item)!;
      if (day.role === undefined) upsertContentDay.run(day.day, ref, day.accesses, day.successes, day.relevanceMicros, day.relevanceCount);
      else upsertContentDayRole.run(day.role, day.day, ref, day.accesses, day.successes, day.relevanceMicros, day.relevanceCount);
    }
  };
}

const METRIC_ROLLUP_TABLES = ROLLUP_GRANULARITIES.map((name) => `metric_rollup_${name}`);

/**
 * The metric write path: raw samples into `system_performance`, per-bucket count, sum, min and max
 * into the metric rollups, in one transaction. Samples carry no id, so sending one twice stores it twice.
 */
export function prepareMetricWriter(db: Database.Database): MetricWriter {
  const insert = db.prepare('INSERT INTO system_performance (timestamp, metric_name, metric_value, metric_unit, component, created_at) VALUES (?, ?, ?, ?, ?, ?)');
  const upserts = METRIC_ROLLUP_TABLES.map((table) =>
    db.prepare(
      `INSERT INTO ${table} (bucket_start, metric_name, component, metric_unit, samples, value_sum, value_min, value_max)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (bucket_start, metric_name, component, metric_unit) DO UPDATE SET
         samples = samples + excluded.samples, value_sum = value_sum + excluded.value_sum,
         value_min = MIN(value_min, excluded.value_min), value_max = MAX(value_max, excluded.value_max)`,
    ),
  );
  const write = db.transaction((metrics: readonly Metric[], createdAt: number): number => {
    for (const metric of metrics) insert.run(metric.timestamp, metric.name, metric.value, metric.unit, metric.component, createdAt);
    const rollups = aggregateMetrics(metrics);
    rollups.forEach((map, granularity) => {
      for (const delta of map.values()) upserts[granularity]!.run(delta.bucket, delta.name, delta.component, delta.unit, delta.samples, delta.sum, delta.min, delta.max);
    });
    return metrics.length;
  });
  return (metrics, createdAt) => write.immediate(metrics, createdAt);
}
