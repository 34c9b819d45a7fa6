import type { Pool, PoolClient } from 'pg';
import { hashQuery, normalizeQuery, type Interaction } from '@strata/core';
import {
  ARCHIVED_STORED_AT,
  ROLLUP_GRANULARITIES as GRANULARITIES,
  MINUTE_GRANULARITY as MINUTE,
  addDeltas,
  aggregateBatch,
  archivedToReplay,
  emptyDeltas,
  encodeHistogram,
  mergeSessions,
  subtractHistogram,
  type BatchDeltas,
  type FreshEvent,
  type SessionState,
} from '@strata/hot-sqlite';
import { fromRow, type InteractionRow } from './interactionRows.js';
import { monthIndexOf, type PartitionManager } from './partitions.js';
import type { RollupWriter } from './rollupWriter.js';
import type { Qualify } from './sqlNames.js';
import { inTransaction } from './transactions.js';

export interface ErasureContext {
  pool: Pool;
  q: Qualify;
  partitions: PartitionManager;
  rollups: RollupWriter;
  conversionDepth: number;
}

/**
 * Erases one session: its raw rows and event ids, its `session_analytics` row, and its
 * contribution to every rollup, in one transaction — hot-sqlite's semantics (see its
 * sessionErasure.ts), on PostgreSQL.
 *
 * The session row is locked first, so no writer adds to the session meanwhile (a writer storing
 * an event of it waits for that lock, then finds the session gone and starts it afresh). The
 * contribution is computed exactly by replaying the session's stored rows through the write path's
 * own aggregation, batch by batch (runs of equal `created_at`, in id order) as they were stored,
 * then subtracted: sums and counts with the same additive UPSERTs the writer uses (negated, only
 * where rows exist), histograms read under row locks and written back without the session's bins.
 * Rows, questions and items left with no uses are deleted. Maxima, first/last times and a
 * question's category stay as they were; they identify no one.
 */
export async function eraseSessionWithRollups(context: ErasureContext, sessionId: string, archived: readonly Interaction[] = []): Promise<number> {
  const { q } = context;
  return inTransaction(context.pool, async (client) => {
    const times = await client.query<{ timestamp: number }>(`SELECT DISTINCT timestamp FROM ${q('user_interactions')} WHERE session_id = $1`, [sessionId]);
    // The months' shared locks keep a concurrent partition drop out of the rows this deletes.
    await context.partitions.lockMonthsShared(client, times.rows.map((row) => monthIndexOf(row.timestamp)));
    await client.query(`SELECT 1 FROM ${q('session_analytics')} WHERE session_id = $1 FOR UPDATE`, [sessionId]);
    const { rows } = await client.query<InteractionRow>(`SELECT * FROM ${q('user_interactions')} WHERE session_id = $1 ORDER BY id`, [sessionId]);
    const fromArchive = archivedToReplay(archived, sessionId, new Set(rows.map((row) => row.event_id)));
    if (rows.length > 0) {
      await context.partitions.lockMonthsShared(client, rows.map((row) => monthIndexOf(row.timestamp)));
      await client.query(`DELETE FROM ${q('interaction_ids')} WHERE event_id = ANY($1::text[])`, [rows.map((row) => row.event_id)]);
      await client.query(`DELETE FROM ${q('user_interactions')} WHERE session_id = $1 AND id = ANY($2::int8[])`, [sessionId, rows.map((row) => row.id)]);
    }
    if (rows.length > 0 || fromArchive.length > 0) await subtract(client, context, contributionOf(rows, fromArchive, context.conversionDepth));
    await client.query(`DELETE FROM ${q('session_analytics')} WHERE session_id = $1`, [sessionId]);
    return rows.length;
  });
}

/**
 * The session's rollup contribution: its stored batches replayed in order through the write path's
 * aggregation, then its rows already moved to the archive (which the rollups still count).
 */
