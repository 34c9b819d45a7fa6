import type { Interaction } from '@strata/core';
import { compareText } from './compareText.js';
import { histogramBin } from './histogram.js';
import { DAY_MS, HOUR_MS, MINUTE_MS, MINUTE_ROLLUP_HORIZON_MS, floorTo } from './timeBuckets.js';

/**
 * A batch aggregated in memory before it is written: maps keyed by bucket, session, question and
 * content item, so each rollup row is written once per batch however many events it covers. Pure
 * functions of their arguments, shared by every hot tier's writer (and by erasure replaying a
 * session's stored batches), so each store's rollups come out identical for the same events.
 */

/** Seconds (or relevance) to whole millionths: the unit of every stored sum, so sums are exact. */
export function toMicros(value: number): number {
  return Math.round(value * 1e6);
}

/** An event the batch inserted, with its query key worked out once. */
export interface FreshEvent {
  event: Interaction;
  queryHash: string;
  normalizedQuery: string;
}

/**
 * An event ready for the row insert: its query key and its `content` column text worked out
 * beforehand (by the host thread, when batches go to the writer thread, which bounds ingest).
 */
export interface PreparedInteraction extends FreshEvent {
  contentJson: string;
}

export interface RollupDelta {
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

export interface LatencyDelta {
  bucket: number;
  role: string;
  responseUsMax: number;
  bins: Map<number, number>;
}

export interface SessionDelta {
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

export interface QueryDelta {
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
export interface QueryDayDelta {
  day: number;
  hash: string;
  role: string | undefined;
  asks: number;
  successes: number;
  responseUs: number;
  ratingSum: number;
  ratingCount: number;
}

export interface ContentDelta {
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
export interface ContentDayDelta {
  day: number;
  /** The item's key in the batch's content map. */
  item: string;
  role: string | undefined;
  accesses: number;
  successes: number;
  relevanceMicros: number;
  relevanceCount: number;
}

export const ROLLUP_GRANULARITIES = ['minute', 'hour', 'day'] as const;
export const ROLLUP_SIZES = [MINUTE_MS, HOUR_MS, DAY_MS] as const;
/** Index of the minute granularity in the lists above; sessions are counted from the next one up. */
export const MINUTE_GRANULARITY = 0;

export interface BatchDeltas {
  /** Per granularity (minute, hour, day). */
  rollups: Array<Map<string, RollupDelta>>;
  latencies: Array<Map<string, LatencyDelta>>;
  sessions: Map<string, SessionDelta>;
  queries: Map<string, QueryDelta>;
  queryDays: Map<string, QueryDayDelta>;
  contents: Map<string, ContentDelta>;
  contentDays: Map<string, ContentDayDelta>;
  /**
   * The same deltas reached through nested maps of their key parts, so aggregating an event builds
   * no key string (that cost more than the SQL of the whole batch); the flat maps above get each
   * key once, when its delta is created.
   */
  readonly lookup: DeltaLookup;
}

/** bucket → role → query type (rollups), bucket → role (latencies), and so on. */
interface DeltaLookup {
  rollups: Array<Map<number, Map<string, Map<string, RollupDelta>>>>;
  latencies: Array<Map<number, Map<string, LatencyDelta>>>;
  queryDays: Map<number, Map<string, DayCells<QueryDayDelta>>>;
  contents: Map<string, Map<string, ContentDelta>>;
  contentDays: Map<ContentDelta, Map<number, DayCells<ContentDayDelta>>>;
}

/** One question's or item's day: over all roles, and per role. */
interface DayCells<T> {
  day: number;
  /** The question's hash, or the item's day key (the flat map's key of its all-roles cell). */
  key: string;
  /** The item's key in `contents` (content cells only). */
  item?: string;
  all: T | undefined;
  byRole: Map<string, T>;
}

export function emptyDeltas(): BatchDeltas {
  return {
    rollups: ROLLUP_SIZES.map(() => new Map()),
    latencies: ROLLUP_SIZES.map(() => new Map()),
    sessions: new Map(),
    queries: new Map(),
    queryDays: new Map(),
    contents: new Map(),
    contentDays: new Map(),
    lookup: {
      rollups: ROLLUP_SIZES.map(() => new Map()),
      latencies: ROLLUP_SIZES.map(() => new Map()),
      queryDays: new Map(),
      contents: new Map(),
      contentDays: new Map(),
    },
  };
}

/** The map under `key` in `outer`, created empty on first use. */
function inner<K, V>(outer: Map<K, V>, key: K, create: () => V): V {
  let value = outer.get(key);
  if (value === undefined) {
    value = create();
    outer.set(key, value);
  }
  return value;
}

const newMap = <K, V>(): Map<K, V> => new Map();

/** The delta of one rollup row, created empty on first use. */
export function rollupDelta(deltas: BatchDeltas, granularity: number, bucket: number, role: string, type: string): RollupDelta {
  const byType = inner(inner(deltas.lookup.rollups[granularity]!, bucket, newMap<string, Map<string, RollupDelta>>), role, newMap<string, RollupDelta>);
  let delta = byType.get(type);
  if (!delta) {
    delta = {
      bucket, role, type,
      interactions: 0, successes: 0, responseUs: 0, ratingSum: 0, ratingCount: 0,
      snippets: 0, citations: 0, followUps: 0, sessionsStarted: 0, sessionsConverted: 0,
    };
    byType.set(type, delta);
    // The role's length keeps any two role and type pairs apart.
    deltas.rollups[granularity]!.set(`${bucket}:${role.length}:${role}${type}`, delta);
  }
  return delta;
}

/** The latency delta of one bucket and role, created on first use with its first response time. */
function latencyDelta(deltas: BatchDeltas, granularity: number, bucket: number, role: string, responseUs: number): LatencyDelta {
  const byRole = inner(deltas.lookup.latencies[granularity]!, bucket, newMap<string, LatencyDelta>);
  let latency = byRole.get(role);
  if (!latency) {
    latency = { bucket, role, responseUsMax: responseUs, bins: new Map() };
    byRole.set(role, latency);
    deltas.latencies[granularity]!.set(`${bucket}:${role}`, latency);
  }
  return latency;
}

/** A question's cells for one day: the all-roles cell and each role's are created on first use. */
function queryDayCells(deltas: BatchDeltas, day: number, hash: string): DayCells<QueryDayDelta> {
  const byHash = inner(deltas.lookup.queryDays, day, newMap<string, DayCells<QueryDayDelta>>);
  let cells = byHash.get(hash);
  if (!cells) {
    cells = { day, key: hash, all: undefined, byRole: new Map() };
    byHash.set(hash, cells);
  }
  return cells;
}

function queryDayOfAll(deltas: BatchDeltas, cells: DayCells<QueryDayDelta>): QueryDayDelta {
  if (!cells.all) {
    const { day, key: hash } = cells;
    cells.all = { day, hash, role: undefined, asks: 0, successes: 0, responseUs: 0, ratingSum: 0, ratingCount: 0 };
    // The hash is fixed-length hex, so `day:hash` (all roles) and `day:hash:role` never collide.
    deltas.queryDays.set(`${day}:${hash}`, cells.all);
  }
  return cells.all;
}

function queryDayOfRole(deltas: BatchDeltas, cells: DayCells<QueryDayDelta>, role: string): QueryDayDelta {
  let cell = cells.byRole.get(role);
  if (!cell) {
    const { day, key: hash } = cells;
    cell = { day, hash, role, asks: 0, successes: 0, responseUs: 0, ratingSum: 0, ratingCount: 0 };
    cells.byRole.set(role, cell);
    deltas.queryDays.set(`${day}:${hash}:${role}`, cell);
  }
  return cell;
}

function contentDelta(deltas: BatchDeltas, type: string, id: string, timestamp: number): ContentDelta {
  const byId = inner(deltas.lookup.contents, type, newMap<string, ContentDelta>);
  let content = byId.get(id);
  if (!content) {
    content = { type, id, accesses: 0, successes: 0, relevanceMicros: 0, relevanceCount: 0, first: timestamp, last: timestamp, roles: new Map() };
    byId.set(id, content);
    deltas.contents.set(contentKey(type, id), content);
  }
  return content;
}

/** An item's cells for one day: the all-roles cell and each role's are created on first use. */
function contentDayCells(deltas: BatchDeltas, content: ContentDelta, day: number): DayCells<ContentDayDelta> {
  const byDay = inner(deltas.lookup.contentDays, content, newMap<number, DayCells<ContentDayDelta>>);
  let cells = byDay.get(day);
  if (!cells) {
    cells = { day, key: contentDayKey(day, content), item: contentKey(content.type, content.id), all: undefined, byRole: new Map() };
    byDay.set(day, cells);
  }
  return cells;
}

function contentDayOfAll(deltas: BatchDeltas, cells: DayCells<ContentDayDelta>): ContentDayDelta {
  if (!cells.all) {
    cells.all = { day: cells.day, item: cells.item!, role: undefined, accesses: 0, successes: 0, relevanceMicros: 0, relevanceCount: 0 };
    deltas.contentDays.set(cells.key, cells.all);
  }
  return cells.all;
}

function contentDayOfRole(deltas: BatchDeltas, cells: DayCells<ContentDayDelta>, role: string): ContentDayDelta {
  let cell = cells.byRole.get(role);
  if (!cell) {
    cell = { day: cells.day, item: cells.item!, role, accesses: 0, successes: 0, relevanceMicros: 0, relevanceCount: 0 };
    cells.byRole.set(role, cell);
    deltas.contentDays.set(`${cells.key}:${role}`, cell);
  }
  return cell;
}

/** The id's length keeps `day:item` (all roles) and `day:item:role` apart whatever the id holds. */
function contentDayKey(day: number, content: ContentDelta): string {
  return `${day}:${content.type.length}:${content.type}${content.id.length}:${content.id}`;
}

/** True when start (t1, r1, y1) comes before (t2, r2, y2): earliest timestamp, ties by role then query type. */
export function startsBefore(t1: number, r1: string, y1: string, t2: number, r2: string, y2: string): boolean {
  if (t1 !== t2) return t1 < t2;
  const byRole = compareText(r1, r2);
  return byRole !== 0 ? byRole < 0 : compareText(y1, y2) < 0;
}

/** Aggregates the events a batch stores (session starts are merged later, against the stored sessions). */
/** Aggregates a batch's fresh events, into `deltas` when given (a group of batches committed together). */
export function aggregateBatch(fresh: readonly FreshEvent[], createdAt: number, deltas: BatchDeltas = emptyDeltas()): BatchDeltas {
  const minuteHorizon = createdAt - MINUTE_ROLLUP_HORIZON_MS;
  for (const { event, queryHash, normalizedQuery } of fresh) {
    const { timestamp, userRole: role, queryType: type } = event;
    const responseUs = toMicros(event.responseTime);
    const bin = histogramBin(event.responseTime);
    const success = event.success ? 1 : 0;
    const rated = event.userRating === null ? 0 : 1;
    const rating = event.userRating ?? 0;
    const followUp = event.followUpQuery ? 1 : 0;
    // Minute rollups only for events recent when stored: an old event would cost a minute row of
    // its own (historical loads spread thin), and readers use minutes only inside the horizon.
    const first = timestamp >= minuteHorizon ? MINUTE_GRANULARITY : MINUTE_GRANULARITY + 1;
    for (let granularity = first; granularity < ROLLUP_SIZES.length; granularity += 1) {
      const bucket = floorTo(timestamp, ROLLUP_SIZES[granularity]!);
      const delta = rollupDelta(deltas, granularity, bucket, role, type);
      delta.interactions += 1;
      delta.successes += success;
      delta.responseUs += responseUs;
      delta.ratingSum += rating;
      delta.ratingCount += rated;
      delta.snippets += event.codeSnippetsShown;
      delta.citations += event.citationsProvided;
      delta.followUps += followUp;

      const latency = latencyDelta(deltas, granularity, bucket, role, responseUs);
      if (responseUs > latency.responseUsMax) latency.responseUsMax = responseUs;
      latency.bins.set(bin, (latency.bins.get(bin) ?? 0) + 1);
    }

    let session = deltas.sessions.get(event.sessionId);
    if (!session) {
      session = {
        queries: 0, successes: 0, responseUs: 0, snippets: 0, citations: 0, ratingSum: 0, ratingCount: 0, maxTurn: 0,
        startTime: timestamp, startRole: role, startType: type, lastActivity: timestamp,
      };
      deltas.sessions.set(event.sessionId, session);
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

    let query = deltas.queries.get(queryHash);
    if (!query) {
      query = {
        hash: queryHash, normalized: normalizedQuery, asks: 0, successes: 0, responseUs: 0, ratingSum: 0, ratingCount: 0,
        firstAsked: timestamp, category: type, lastAsked: timestamp, roles: new Map(),
      };
      deltas.queries.set(queryHash, query);
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
    const queryDays = queryDayCells(deltas, day, queryHash);
    addQueryDay(queryDayOfAll(deltas, queryDays), success, responseUs, rating, rated);
    addQueryDay(queryDayOfRole(deltas, queryDays, role), success, responseUs, rating, rated);

    for (const item of event.content) {
      const relevanceMicros = item.relevance === null ? 0 : toMicros(item.relevance);
      const relevanceCount = item.relevance === null ? 0 : 1;
      const content = contentDelta(deltas, item.type, item.id, timestamp);
      content.accesses += 1;
      content.successes += success;
      content.relevanceMicros += relevanceMicros;
      content.relevanceCount += relevanceCount;
      if (timestamp < content.first) content.first = timestamp;
      if (timestamp > content.last) content.last = timestamp;
      content.roles.set(role, (content.roles.get(role) ?? 0) + 1);

      const contentDays = contentDayCells(deltas, content, day);
      addContentDay(contentDayOfAll(deltas, contentDays), success, relevanceMicros, relevanceCount);
      addContentDay(contentDayOfRole(deltas, contentDays, role), success, relevanceMicros, relevanceCount);
    }
  }
  return deltas;
}

function addQueryDay(cell: QueryDayDelta, success: number, responseUs: number, rating: number, rated: number): void {
  cell.asks += 1;
  cell.successes += success;
  cell.responseUs += responseUs;
  cell.ratingSum += rating;
  cell.ratingCount += rated;
}

function addContentDay(cell: ContentDayDelta, success: number, relevanceMicros: number, relevanceCount: number): void {
  cell.accesses += 1;
  cell.successes += success;
  cell.relevanceMicros += relevanceMicros;
  cell.relevanceCount += relevanceCount;
}

/** A content item's key: type and id with the type's length, so no two pairs collide. */
export function contentKey(type: string, id: string): string {
  return `${type.length}:${type}${id}`;
}

/** A `session_analytics` row as written back. */
export interface SessionState {
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
  updated_at: number;
}

/** A `session_analytics` row as read before merging (its `updated_at` is not needed). */
export type StoredSession = Omit<SessionState, 'updated_at'>;

/**
 * Merges the batch's sessions into their stored state (absent: a new session) and returns the rows
 * to write back. A session starts at its earliest event; when an earlier event arrives late, its
 * start (and its conversion) move to the new start bucket, which this adds to `deltas.rollups`
 * (-1 at the old start, +1 at the new), so rollups never depend on arrival order.
 */
export function mergeSessions(deltas: BatchDeltas, stored: ReadonlyMap<string, StoredSession>, depth: number, createdAt: number): SessionState[] {
  const shift = (time: number, role: string, type: string, started: number, converted: number) => {
    for (let granularity = MINUTE_GRANULARITY + 1; granularity < ROLLUP_SIZES.length; granularity += 1) {
      const delta = rollupDelta(deltas, granularity, floorTo(time, ROLLUP_SIZES[granularity]!), role, type);
      delta.sessionsStarted += started;
      delta.sessionsConverted += converted;
    }
  };
  const rows: SessionState[] = [];
  for (const [sessionId, delta] of deltas.sessions) {
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
    rows.push({
      session_id: sessionId,
      user_role: startRole,
      start_time: startTime,
      start_query_type: startType,
      last_activity: Math.max(old?.last_activity ?? delta.lastActivity, delta.lastActivity),
      total_queries: queries,
      successful_queries: (old?.successful_queries ?? 0) + delta.successes,
      response_us_sum: (old?.response_us_sum ?? 0) + delta.responseUs,
      total_code_snippets: (old?.total_code_snippets ?? 0) + delta.snippets,
      total_citations: (old?.total_citations ?? 0) + delta.citations,
      rating_sum: (old?.rating_sum ?? 0) + delta.ratingSum,
      rating_count: (old?.rating_count ?? 0) + delta.ratingCount,
      max_turn: maxTurn,
      conversion_achieved: converted,
      created_at: old?.created_at ?? createdAt,
      updated_at: createdAt,
    });
  }
  return rows;
}

/** Adds `from` into `into`: sums, bins and role counts add; firsts and lasts widen. */
export function addDeltas(into: BatchDeltas, from: BatchDeltas): void {
  from.rollups.forEach((map, granularity) => {
    for (const delta of map.values()) {
      const sum = rollupDelta(into, granularity, delta.bucket, delta.role, delta.type);
      sum.interactions += delta.interactions;
      sum.successes += delta.successes;
      sum.responseUs += delta.responseUs;
      sum.ratingSum += delta.ratingSum;
      sum.ratingCount += delta.ratingCount;
      sum.snippets += delta.snippets;
      sum.citations += delta.citations;
      sum.followUps += delta.followUps;
      sum.sessionsStarted += delta.sessionsStarted;
      sum.sessionsConverted += delta.sessionsConverted;
    }
  });
  from.latencies.forEach((map, granularity) => {
    for (const delta of map.values()) {
      const sum = latencyDelta(into, granularity, delta.bucket, delta.role, delta.responseUsMax);
      sum.responseUsMax = Math.max(sum.responseUsMax, delta.responseUsMax);
      for (const [bin, count] of delta.bins) sum.bins.set(bin, (sum.bins.get(bin) ?? 0) + count);
    }
  });
  for (const [hash, delta] of from.queries) {
    const sum = into.queries.get(hash);
    if (!sum) {
      into.queries.set(hash, { ...delta, roles: new Map(delta.roles) });
      continue;
    }
    sum.asks += delta.asks;
    sum.successes += delta.successes;
    sum.responseUs += delta.responseUs;
    sum.ratingSum += delta.ratingSum;
    sum.ratingCount += delta.ratingCount;
    sum.firstAsked = Math.min(sum.firstAsked, delta.firstAsked);
    sum.lastAsked = Math.max(sum.lastAsked, delta.lastAsked);
    for (const [role, count] of delta.roles) sum.roles.set(role, (sum.roles.get(role) ?? 0) + count);
  }
  for (const delta of from.queryDays.values()) {
    const cells = queryDayCells(into, delta.day, delta.hash);
    const sum = delta.role === undefined ? queryDayOfAll(into, cells) : queryDayOfRole(into, cells, delta.role);
    sum.asks += delta.asks;
    sum.successes += delta.successes;
    sum.responseUs += delta.responseUs;
    sum.ratingSum += delta.ratingSum;
    sum.ratingCount += delta.ratingCount;
  }
  for (const delta of from.contents.values()) {
    const sum = contentDelta(into, delta.type, delta.id, delta.first);
    sum.accesses += delta.accesses;
    sum.successes += delta.successes;
    sum.relevanceMicros += delta.relevanceMicros;
    sum.relevanceCount += delta.relevanceCount;
    sum.first = Math.min(sum.first, delta.first);
    sum.last = Math.max(sum.last, delta.last);
    for (const [role, count] of delta.roles) sum.roles.set(role, (sum.roles.get(role) ?? 0) + count);
  }
  for (const delta of from.contentDays.values()) {
    const item = from.contents.get(delta.item);
    if (!item) throw new Error(`content day delta for ${delta.item} has no content delta beside it`);
    const content = contentDelta(into, item.type, item.id, item.first);
    const cells = contentDayCells(into, content, delta.day);
    const sum = delta.role === undefined ? contentDayOfAll(into, cells) : contentDayOfRole(into, cells, delta.role);
    sum.accesses += delta.accesses;
    sum.successes += delta.successes;
    sum.relevanceMicros += delta.relevanceMicros;
    sum.relevanceCount += delta.relevanceCount;
  }
}
