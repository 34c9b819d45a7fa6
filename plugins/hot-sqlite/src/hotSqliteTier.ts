import { mkdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import {
  DiskFullError,
  StorageError,
  StrataError,
  describeError,
  type Interaction,
  type InteractionQuery,
  type Metric,
  type Page,
  type Report,
  type ReportQuery,
  type RetentionPolicyRecord,
  type ScanOptions,
  type StorageTier,
  type TierBackup,
  type TierHealth,
  type TimeRange,
  type WriteResult,
  type HealthOptions,
  type SessionErasureContext,
  ValidationError,
} from '@strata/core';
import { DEFAULT_CONVERSION_DEPTH, prepareBatchWriter, prepareMetricWriter, type BatchWriter, type MetricWriter } from './batchWriter.js';
import { HotSqliteInsights } from './insights.js';
import { INSERT_COLUMNS, fromRow, toInsertParams, type InteractionRow } from './interactionRows.js';
import { HOT_SQLITE_MIGRATIONS } from './migrations.js';
import { SchemaMigrator } from './schemaMigrator.js';
import { WriterThread } from './writerThread.js';
import { WAL_AUTOCHECKPOINT_PAGES } from './walSettings.js';
import { buildReport } from './reportBuilder.js';
import { StatementCache } from './statementCache.js';
import { backupSqliteFile } from './sqliteBackup.js';
import * as lifecycle from './tierLifecycle.js';
import { eraseSessionWithRollups } from './sessionErasure.js';
import { SESSION_ROWS_SQL, sessionRowsParams } from './sessionRows.js';
import { rateStoredInteraction, type RatingOutcome } from './ratingUpdate.js';

export type SynchronousMode = 'NORMAL' | 'FULL';

export interface HotSqliteTierOptions {
  /** Absolute path of the database file. */
  file: string;
  /** See the README: NORMAL survives process crashes; FULL also survives power loss. */
  synchronous?: SynchronousMode;
  /** How long a write waits for another process's lock before failing. */
  busyTimeoutMs?: number;
  /** SQLite page cache in MiB. */
  cacheSizeMb?: number;
  /** A session counts as converted once it has this many queries or reaches this conversation turn. Default 3. */
  conversionDepth?: number;
  /**
   * Where batches are written: `thread` runs each transaction on a worker thread that owns the write
   * connection, so the host's event loop never waits for SQLite; `inline` writes on the caller's
   * thread (simplest, for scripts and tests). Default `inline` here; the plugin defaults to `thread`.
   */
  writer?: 'thread' | 'inline';
  /**
   * Writer thread only: batches that queue up while it writes are committed together, up to this
   * many events per transaction (rollup rows are then written once per group). Default 10,000.
   */
  groupCommitEvents?: number;
  now?: () => number;
}

export const DEFAULT_GROUP_COMMIT_EVENTS = 10_000;

const NAME = 'hot-sqlite';
const MAX_PAGE = 10_000;
const DEFAULT_PAGE = 1_000;
const DELETE_CHUNK = 5_000;

/**
 * The hot tier on one SQLite file: WAL, prepared statements, one transaction per batch holding the
 * raw rows and every rollup (see batchWriter.ts), and the insights API answered from those rollups.
 */
export class HotSqliteTier implements StorageTier {
  readonly name = NAME;
  /**
   * The writer thread commits the batches it finds queued together, so it wants several in flight:
   * on a 1M-line ingest, 2 → 4 → 6 measured 72k → 78k → 93k events/s. Inline writes run one at a
   * time, so more in flight would only hold more events in memory.
   */
  readonly batchesInFlight: number;
  readonly role = 'hot' as const;
  readonly file: string;
  /** The dashboard questions, from rollups only. */
  readonly insights: HotSqliteInsights;
  private readonly db: Database.Database;
  private readonly now: () => number;
  private readonly writeBatch: BatchWriter | undefined;
  private readonly writeMetricBatch: MetricWriter | undefined;
  private readonly writerThread: WriterThread | undefined;
  private readonly statementCache: StatementCache;
  private readonly conversionDepth: number;
  private closed = false;

  private constructor(options: HotSqliteTierOptions) {
    this.file = options.file;
    this.now = options.now ?? Date.now;
    try {
      mkdirSync(dirname(options.file), { recursive: true });
      this.db = new Database(options.file, { timeout: options.busyTimeoutMs ?? 5_000 });
    } catch (error) {
      throw new StorageError(`${NAME}: cannot open ${options.file} (${describeError(error)}); set dataDir to a writable folder`, { cause: error });
    }
    try {
      this.db.pragma('journal_mode = WAL');
      this.db.pragma(`synchronous = ${options.synchronous ?? 'NORMAL'}`);
      this.db.pragma(`cache_size = -${(options.cacheSizeMb ?? 32) * 1024}`);
      this.db.pragma('temp_store = MEMORY');
      // Checkpoint the WAL every ~40 MB instead of SQLite's 4 MB: a tenth of the checkpoints (each an fsync)
      // during bulk ingest; durability is unchanged (the WAL is still synced at each checkpoint).
      this.db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
      this.db.pragma('foreign_keys = ON');
      new SchemaMigrator(this.db, HOT_SQLITE_MIGRATIONS, NAME).migrate(this.now());
    } catch (error) {
      this.db.close();
      if (error instanceof StorageError) throw error;
      throw new StorageError(`${NAME}: cannot prepare ${options.file}: ${describeError(error)}`, { cause: error });
    }
    const conversionDepth = options.conversionDepth ?? DEFAULT_CONVERSION_DEPTH;
    this.conversionDepth = conversionDepth;
    this.batchesInFlight = options.writer === 'thread' ? 6 : 2;
    if (options.writer === 'thread') {
      this.writerThread = new WriterThread({
        file: options.file,
        synchronous: options.synchronous ?? 'NORMAL',
        busyTimeoutMs: options.busyTimeoutMs ?? 5_000,
        cacheSizeMb: options.cacheSizeMb ?? 32,
        conversionDepth,
        groupCommitEvents: options.groupCommitEvents ?? DEFAULT_GROUP_COMMIT_EVENTS,
      });
    } else {
      this.writeBatch = prepareBatchWriter(this.db, { conversionDepth });
      this.writeMetricBatch = prepareMetricWriter(this.db);
    }
    this.statementCache = new StatementCache(this.db);
    this.insights = new HotSqliteInsights(this.db, { now: this.now, assertOpen: () => this.assertOpen() });
  }

  /** Opens (creating and migrating when needed) the database file. */
  static open(options: HotSqliteTierOptions): HotSqliteTier {
    return new HotSqliteTier(options);
  }

  /** The underlying connection, for plugins that extend this tier's schema. */
  get database(): Database.Database {
    this.assertOpen();
    return this.db;
  }

  async writeInteractions(batch: readonly Interaction[]): Promise<WriteResult> {
    this.assertOpen();
    if (batch.length === 0) return { inserted: 0, duplicates: 0, duplicateIds: [] };
    let duplicateIds: string[];
    try {
      duplicateIds = this.writerThread ? await this.writerThread.write(batch, this.now()) : this.writeBatch!(batch, this.now()).duplicateIds;
    } catch (error) {
      throw this.wrapWriteError(error, `writing ${batch.length} interaction(s)`);
    }
    return { inserted: batch.length - duplicateIds.length, duplicates: duplicateIds.length, duplicateIds };
  }

  async restoreInteractions(batch: readonly Interaction[]): Promise<WriteResult> {
    this.assertOpen();
    if (batch.length === 0) return { inserted: 0, duplicates: 0, duplicateIds: [] };
    const insert = this.statement(
      'restore-row',
      `INSERT INTO user_interactions (${INSERT_COLUMNS.join(', ')}) VALUES (${INSERT_COLUMNS.map(() => '?').join(', ')}) ON CONFLICT (event_id) DO NOTHING`,
    );
    const createdAt = this.now();
    try {
      // Raw rows only, in one transaction: the rollups never stopped counting these events.
      const duplicateIds = this.db
        .transaction(() => batch.filter((event) => insert.run(toInsertParams(event, createdAt)).changes === 0).map((event) => event.eventId))
        .immediate();
      return { inserted: batch.length - duplicateIds.length, duplicates: duplicateIds.length, duplicateIds };
    } catch (error) {
      throw this.wrapWriteError(error, `restoring ${batch.length} archived interaction(s)`);
    }
  }

  async writeMetrics(batch: readonly Metric[]): Promise<number> {
    this.assertOpen();
    if (batch.length === 0) return 0;
    try {
      return this.writerThread ? await this.writerThread.writeMetrics(batch, this.now()) : this.writeMetricBatch!(batch, this.now());
    } catch (error) {
      throw this.wrapWriteError(error, `writing ${batch.length} metric sample(s)`);
    }
  }

  async queryInteractions(query: InteractionQuery): Promise<Page<Interaction>> {
    this.assertOpen();
    const limit = Math.min(Math.max(1, Math.trunc(query.limit ?? DEFAULT_PAGE)), MAX_PAGE);
    const after = query.cursor ? decodeCursor(query.cursor) : undefined;
    const filter = this.filterSql(query, after);
    const rows = this.statement(`page:${filter.key}`, `SELECT * FROM user_interactions WHERE ${filter.where} ORDER BY timestamp, id LIMIT ?`).all(
      ...filter.params,
      limit + 1,
    ) as InteractionRow[];
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    return { items: items.map(fromRow), nextCursor: rows.length > limit && last ? encodeCursor(last.timestamp, last.id) : null };
  }

  async *scanInteractions(range: TimeRange, options: ScanOptions = {}): AsyncIterable<Interaction[]> {
    const batchSize = Math.max(1, Math.trunc(options.batchSize ?? 1_000));
    let after: { timestamp: number; id: number } | undefined;
    while (!options.signal?.aborted) {
      this.assertOpen();
      const filter = this.filterSql({ range }, after);
      const rows = this.statement(`page:${filter.key}`, `SELECT * FROM user_interactions WHERE ${filter.where} ORDER BY timestamp, id LIMIT ?`).all(
        ...filter.params,
        batchSize,
      ) as InteractionRow[];
      if (rows.length === 0) return;
      const last = rows[rows.length - 1]!;
      after = { timestamp: last.timestamp, id: last.id };
      yield rows.map(fromRow);
      if (rows.length < batchSize) return;
    }
  }

  async latestTimestamp(): Promise<number | null> {
    this.assertOpen();
    // The timestamp index answers MAX without reading the table.
    const row = this.statement('latest-timestamp', 'SELECT MAX(timestamp) AS latest FROM user_interactions').get() as { latest: number | null };
    return row.latest;
  }

  async countInteractions(range: TimeRange = {}): Promise<number> {
    this.assertOpen();
    const filter = this.filterSql({ range });
    const row = this.statement(`count:${filter.key}`, `SELECT COUNT(*) AS n FROM user_interactions WHERE ${filter.where}`).get(...filter.params) as { n: number };
    return row.n;
  }

  async deleteInteractions(range: TimeRange): Promise<number> {
    return this.deleteRangeInChunks('user_interactions', range, 'deleting interactions');
  }


  async deleteEvents(eventIds: readonly string[]): Promise<number> {
    this.assertOpen();
    const remove = this.statement(
      'delete-events',
      'DELETE FROM user_interactions WHERE event_id IN (SELECT value FROM json_each(?))',
    );
    let total = 0;
    // Chunks keep each write transaction short, so ingest is never locked out for long.
    for (let start = 0; start < eventIds.length; start += DELETE_CHUNK) {
      if (start > 0) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        this.assertOpen();
      }
      try {
        total += remove.run(JSON.stringify(eventIds.slice(start, start + DELETE_CHUNK))).changes;
      } catch (error) {
        throw this.wrapWriteError(error, 'deleting interactions by event id');
      }
    }
    return total;
  }

  async rateInteraction(eventId: string, userRating: number | null): Promise<RatingOutcome> {
    this.assertOpen();
    try {
      return rateStoredInteraction(this.db, eventId, userRating);
    } catch (error) {
      throw this.wrapWriteError(error, 'recording a rating');
    }
  }

  /**
   * Erases the session: its interactions, its `session_analytics` row and its contribution to every
   * rollup, in one transaction (see sessionErasure.ts); returns interactions removed.
   */
  async eraseSession(sessionId: string, context: SessionErasureContext = {}): Promise<number> {
    this.assertOpen();
    try {
      return eraseSessionWithRollups(this.db, sessionId, { conversionDepth: this.conversionDepth, archived: context.archived ?? [] });
    } catch (error) {
      throw this.wrapWriteError(error, 'erasing a session');
    }
  }

  /**
   * Deletes the session rows inactive since before `lastActivityBefore`, walking the table once in
   * key order, 5,000 rows to a short transaction, so ingest is never locked out for long.
   */
  async expireSessions(lastActivityBefore: number): Promise<number> {
    this.assertOpen();
    if (!Number.isFinite(lastActivityBefore)) throw new StorageError(`${NAME}: expireSessions(lastActivityBefore) needs epoch ms, got ${String(lastActivityBefore)}`);
    const page = this.statement('sessions:expired', 'SELECT session_id FROM session_analytics WHERE session_id > ? AND last_activity < ? ORDER BY session_id LIMIT ?');
    const remove = this.statement('sessions:expire', 'DELETE FROM session_analytics WHERE session_id = ? AND last_activity < ?');
    let after = '';
    let total = 0;
    for (;;) {
      let ids: string[];
      try {
        ids = (page.all(after, lastActivityBefore, DELETE_CHUNK) as Array<{ session_id: string }>).map((row) => row.session_id);
        // A session active again since it was read is left alone (the DELETE checks again).
        total += this.db.transaction(() => ids.reduce((removed, id) => removed + remove.run(id, lastActivityBefore).changes, 0)).immediate();
      } catch (error) {
        throw this.wrapWriteError(error, 'expiring sessions');
      }
      if (ids.length < DELETE_CHUNK) return total;
      after = ids.at(-1)!;
      await new Promise<void>((resolve) => setImmediate(resolve));
      this.assertOpen();
    }
  }

  async deleteMetrics(range: TimeRange): Promise<number> {
    return this.deleteRangeInChunks('system_performance', range, 'deleting metric samples');
  }

  /** Deletes a table's rows in a time range, 5,000 at a time: short write transactions never lock ingest out for long. */
  private async deleteRangeInChunks(table: 'user_interactions' | 'system_performance', range: TimeRange, what: string): Promise<number> {
    this.assertOpen();
    const filter = this.filterSql({ range });
    const remove = this.statement(`delete:${table}:${filter.key}`, `DELETE FROM ${table} WHERE id IN (SELECT id FROM ${table} WHERE ${filter.where} LIMIT ${DELETE_CHUNK})`);
    let total = 0;
    for (;;) {
      let changes: number;
      try {
        changes = remove.run(...filter.params).changes;
      } catch (error) {
        throw this.wrapWriteError(error, what);
      }
      total += changes;
      if (changes < DELETE_CHUNK) return total;
      await new Promise<void>((resolve) => setImmediate(resolve));
      this.assertOpen();
    }
  }


  async pruneDetailedRollups(before: number): Promise<number> {
    this.assertOpen();
    try {
      return lifecycle.pruneDetailedRollups(this.db, before);
    } catch (error) {
      throw this.wrapWriteError(error, 'pruning detailed rollups');
    }
  }

  async retentionPolicies(): Promise<RetentionPolicyRecord[]> {
    this.assertOpen();
    return lifecycle.readRetentionPolicies(this.db);
  }

  async saveRetentionPolicies(policies: readonly RetentionPolicyRecord[]): Promise<void> {
    this.assertOpen();
    try {
      lifecycle.saveRetentionPolicies(this.db, policies, this.now());
    } catch (error) {
      throw this.wrapWriteError(error, 'saving retention policies');
    }
  }

  async markRetentionCleanup(table: string, at: number): Promise<void> {
    this.assertOpen();
    try {
      lifecycle.markRetentionCleanup(this.db, table, at);
    } catch (error) {
      throw this.wrapWriteError(error, 'recording a retention cleanup');
    }
  }

  /** An online copy of the database (WAL content included) as `targetDir/<file name>`, taken on a worker thread. */
  async backup(targetDir: string, options: { signal?: AbortSignal } = {}): Promise<TierBackup> {
    this.assertOpen();
    mkdirSync(targetDir, { recursive: true });
    const name = basename(this.file);
    const bytes = await backupSqliteFile(this.file, join(targetDir, name), { signal: options.signal });
    return { files: [{ path: name, restoreTo: this.file, bytes }] };
  }

  async report(query: ReportQuery = {}): Promise<Report> {
    this.assertOpen();
    return buildReport(this.insights.reader, (top) => this.insights.commonQuestions(top), query, this.now());
  }

  async health(options: HealthOptions = {}): Promise<TierHealth> {
    if (this.closed) return { ok: false, details: { file: this.file }, problem: 'closed' };
    try {
      // A count reads a whole index, synchronously on this thread: ~10 ms per million rows.
      const rows = options.quick ? undefined : (this.db.prepare('SELECT COUNT(*) AS n FROM user_interactions').get() as { n: number }).n;
      const version = (this.db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number }).v;
      return {
        ok: true,
        details: {
          file: this.file,
          bytes: fileSize(this.file),
          walBytes: fileSize(`${this.file}-wal`),
          ...(rows === undefined ? {} : { rows }),
          schemaVersion: version,
          journalMode: this.db.pragma('journal_mode', { simple: true }),
          synchronous: ['OFF', 'NORMAL', 'FULL', 'EXTRA'][this.db.pragma('synchronous', { simple: true }) as number],
        },
      };
    } catch (error) {
      return { ok: false, details: { file: this.file }, problem: describeError(error) };
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // The thread answers in order, so its close comes after every batch already posted.
    await this.writerThread?.close();
    // Fold the WAL back into the main file so a backup or copy of the .db alone is complete.
    try {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } catch {
      // A checkpoint can fail while another process reads; the WAL is still valid and replayed on open.
    }
    this.db.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new StorageError(`${NAME}: ${this.file} is closed`);
  }

  private statement(key: string, sql: string): Database.Statement {
    return this.statementCache.get(key, sql);
  }

  /** WHERE clause and parameters for a filter; `key` names its shape so the statement is prepared once. */
  private filterSql(query: InteractionQuery, after?: { timestamp: number; id: number }): { where: string; params: unknown[]; key: string } {
    const clauses: string[] = [];
    const params: unknown[] = [];
    let key = '';
    const range = query.range ?? {};
    if (range.from !== undefined) {
      clauses.push('timestamp >= ?');
      params.push(range.from);
      key += 'f';
    }
    if (range.to !== undefined) {
      clauses.push('timestamp < ?');
      params.push(range.to);
      key += 't';
    }
    if (query.userRole !== undefined) {
      clauses.push('user_role = ?');
      params.push(query.userRole);
      key += 'r';
    }
    if (query.queryType !== undefined) {
      clauses.push('query_type = ?');
      params.push(query.queryType);
      key += 'q';
    }
    if (query.sessionId !== undefined) {
      clauses.push(SESSION_ROWS_SQL);
      params.push(...sessionRowsParams(query.sessionId));
      key += 's';
    }
    if (after) {
      // The bare `timestamp >= ?` lets SQLite seek the timestamp index to the cursor; with the OR
      // alone it scans the index from its start on every page (quadratic over a full scan).
      clauses.push('timestamp >= ? AND (timestamp > ? OR id > ?)');
      params.push(after.timestamp, after.timestamp, after.id);
      key += 'a';
    }
    return { where: clauses.length ? clauses.join(' AND ') : '1', params, key };
  }

  /** `what` completes "while …": `writing 10 interaction(s)`, `deleting interactions`. */
  private wrapWriteError(error: unknown, what: string): StrataError {
    const code = (error as { code?: string }).code ?? '';
    if (code === 'SQLITE_FULL') {
      return new DiskFullError(this.file, `${NAME}: the disk (or the database size limit) is full while ${what} to ${this.file}; nothing of this batch was stored; free space and the events will be retried`, { cause: error });
    }
    if (code.startsWith('SQLITE_READONLY')) {
      return new StorageError(`${NAME}: ${this.file} is read-only while ${what}; make it writable or set dataDir to a writable folder`, { cause: error });
    }
    if (code === 'SQLITE_BUSY') {
      return new StorageError(`${NAME}: ${this.file} is locked by another process while ${what}; raise busyTimeoutMs or stop the other writer`, { cause: error });
    }
    return new StorageError(`${NAME}: failed ${what} to ${this.file}: ${describeError(error)}`, { cause: error });
  }
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

function encodeCursor(timestamp: number, id: number): string {
  return Buffer.from(JSON.stringify([timestamp, id])).toString('base64url');
}

function decodeCursor(cursor: string): { timestamp: number; id: number } {
  try {
    const [timestamp, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown];
    if (typeof timestamp === 'number' && typeof id === 'number') return { timestamp, id };
  } catch {
    // fall through to the error below
  }
  throw new ValidationError([{ path: 'cursor', message: `${NAME}: cursor ${JSON.stringify(cursor.slice(0, 40))} is not one this tier issued; pass nextCursor from a previous page` }]);
}