function contributionOf(rows: readonly InteractionRow[], archived: readonly Interaction[], depth: number): BatchDeltas {
  const total = emptyDeltas();
  const sessions = new Map<string, SessionState>();
  const replay = (run: FreshEvent[], createdAt: number) => {
    const deltas = aggregateBatch(run, createdAt);
    for (const session of mergeSessions(deltas, sessions, depth, createdAt)) sessions.set(session.session_id, session);
    addDeltas(total, deltas);
  };
  let start = 0;
  while (start < rows.length) {
    let end = start + 1;
    while (end < rows.length && rows[end]!.created_at === rows[start]!.created_at) end += 1;
    replay(rows.slice(start, end).map((row) => ({ event: fromRow(row), queryHash: row.query_hash, normalizedQuery: normalizeQuery(row.query) })), rows[start]!.created_at);
    start = end;
  }
  if (archived.length > 0) {
    replay(archived.map((event) => {
      const normalizedQuery = normalizeQuery(event.query);
      return { event, queryHash: hashQuery(normalizedQuery), normalizedQuery };
    }), ARCHIVED_STORED_AT);
  }
  return total;
}

async function subtract(client: PoolClient, context: ErasureContext, contribution: BatchDeltas): Promise<void> {
  const { q, rollups } = context;
  await rollups.writeTimeRollups(client, contribution, -1);
  for (let granularity = 0; granularity < GRANULARITIES.length; granularity += 1) {
    const keys = [...contribution.rollups[granularity]!.values()];
    if (keys.length === 0) continue;
    const empty = granularity === MINUTE ? 'interactions = 0' : 'interactions = 0 AND sessions_started = 0';
    await client.query(
      `DELETE FROM ${q(`rollup_${GRANULARITIES[granularity]}`)}
       WHERE (bucket_start, user_role, query_type) IN (SELECT * FROM unnest($1::int8[], $2::text[], $3::text[])) AND ${empty}`,
      [keys.map((key) => key.bucket), keys.map((key) => key.role), keys.map((key) => key.type)],
    );
  }
  for (let granularity = 0; granularity < GRANULARITIES.length; granularity += 1) await subtractLatency(client, q(`latency_${GRANULARITIES[granularity]}`), contribution, granularity);

  const queries = [...contribution.queries.values()];
  const queryIds = new Map<string, number>();
  if (queries.length > 0) {
    const locked = await client.query<{ id: number; query_hash: string }>(
      `SELECT id, query_hash FROM ${q('query_performance')} WHERE query_hash = ANY($1::text[]) ORDER BY query_hash FOR UPDATE`,
      [queries.map((query) => query.hash)],
    );
    for (const row of locked.rows) queryIds.set(row.query_hash, row.id);
    const stored = queries.filter((query) => queryIds.has(query.hash));
    await client.query(
      `UPDATE ${q('query_performance')} AS t SET total_asks = t.total_asks - u.asks, successes = t.successes - u.s, response_us_sum = t.response_us_sum - u.us,
         rating_sum = t.rating_sum - u.rs, rating_count = t.rating_count - u.rc
       FROM unnest($1::int8[], $2::int8[], $3::int8[], $4::int8[], $5::int8[], $6::int8[]) AS u(id, asks, s, us, rs, rc) WHERE t.id = u.id`,
      [
        stored.map((query) => queryIds.get(query.hash)),
        stored.map((query) => query.asks),
        stored.map((query) => query.successes),
        stored.map((query) => query.responseUs),
        stored.map((query) => query.ratingSum),
        stored.map((query) => query.ratingCount),
      ],
    );
    await rollups.writeQueryDetails(client, contribution, queryIds, -1);
    const ids = [...queryIds.values()];
    await client.query(`DELETE FROM ${q('query_role_counts')} WHERE query_ref = ANY($1::int8[]) AND asks <= 0`, [ids]);
    await client.query(`DELETE FROM ${q('query_daily')} WHERE query_ref = ANY($1::int8[]) AND asks <= 0`, [ids]);
    await client.query(`DELETE FROM ${q('query_daily_by_role')} WHERE query_ref = ANY($1::int8[]) AND asks <= 0`, [ids]);
    // A question only this session asked leaves no text behind.
    await client.query(`DELETE FROM ${q('query_performance')} WHERE id = ANY($1::int8[]) AND total_asks <= 0`, [ids]);
  }

  const contents = [...contribution.contents];
  const contentIds = new Map<string, number>();
  if (contents.length > 0) {
    const locked = await client.query<{ id: number; content_type: string; content_id: string }>(
      `SELECT id, content_type, content_id FROM ${q('content_performance')}
       WHERE (content_type, content_id) IN (SELECT * FROM unnest($1::text[], $2::text[])) ORDER BY content_type, content_id FOR UPDATE`,
      [contents.map(([, content]) => content.type), contents.map(([, content]) => content.id)],
    );
    const keyOf = new Map(contents.map(([key, content]) => [JSON.stringify([content.type, content.id]), key]));
    for (const row of locked.rows) contentIds.set(keyOf.get(JSON.stringify([row.content_type, row.content_id]))!, row.id);
    const stored = contents.filter(([key]) => contentIds.has(key));
    await client.query(
      `UPDATE ${q('content_performance')} AS t SET access_count = t.access_count - u.n, successes = t.successes - u.s,
         relevance_micro_sum = t.relevance_micro_sum - u.rel, relevance_count = t.relevance_count - u.relc
       FROM unnest($1::int8[], $2::int8[], $3::int8[], $4::int8[], $5::int8[]) AS u(id, n, s, rel, relc) WHERE t.id = u.id`,
      [
        stored.map(([key]) => contentIds.get(key)),
        stored.map(([, content]) => content.accesses),
        stored.map(([, content]) => content.successes),
        stored.map(([, content]) => content.relevanceMicros),
        stored.map(([, content]) => content.relevanceCount),
      ],
    );
    await rollups.writeContentDetails(client, contribution, contentIds, -1);
    const ids = [...contentIds.values()];
    await client.query(`DELETE FROM ${q('content_role_counts')} WHERE content_ref = ANY($1::int8[]) AND accesses <= 0`, [ids]);
    await client.query(`DELETE FROM ${q('content_daily')} WHERE content_ref = ANY($1::int8[]) AND accesses <= 0`, [ids]);
    await client.query(`DELETE FROM ${q('content_daily_by_role')} WHERE content_ref = ANY($1::int8[]) AND accesses <= 0`, [ids]);
    await client.query(`DELETE FROM ${q('content_performance')} WHERE id = ANY($1::int8[]) AND access_count <= 0`, [ids]);
  }
}

