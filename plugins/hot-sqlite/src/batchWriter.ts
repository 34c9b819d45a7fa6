import type Database from 'better-sqlite3';
import { createQueryKeyer, normalizeQuery, type Interaction, type Metric } from '@strata/core';
import { compareText, mergeRankedCounts, rankCounts } from './compareText.js';
import { encodeHistogram, histogramBin, mergeHistograms } from './histogram.js';
import { INSERT_COLUMNS, fromRow, toInsertParams, type InteractionRow } from './interactionRows.js';
import { DAY_MS, HOUR_MS, MINUTE_MS, MINUTE_ROLLUP_HORIZON_MS, floorTo } from './timeBuckets.js';

/**
 * The hot tier's write path, as functions of a connection and their arguments only (no hidden
 * state), so the same code runs on the tier's connection or in a worker thread that owns its own.
 *
 * One batch is one transaction: the raw rows (`ON CONFLICT (event_id) DO NOTHING`), then every
 * rollup, from the events that were actually new. The batch is first aggregated in memory into maps
 * keyed by bucket, session, query and content item, so each rollup row is written once per batch
 * with one prepared UPSERT adding the deltas, however many events it covers. Re-sent events insert
 * nothing and so change nothing.
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

/** An event the batch inserted, with its query key worked out once. */
export interface FreshEvent {
  event: Interaction;
  queryHash: string;
  normalizedQuery: string;
}

/** Seconds (or relevance) to whole millionths: the unit of every stored sum, so sums are exact. */
export function toMicros(value: number): number {
  return Math.round(value * 1e6);
}

/** Registers the SQL functions the rollup UPSERTs use. Safe to call more than once. */
export function registerRollupFunctions(db: Database.Database): void {
  db.function('strata_histogram_merge', { deterministic: true }, (a: unknown, b: unknown) => mergeHistograms(a as Uint8Array | null, b as Uint8Array | null));
  db.function('strata_ranked_merge', { deterministic: true }, (a: unknown, b: unknown) => mergeRankedCounts(a as string | null, b as string | null));
}

