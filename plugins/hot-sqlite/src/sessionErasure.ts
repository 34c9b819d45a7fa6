import Database from 'better-sqlite3';
import type { Interaction } from '@strata/core';
import { ARCHIVED_STORED_AT, archivedToReplay } from './archivedReplay.js';
import { backfillRollups } from './batchWriter.js';
import { mergeRankedCounts, type RankedCounts } from './compareText.js';
import { subtractHistogram } from './histogram.js';
import { INSERT_COLUMNS, toInsertParams, type InteractionRow } from './interactionRows.js';
import { HOT_SQLITE_MIGRATIONS } from './migrations.js';
import { SchemaMigrator } from './schemaMigrator.js';
import { SESSION_ROWS_ALL_TIME_SQL } from './sessionRows.js';

type Row = Record<string, unknown>;

const ROLLUP_TABLES = ['rollup_minute', 'rollup_hour', 'rollup_day'] as const;
const ROLLUP_SUMS = ['interactions', 'successes', 'response_us_sum', 'rating_sum', 'rating_count', 'code_snippets', 'citations', 'follow_ups'];
const SESSION_SUMS = ['sessions_started', 'sessions_converted'];
const LATENCY_TABLES = ['latency_minute', 'latency_hour', 'latency_day'] as const;
const QUERY_DAY_SUMS = ['asks', 'successes', 'response_us_sum', 'rating_sum', 'rating_count'];
const CONTENT_DAY_SUMS = ['accesses', 'successes', 'relevance_micro_sum', 'relevance_count'];

/**
 * Erases one session from the hot tier: its raw rows, its `session_analytics` row, and its
 * contribution to every rollup, in one transaction on `db`.
 *
 * The contribution is computed exactly, by replaying the session's rows through the same rollup
 * code into a scratch in-memory database (grouped by the batches they were stored in, as the
 * backfill does), then subtracted row by row. Sums, counts, histograms and role counts become what
 * they would be had the session never been stored; a rollup, question or content row left with no
 * uses is deleted, so a question only this session asked leaves no text behind. Maxima and
 * first/last times cannot be un-merged and stay as they were (they identify no one).
 * Rows of the session already archived and deleted here are no longer here to replay, yet the
 * rollups count them: erasure reads them from the archive and passes them as `archived`, and they
 * are replayed with the rest.
 */
export function eraseSessionWithRollups(db: Database.Database, sessionId: string, options: { conversionDepth: number; archived?: readonly Interaction[] }): number {
  return db
    .transaction(() => {
      const rows = db.prepare(`SELECT * FROM user_interactions WHERE ${SESSION_ROWS_ALL_TIME_SQL} ORDER BY id`).all(sessionId) as InteractionRow[];
      const archived = archivedToReplay(options.archived ?? [], sessionId, new Set(rows.map((row) => row.event_id)));
      if (rows.length > 0 || archived.length > 0) subtractContribution(db, contributionOf(rows, archived, options.conversionDepth));
      db.prepare('DELETE FROM session_analytics WHERE session_id = ?').run(sessionId);
      return db.prepare(`DELETE FROM user_interactions WHERE ${SESSION_ROWS_ALL_TIME_SQL}`).run(sessionId).changes;
    })
    .immediate();
}

/**
 * The session's rows replayed into a scratch database: its rollups are exactly the session's
 * contribution. `archived` are its rows already moved to a colder tier and deleted here, which the
 * rollups still count (rollups are history): replayed with the rest, so the session's start and
 * every question it alone asked come out right.
 */
function contributionOf(rows: readonly InteractionRow[], archived: readonly Interaction[], conversionDepth: number): Database.Database {
  const scratch = new Database(':memory:');
  try {
    new SchemaMigrator(scratch, HOT_SQLITE_MIGRATIONS, 'hot-sqlite-erasure').migrate(0);
    const insert = scratch.prepare(`INSERT INTO user_interactions (id, ${INSERT_COLUMNS.join(', ')}) VALUES (?, ${INSERT_COLUMNS.map(() => '?').join(', ')})`);
    for (const row of rows) insert.run(row.id, ...INSERT_COLUMNS.map((column) => (row as unknown as Row)[column]));
    let id = rows.reduce((max, row) => Math.max(max, row.id), 0);
    for (const event of archived) insert.run((id += 1), ...toInsertParams(event, ARCHIVED_STORED_AT));
    // Replayed batch by batch (same created_at), as they were stored, with the tier's conversion depth.
    backfillRollups(scratch, { conversionDepth });
    return scratch;
  } catch (error) {
    scratch.close();
    throw error;
  }
}

function subtractContribution(db: Database.Database, scratch: Database.Database): void {
  try {
    for (const [index, table] of ROLLUP_TABLES.entries()) {
      const sums = index === 0 ? ROLLUP_SUMS : [...ROLLUP_SUMS, ...SESSION_SUMS];
      subtractRows(db, scratch, table, ['bucket_start', 'user_role', 'query_type'], sums, index === 0 ? 'interactions = 0' : 'interactions = 0 AND sessions_started = 0');
    }
    for (const table of LATENCY_TABLES) subtractLatency(db, scratch, table);
    const queryIds = subtractQueries(db, scratch);
    subtractDaily(db, scratch, 'query_daily', 'query_ref', queryIds, [], QUERY_DAY_SUMS, 'asks');
    subtractDaily(db, scratch, 'query_daily_by_role', 'query_ref', queryIds, ['user_role'], QUERY_DAY_SUMS, 'asks');
    const contentIds = subtractContent(db, scratch);
    subtractDaily(db, scratch, 'content_daily', 'content_ref', contentIds, [], CONTENT_DAY_SUMS, 'accesses');
    subtractDaily(db, scratch, 'content_daily_by_role', 'content_ref', contentIds, ['user_role'], CONTENT_DAY_SUMS, 'accesses');
  } finally {
    scratch.close();
  }
}