/** Histograms cannot be subtracted in SQL: read them under row locks (key order), subtract the session's bins, write back. */
async function subtractLatency(client: PoolClient, table: string, contribution: BatchDeltas, granularity: number): Promise<void> {
  const deltas = [...contribution.latencies[granularity]!.values()];
  if (deltas.length === 0) return;
  const { rows } = await client.query<{ bucket_start: number; user_role: string; response_histogram: Buffer }>(
    `SELECT bucket_start, user_role, response_histogram FROM ${table}
     WHERE (bucket_start, user_role) IN (SELECT * FROM unnest($1::int8[], $2::text[])) ORDER BY bucket_start, user_role FOR UPDATE`,
    [deltas.map((delta) => delta.bucket), deltas.map((delta) => delta.role)],
  );
  const byKey = new Map(deltas.map((delta) => [`${delta.bucket}:${delta.role}`, delta]));
  const keep: Array<[number, string, Buffer]> = [];
  const remove: Array<[number, string]> = [];
  for (const row of rows) {
    const delta = byKey.get(`${row.bucket_start}:${row.user_role}`)!;
    const left = subtractHistogram(row.response_histogram, encodeHistogram(delta.bins));
    if (left.length === 0) remove.push([row.bucket_start, row.user_role]);
    else keep.push([row.bucket_start, row.user_role, left]);
  }
  if (keep.length > 0) {
    await client.query(
      `UPDATE ${table} AS t SET response_histogram = u.h FROM unnest($1::int8[], $2::text[], $3::bytea[]) AS u(b, ro, h) WHERE t.bucket_start = u.b AND t.user_role = u.ro`,
      [keep.map((entry) => entry[0]), keep.map((entry) => entry[1]), keep.map((entry) => entry[2])],
    );
  }
  if (remove.length > 0) {
    await client.query(`DELETE FROM ${table} WHERE (bucket_start, user_role) IN (SELECT * FROM unnest($1::int8[], $2::text[]))`, [
      remove.map((entry) => entry[0]),
      remove.map((entry) => entry[1]),
    ]);
  }
}