/** The interaction write path: raw rows plus rollups, in one IMMEDIATE transaction per batch. */
export function prepareBatchWriter(db: Database.Database, options: BatchWriterOptions = {}): BatchWriter {
  const applyRollups = prepareRollupWriter(db, options);
  const insert = db.prepare(
    `INSERT INTO user_interactions (${INSERT_COLUMNS.join(', ')}) VALUES (${INSERT_COLUMNS.map(() => '?').join(', ')})
     ON CONFLICT (event_id) DO NOTHING`,
  );
  // Popular questions repeat: each distinct text is normalised and hashed once, across batches.
  const queryKey = createQueryKeyer();
  const write = db.transaction((events: readonly Interaction[], createdAt: number): BatchWriteResult => {
    const duplicateIds: string[] = [];
    const fresh: FreshEvent[] = [];
    for (const event of events) {
      const query = queryKey(event.query);
      if (insert.run(toInsertParams(event, createdAt, query.hash)).changes === 0) duplicateIds.push(event.eventId);
      else fresh.push({ event, queryHash: query.hash, normalizedQuery: query.normalized });
    }
    if (fresh.length > 0) applyRollups(fresh, createdAt);
    return { duplicateIds };
  });
  return (events, createdAt) => write.immediate(events, createdAt);
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

interface RollupDelta {
  bucket: number;
  role: string;
  type: string;
  interactions: number;
  successes: number;
  responseUs: number;
  ratingSum: number;
  ratingCount: number;
  snippets: number;
  citations: number;
  followUps: number;
  sessionsStarted: number;
  sessionsConverted: number;
}

interface LatencyDelta {
  bucket: number;
  role: string;
  responseUsMax: number;
  bins: Map<number, number>;
}

interface SessionDelta {
  queries: number;
  successes: number;
  responseUs: number;
  snippets: number;
  citations: number;
  ratingSum: number;
  ratingCount: number;
  maxTurn: number;
  startTime: number;
  startRole: string;
  startType: string;
  lastActivity: number;
}

interface SessionRow {
  session_id: string;
  user_role: string;
  start_time: number;
  start_query_type: string;
  last_activity: number;
  total_queries: number;
  successful_queries: number;
  response_us_sum: number;
  total_code_snippets: number;
  total_citations: number;
  rating_sum: number;
  rating_count: number;
  max_turn: number;
  conversion_achieved: number;
  created_at: number;
}

interface QueryDelta {
  hash: string;
  normalized: string;
  asks: number;
  successes: number;
  responseUs: number;
  ratingSum: number;
  ratingCount: number;
  firstAsked: number;
  category: string;
  lastAsked: number;
  roles: Map<string, number>;
}

/** A question's day, over all roles (`role` undefined) or for one role. */
interface QueryDayDelta {
  day: number;
  hash: string;
  role: string | undefined;
  asks: number;
  successes: number;
  responseUs: number;
  ratingSum: number;
  ratingCount: number;
}

interface ContentDelta {
  type: string;
  id: string;
  accesses: number;
  successes: number;
  relevanceMicros: number;
  relevanceCount: number;
  first: number;
  last: number;
  roles: Map<string, number>;
}

/** A content item's day, over all roles (`role` undefined) or for one role. */
interface ContentDayDelta {
  day: number;
  /** The item's key in the batch's content map. */
  item: string;
  role: string | undefined;
  accesses: number;
  successes: number;
  relevanceMicros: number;
  relevanceCount: number;
}

const ROLLUP_TABLES = ['rollup_minute', 'rollup_hour', 'rollup_day'] as const;
const LATENCY_TABLES = ['latency_minute', 'latency_hour', 'latency_day'] as const;
const ROLLUP_SIZES = [MINUTE_MS, HOUR_MS, DAY_MS] as const;
/** Index of the minute granularity in the lists above; sessions are counted from the next one up. */
const MINUTE = 0;

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

/** True when start (t1, r1, y1) comes before (t2, r2, y2): earliest timestamp, ties by role then query type. */
function startsBefore(t1: number, r1: string, y1: string, t2: number, r2: string, y2: string): boolean {
  if (t1 !== t2) return t1 < t2;
  const byRole = compareText(r1, r2);
  return byRole !== 0 ? byRole < 0 : compareText(y1, y2) < 0;
}

/**
 * Applies the rollup deltas of events known to be newly stored. Exported for the worker and the
 * schema-2 backfill; call it only inside a transaction that also stored those events.
 */
export function prepareRollupWriter(db: Database.Database, options: BatchWriterOptions = {}): (fresh: readonly FreshEvent[], createdAt: number) => void {
  const depth = options.conversionDepth ?? DEFAULT_CONVERSION_DEPTH;
  registerRollupFunctions(db);
  const upsertRollup = ROLLUP_TABLES.map((table, granularity) => db.prepare(rollupUpsertSql(table, granularity !== MINUTE)));
  const upsertLatency = LATENCY_TABLES.map((table) => db.prepare(latencyUpsertSql(table)));
  const shiftSessions = ROLLUP_TABLES.map((table, granularity) => (granularity === MINUTE ? undefined : db.prepare(rollupSessionsSql(table))));
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

  return (fresh, createdAt) => {
    const rollups = ROLLUP_TABLES.map(() => new Map<string, RollupDelta>());
    const latencies = LATENCY_TABLES.map(() => new Map<string, LatencyDelta>());
    const sessions = new Map<string, SessionDelta>();
    const queries = new Map<string, QueryDelta>();
    const queryDays = new Map<string, QueryDayDelta>();
    const contents = new Map<string, ContentDelta>();
    const contentDays = new Map<string, ContentDayDelta>();

    const rollupFor = (granularity: number, bucket: number, role: string, type: string, roleType: string): RollupDelta => {
      const map = rollups[granularity]!;
      const key = `${bucket}:${roleType}`;
      let delta = map.get(key);
      if (!delta) {
        delta = {
          bucket, role, type,
          interactions: 0, successes: 0, responseUs: 0, ratingSum: 0, ratingCount: 0,
          snippets: 0, citations: 0, followUps: 0, sessionsStarted: 0, sessionsConverted: 0,
        };
        map.set(key, delta);
      }
      return delta;
    };

    for (const { event, queryHash, normalizedQuery } of fresh) {
      const { timestamp, userRole: role, queryType: type } = event;
      const responseUs = toMicros(event.responseTime);
      const bin = histogramBin(event.responseTime);
      const success = event.success ? 1 : 0;
      const rated = event.userRating === null ? 0 : 1;
      const rating = event.userRating ?? 0;
      const roleType = `${role.length}:${role}${type}`;
      // Minute rollups only for events recent when stored: an old event would cost a minute row of
      // its own (historical loads spread thin), and readers use minutes only inside the horizon.
      const first = timestamp >= createdAt - MINUTE_ROLLUP_HORIZON_MS ? MINUTE : MINUTE + 1;
      for (let granularity = first; granularity < ROLLUP_SIZES.length; granularity += 1) {
        const bucket = floorTo(timestamp, ROLLUP_SIZES[granularity]!);
        const delta = rollupFor(granularity, bucket, role, type, roleType);
        delta.interactions += 1;
        delta.successes += success;
        delta.responseUs += responseUs;
        delta.ratingSum += rating;
        delta.ratingCount += rated;
        delta.snippets += event.codeSnippetsShown;
        delta.citations += event.citationsProvided;
        if (event.followUpQuery) delta.followUps += 1;

        const latencyMap = latencies[granularity]!;
        const latencyKey = `${bucket}:${role}`;
        let latency = latencyMap.get(latencyKey);
        if (!latency) {
          latency = { bucket, role, responseUsMax: responseUs, bins: new Map() };
          latencyMap.set(latencyKey, latency);
        } else if (responseUs > latency.responseUsMax) latency.responseUsMax = responseUs;
        latency.bins.set(bin, (latency.bins.get(bin) ?? 0) + 1);
      }

      let session = sessions.get(event.sessionId);
      if (!session) {
        session = {
          queries: 0, successes: 0, responseUs: 0, snippets: 0, citations: 0, ratingSum: 0, ratingCount: 0, maxTurn: 0,
          startTime: timestamp, startRole: role, startType: type, lastActivity: timestamp,
        };
        sessions.set(event.sessionId, session);
      } else if (startsBefore(timestamp, role, type, session.startTime, session.startRole, session.startType)) {
        session.startTime = timestamp;
        session.startRole = role;
        session.startType = type;
      }
      session.queries += 1;
      session.successes += success;
      session.responseUs += responseUs;
      session.snippets += event.codeSnippetsShown;
      session.citations += event.citationsProvided;
      session.ratingSum += rating;
      session.ratingCount += rated;
      if (event.conversationTurn > session.maxTurn) session.maxTurn = event.conversationTurn;
      if (timestamp > session.lastActivity) session.lastActivity = timestamp;

      let query = queries.get(queryHash);
      if (!query) {
        query = {
          hash: queryHash, normalized: normalizedQuery, asks: 0, successes: 0, responseUs: 0, ratingSum: 0, ratingCount: 0,
          firstAsked: timestamp, category: type, lastAsked: timestamp, roles: new Map(),
        };
        queries.set(queryHash, query);
      } else if (timestamp < query.firstAsked || (timestamp === query.firstAsked && compareText(type, query.category) < 0)) {
        query.firstAsked = timestamp;
        query.category = type;
      }
      query.asks += 1;
      query.successes += success;
      query.responseUs += responseUs;
      query.ratingSum += rating;
      query.ratingCount += rated;
      if (timestamp > query.lastAsked) query.lastAsked = timestamp;
      query.roles.set(role, (query.roles.get(role) ?? 0) + 1);

      const day = floorTo(timestamp, DAY_MS);
      // The hash is fixed-length hex, so `day:hash` (all roles) and `day:hash:role` never collide.
      for (const dayRole of [undefined, role]) {
        const queryDayKey = dayRole === undefined ? `${day}:${queryHash}` : `${day}:${queryHash}:${dayRole}`;
        let queryDay = queryDays.get(queryDayKey);
        if (!queryDay) {
          queryDay = { day, hash: queryHash, role: dayRole, asks: 0, successes: 0, responseUs: 0, ratingSum: 0, ratingCount: 0 };
          queryDays.set(queryDayKey, queryDay);
        }
        queryDay.asks += 1;
        queryDay.successes += success;
        queryDay.responseUs += responseUs;
        queryDay.ratingSum += rating;
        queryDay.ratingCount += rated;
      }

      for (const item of event.content) {
        const itemKey = `${item.type.length}:${item.type}${item.id}`;
        const relevanceMicros = item.relevance === null ? 0 : toMicros(item.relevance);
        const relevanceCount = item.relevance === null ? 0 : 1;
        let content = contents.get(itemKey);
        if (!content) {
          content = { type: item.type, id: item.id, accesses: 0, successes: 0, relevanceMicros: 0, relevanceCount: 0, first: timestamp, last: timestamp, roles: new Map() };
          contents.set(itemKey, content);
        }
        content.accesses += 1;
        content.successes += success;
        content.relevanceMicros += relevanceMicros;
        content.relevanceCount += relevanceCount;
        if (timestamp < content.first) content.first = timestamp;
        if (timestamp > content.last) content.last = timestamp;
        content.roles.set(role, (content.roles.get(role) ?? 0) + 1);

        const itemDayKey = `${day}:${item.type.length}:${item.type}${item.id.length}:${item.id}`;
        for (const dayRole of [undefined, role]) {
          const contentDayKey = dayRole === undefined ? itemDayKey : `${itemDayKey}:${dayRole}`;
          let contentDay = contentDays.get(contentDayKey);
          if (!contentDay) {
            contentDay = { day, item: itemKey, role: dayRole, accesses: 0, successes: 0, relevanceMicros: 0, relevanceCount: 0 };
            contentDays.set(contentDayKey, contentDay);
          }
          contentDay.accesses += 1;
          contentDay.successes += success;
          contentDay.relevanceMicros += relevanceMicros;
          contentDay.relevanceCount += relevanceCount;
        }
      }
    }

    // Sessions: read the stored state of every session in the batch at once, merge, write back.
    // A session's start is its earliest event; when an earlier event arrives late, its start (and
    // its conversion) move to the new start bucket, so rollups never depend on arrival order.
    const shift = (time: number, role: string, type: string, started: number, converted: number) => {
      const roleType = `${role.length}:${role}${type}`;
      for (let granularity = MINUTE + 1; granularity < ROLLUP_SIZES.length; granularity += 1) {
        const delta = rollupFor(granularity, floorTo(time, ROLLUP_SIZES[granularity]!), role, type, roleType);
        delta.sessionsStarted += started;
        delta.sessionsConverted += converted;
      }
    };
    const stored = new Map<string, SessionRow>();
    for (const row of readSessions.all(JSON.stringify([...sessions.keys()])) as SessionRow[]) stored.set(row.session_id, row);
    for (const [sessionId, delta] of sessions) {
      const old = stored.get(sessionId);
      let startTime = delta.startTime;
      let startRole = delta.startRole;
      let startType = delta.startType;
      if (old && !startsBefore(startTime, startRole, startType, old.start_time, old.user_role, old.start_query_type)) {
        startTime = old.start_time;
        startRole = old.user_role;
        startType = old.start_query_type;
      }
      const queries = (old?.total_queries ?? 0) + delta.queries;
      const maxTurn = Math.max(old?.max_turn ?? 0, delta.maxTurn);
      const converted = queries >= depth || maxTurn >= depth ? 1 : 0;
      if (old) shift(old.start_time, old.user_role, old.start_query_type, -1, -old.conversion_achieved);
      shift(startTime, startRole, startType, 1, converted);
      writeSession.run(
        sessionId,
        startRole,
        startTime,
        startType,
        Math.max(old?.last_activity ?? delta.lastActivity, delta.lastActivity),
        queries,
        (old?.successful_queries ?? 0) + delta.successes,
        (old?.response_us_sum ?? 0) + delta.responseUs,
        (old?.total_code_snippets ?? 0) + delta.snippets,
        (old?.total_citations ?? 0) + delta.citations,
        (old?.rating_sum ?? 0) + delta.ratingSum,
        (old?.rating_count ?? 0) + delta.ratingCount,
        maxTurn,
        converted,
        old?.created_at ?? createdAt,
        createdAt,
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
    for (const query of queries.values()) {
      const { id } = upsertQuery.get(
        query.hash, query.normalized, query.category, query.asks, query.successes, query.responseUs, query.ratingSum, query.ratingCount,
        JSON.stringify(rankCounts(query.roles)), query.firstAsked, query.lastAsked, createdAt, createdAt,
      ) as { id: number };
      queryIds.set(query.hash, id);
    }
    for (const day of queryDays.values()) {
      const ref = queryIds.get(day.hash)!;
      if (day.role === undefined) upsertQueryDay.run(day.day, ref, day.asks, day.successes, day.responseUs, day.ratingSum, day.ratingCount);
      else upsertQueryDayRole.run(day.role, day.day, ref, day.asks, day.successes, day.responseUs, day.ratingSum, day.ratingCount);
    }
    const contentIds = new Map<string, number>();
    for (const [itemKey, content] of contents) {
      const { id } = upsertContent.get(
        content.type, content.id, content.accesses, content.successes, content.relevanceMicros, content.relevanceCount,
        JSON.stringify(rankCounts(content.roles)), content.first, content.last, createdAt, createdAt,
      ) as { id: number };
      contentIds.set(itemKey, id);
    }
    for (const day of contentDays.values()) {
      const ref = contentIds.get(day.item)!;
      if (day.role === undefined) upsertContentDay.run(day.day, ref, day.accesses, day.successes, day.relevanceMicros, day.relevanceCount);
      else upsertContentDayRole.run(day.role, day.day, ref, day.accesses, day.successes, day.relevanceMicros, day.relevanceCount);
    }
  };
}

interface MetricDelta {
  bucket: number;
  name: string;
  component: string;
  unit: string;
  samples: number;
  sum: number;
  min: number;
  max: number;
}

const METRIC_ROLLUP_TABLES = ['metric_rollup_minute', 'metric_rollup_hour', 'metric_rollup_day'] as const;

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
    const rollups = METRIC_ROLLUP_TABLES.map(() => new Map<string, MetricDelta>());
    for (const metric of metrics) {
      insert.run(metric.timestamp, metric.name, metric.value, metric.unit, metric.component, createdAt);
      // Absent component and unit are stored as '' in rollup keys (a key column cannot be NULL and still be unique).
      const component = metric.component ?? '';
      const unit = metric.unit ?? '';
      const suffix = `${metric.name.length}:${metric.name}${component.length}:${component}${unit}`;
      for (let granularity = 0; granularity < ROLLUP_SIZES.length; granularity += 1) {
        const bucket = floorTo(metric.timestamp, ROLLUP_SIZES[granularity]!);
        const key = `${bucket}:${suffix}`;
        const map = rollups[granularity]!;
        const delta = map.get(key);
        if (!delta) map.set(key, { bucket, name: metric.name, component, unit, samples: 1, sum: metric.value, min: metric.value, max: metric.value });
        else {
          delta.samples += 1;
          delta.sum += metric.value;
          if (metric.value < delta.min) delta.min = metric.value;
          if (metric.value > delta.max) delta.max = metric.value;
        }
      }
    }
    rollups.forEach((map, granularity) => {
      for (const delta of map.values()) upserts[granularity]!.run(delta.bucket, delta.name, delta.component, delta.unit, delta.samples, delta.sum, delta.min, delta.max);
    });
    return metrics.length;
  });
  return (metrics, createdAt) => write.immediate(metrics, createdAt);
}