function subtractRows(db: Database.Database, scratch: Database.Database, table: string, key: string[], sums: string[], emptyWhen: string): void {
  const where = key.map((column) => `${column} = ?`).join(' AND ');
  const update = db.prepare(`UPDATE ${table} SET ${sums.map((column) => `${column} = ${column} - ?`).join(', ')} WHERE ${where}`);
  const prune = db.prepare(`DELETE FROM ${table} WHERE ${where} AND ${emptyWhen}`);
  for (const row of scratch.prepare(`SELECT * FROM ${table}`).all() as Row[]) {
    const keys = key.map((column) => row[column]);
    update.run(...sums.map((column) => row[column]), ...keys);
    prune.run(...keys);
  }
}

function subtractLatency(db: Database.Database, scratch: Database.Database, table: string): void {
  const read = db.prepare(`SELECT response_histogram FROM ${table} WHERE bucket_start = ? AND user_role = ?`);
  const write = db.prepare(`UPDATE ${table} SET response_histogram = ? WHERE bucket_start = ? AND user_role = ?`);
  const remove = db.prepare(`DELETE FROM ${table} WHERE bucket_start = ? AND user_role = ?`);
  for (const row of scratch.prepare(`SELECT bucket_start, user_role, response_histogram FROM ${table}`).all() as Row[]) {
    const stored = read.get(row.bucket_start, row.user_role) as { response_histogram: Uint8Array } | undefined;
    if (!stored) continue;
    const left = subtractHistogram(stored.response_histogram, row.response_histogram as Uint8Array);
    if (left.length === 0) remove.run(row.bucket_start, row.user_role);
    else write.run(left, row.bucket_start, row.user_role);
  }
}

function negated(ranked: string): string {
  return JSON.stringify((JSON.parse(ranked) as RankedCounts).map(([key, count]) => [key, -count]));
}

/** Subtracts per-question totals; returns scratch id → stored id, for the daily rows. */
function subtractQueries(db: Database.Database, scratch: Database.Database): Map<number, number> {
  const find = db.prepare('SELECT id, popular_roles FROM query_performance WHERE query_hash = ?');
  const update = db.prepare(
    `UPDATE query_performance SET total_asks = total_asks - ?, successes = successes - ?, response_us_sum = response_us_sum - ?,
       rating_sum = rating_sum - ?, rating_count = rating_count - ?, popular_roles = ? WHERE id = ?`,
  );
  const remove = db.prepare('DELETE FROM query_performance WHERE id = ? AND total_asks <= 0');
  const ids = new Map<number, number>();
  for (const row of scratch.prepare('SELECT * FROM query_performance').all() as Row[]) {
    const stored = find.get(row.query_hash) as { id: number; popular_roles: string } | undefined;
    if (!stored) continue;
    ids.set(row.id as number, stored.id);
    update.run(row.total_asks, row.successes, row.response_us_sum, row.rating_sum, row.rating_count, mergeRankedCounts(stored.popular_roles, negated(row.popular_roles as string)), stored.id);
    remove.run(stored.id);
  }
  return ids;
}

function subtractContent(db: Database.Database, scratch: Database.Database): Map<number, number> {
  const find = db.prepare('SELECT id, user_roles_accessing FROM content_performance WHERE content_type = ? AND content_id = ?');
  const update = db.prepare(
    `UPDATE content_performance SET access_count = access_count - ?, successes = successes - ?, relevance_micro_sum = relevance_micro_sum - ?,
       relevance_count = relevance_count - ?, user_roles_accessing = ? WHERE id = ?`,
  );
  const remove = db.prepare('DELETE FROM content_performance WHERE id = ? AND access_count <= 0');
  const ids = new Map<number, number>();
  for (const row of scratch.prepare('SELECT * FROM content_performance').all() as Row[]) {
    const stored = find.get(row.content_type, row.content_id) as { id: number; user_roles_accessing: string } | undefined;
    if (!stored) continue;
    ids.set(row.id as number, stored.id);
    update.run(row.access_count, row.successes, row.relevance_micro_sum, row.relevance_count, mergeRankedCounts(stored.user_roles_accessing, negated(row.user_roles_accessing as string)), stored.id);
    remove.run(stored.id);
  }
  return ids;
}

function subtractDaily(db: Database.Database, scratch: Database.Database, table: string, refColumn: string, ids: Map<number, number>, extraKey: string[], sums: string[], countColumn: string): void {
  const key = [...extraKey, 'day', refColumn];
  const where = key.map((column) => `${column} = ?`).join(' AND ');
  const update = db.prepare(`UPDATE ${table} SET ${sums.map((column) => `${column} = ${column} - ?`).join(', ')} WHERE ${where}`);
  const prune = db.prepare(`DELETE FROM ${table} WHERE ${where} AND ${countColumn} <= 0`);
  for (const row of scratch.prepare(`SELECT * FROM ${table}`).all() as Row[]) {
    const storedRef = ids.get(row[refColumn] as number);
    if (storedRef === undefined) continue;
    const keys = [...extraKey.map((column) => row[column]), row.day, storedRef];
    update.run(...sums.map((column) => row[column]), ...keys);
    prune.run(...keys);
  }
}
