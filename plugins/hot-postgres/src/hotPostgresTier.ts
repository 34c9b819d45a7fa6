import type { Pool } from 'pg';
import {
  DiskFullError,
  StorageError,
  StrataError,
  describeError,
  type InsightsProvider,
  type Interaction,
  type InteractionQuery,
  type JobLock,
  type Metric,
  type MonthKey,
  type Page,
  type Report,
  type ReportQuery,
  type RetentionPolicyRecord,
  type ScanOptions,
  type SessionErasureContext,
  type StorageTier,
  type TierHealth,
  type TimeRange,
  type WriteResult,
  ValidationError,
} from '@strata/core';
import { DEFAULT_CONVERSION_DEPTH, buildReport } from '@strata/hot-sqlite';
import { PgBatchWriter, PgMetricWriter } from './batchWriter.js';
import { PgInsights } from './insights.js';
import { fromRow, withoutNulText, type InteractionRow } from './interactionRows.js';
import { PgJobLock } from './jobLock.js';
import { HOT_POSTGRES_MIGRATIONS } from './migrations.js';
import { PartitionManager, monthBounds, monthIndexOf, monthIndexOfKey, monthLabel } from './partitions.js';
import { NAME, connectionError, createClient, createPool, describeTarget, loadPg, type ConnectionSettings, type PgModule, type PgTarget } from './pgConnection.js';
import { RollupWriter } from './rollupWriter.js';
import { migrateSchema } from './schemaMigrator.js';
import { eraseSessionWithRollups } from './sessionErasure.js';
import { SCHEMA_NAME_PATTERN, StatementNames, qualifier, type Qualify } from './sqlNames.js';
import * as lifecycle from './tierLifecycle.js';
import { inTransaction } from './transactions.js';

/** The part of pg's Pool the tier exposes (typed here so users need no @types/pg). */
export interface PgQueryable {
  query<Row = Record<string, unknown>>(text: string, values?: unknown[]): Promise<{ rows: Row[]; rowCount: number | null }>;
}

export interface HotPostgresTierOptions {
  /** `postgres://user:password@host:5432/database`. */
  connectionString: string;
  /** Schema holding every table of the tier; created on first open. Default `strata`. */
  schema?: string;
  /** Most pooled connections. Default 10. */
  poolSize?: number;
  /** Longest one statement may run, in ms (0: no limit). Default 30,000. Maintenance lifts it for its own transactions. */
  statementTimeoutMs?: number;
  /** How long to wait for a connection to the server, in ms. Default 10,000. */
  connectTimeoutMs?: number;
  /** A session counts as converted once it has this many queries or reaches this conversation turn. Default 3. */
  conversionDepth?: number;
  /** Monthly partitions created ahead of the current month at open. Default 2. */
  partitionMonthsAhead?: number;
  now?: () => number;
  /** Where errors of idle pooled connections go (a server restart); default: ignored until the next query reports it. */
  onError?: (error: Error) => void;
}

const MAX_PAGE = 10_000;
const DEFAULT_PAGE = 1_000;
const DELETE_CHUNK = 5_000;

/**
 * The hot tier on PostgreSQL: hot-sqlite's schema, rollups, insights and semantics, for many
 * processes writing at once. Interactions are partitioned by month; each batch is one transaction
 * holding the raw rows and every rollup (see batchWriter.ts); the insights API reads rollups only.
 */
export class HotPostgresTier implements StorageTier {
  readonly name = NAME;
  readonly role = 'hot' as const;
  readonly schema: string;
  /** The dashboard questions, from rollups only. */
  readonly insights: InsightsProvider;
  private readonly pgInsights: PgInsights;
  private readonly q: Qualify;
  private readonly names = new StatementNames();
  private readonly partitions: PartitionManager;
  private readonly writer: PgBatchWriter;
  private readonly metricWriter: PgMetricWriter;
  private readonly rollups: RollupWriter;
  private readonly now: () => number;
  private closed = false;
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly pg: PgModule,
    private readonly connectionPool: Pool,
    private readonly settings: ConnectionSettings,
    private readonly target: PgTarget,
    schema: string,
    private readonly conversionDepth: number,
    now: () => number,
    private readonly onError: (error: Error) => void,
  ) {
    this.schema = schema;
    this.now = now;
    this.q = qualifier(schema);
    this.partitions = new PartitionManager(connectionPool, schema, this.q);
    this.rollups = new RollupWriter(this.q, this.names);
    this.writer = new PgBatchWriter(connectionPool, this.q, this.names, this.partitions, this.rollups, conversionDepth);
    this.metricWriter = new PgMetricWriter(connectionPool, this.q, this.names);
    this.pgInsights = new PgInsights(connectionPool, this.q, this.names, now, () => this.assertOpen());
    this.insights = this.pgInsights;
  }

  /**
   * Connects (loading `pg` now, not before), creates and migrates the schema under an advisory lock
   * (several processes may open at once), and creates the partitions of this month and the next ones.
   */
  static async open(options: HotPostgresTierOptions): Promise<HotPostgresTier> {
    const schema = options.schema ?? 'strata';
    if (!SCHEMA_NAME_PATTERN.test(schema)) {
      throw new StorageError(`${NAME}: schema ${JSON.stringify(schema)} is not a plain name; use lower-case letters, digits and underscores, starting with a letter or underscore (at most 63)`);
    }
    const settings: ConnectionSettings = {
      connectionString: options.connectionString,
      poolSize: options.poolSize ?? 10,
      statementTimeoutMs: options.statementTimeoutMs ?? 30_000,
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
    };
    const target = describeTarget(options.connectionString);
    const now = options.now ?? Date.now;
    const onError = options.onError ?? (() => undefined);
    const pg = await loadPg();
    // Migrations run on a connection of their own, without the statement timeout: a migration on a
    // large table may take long, and the advisory lock they hold belongs to this session.
    const migrator = createClient(pg, { ...settings, statementTimeoutMs: 0 });
    migrator.on('error', onError);
    try {
      await migrator.connect();
    } catch (error) {
      await migrator.end().catch(() => undefined);
      throw connectionError(error, target);
    }
    try {
      await migrateSchema(migrator, schema, HOT_POSTGRES_MIGRATIONS, now());
    } catch (error) {
      if (error instanceof StrataError) throw error;
      throw new StorageError(`${NAME}: cannot prepare schema "${schema}" on ${target.host}:${target.port}/${target.database}: ${describeError(error)}`, { cause: error });
    } finally {
      await migrator.end().catch(() => undefined);
    }
    const pool = createPool(pg, settings, onError);
    const tier = new HotPostgresTier(pg, pool, settings, target, schema, options.conversionDepth ?? DEFAULT_CONVERSION_DEPTH, now, onError);
    try {
      const current = monthIndexOf(now());
      const ahead = Math.max(0, Math.trunc(options.partitionMonthsAhead ?? 2));
      await tier.partitions.ensure(Array.from({ length: ahead + 1 }, (_, index) => current + index));
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw tier.wrapError(error, 'creating the partitions of this month and the next');
    }
    return tier;
  }

  /**
   * The connection pool (pg's Pool), for plugins that extend this tier's schema and for checks.
   * Tables live in the tier's schema: qualify them (`"strata".user_interactions`).
   */
  get pool(): PgQueryable {
    this.assertOpen();
    return this.connectionPool as unknown as PgQueryable;
  }

  /** A job lock backed by this server's advisory locks, scoped to this tier's schema. */
  jobLock(): JobLock {
    return new PgJobLock(this.schema, async () => {
      const client = createClient(this.pg, { ...this.settings, statementTimeoutMs: 0 });
      // A lock connection lost while its job runs (a server restart) also ends the lock: say so rather than crash.
      client.on('error', (error) => this.onError(new Error(`${NAME}: a job lock's connection failed (the lock is released with it): ${describeError(error)}`)));
      try {
        await client.connect();
      } catch (error) {
        await client.end().catch(() => undefined);
        throw connectionError(error, this.target);
      }
      return client;
    });
  }

  async writeInteractions(batch: readonly Interaction[]): Promise<WriteResult> {
    this.assertOpen();
    if (batch.length === 0) return { inserted: 0, duplicates: 0, duplicateIds: [] };
    let duplicateIds: string[];
    try {
      duplicateIds = await this.writer.write(batch, this.now());
    } catch (error) {
      throw this.wrapError(error, `writing ${batch.length} interaction(s)`);
    }
    return { inserted: batch.length - duplicateIds.length, duplicates: duplicateIds.length, duplicateIds };
  }

  async writeMetrics(batch: readonly Metric[]): Promise<number> {
    this.assertOpen();
    if (batch.length === 0) return 0;
    try {
      return await this.metricWriter.write(batch, this.now());
    } catch (error) {
      throw this.wrapError(error, `writing ${batch.length} metric sample(s)`);
    }
  }

  async queryInteractions(query: InteractionQuery): Promise<Page<Interaction>> {
    this.assertOpen();
    const limit = Math.min(Math.max(1, Math.trunc(query.limit ?? DEFAULT_PAGE)), MAX_PAGE);
    const after = query.cursor ? decodeCursor(query.cursor) : undefined;
    const rows = await this.page(query, after, limit + 1);
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    return { items: items.map(fromRow), nextCursor: rows.length > limit && last ? encodeCursor(last.timestamp, last.id) : null };
  }

  async *scanInteractions(range: TimeRange, options: ScanOptions = {}): AsyncIterable<Interaction[]> {
    const batchSize = Math.max(1, Math.trunc(options.batchSize ?? 1_000));
    let after: { timestamp: number; id: number } | undefined;
    while (!options.signal?.aborted) {
      this.assertOpen();
      const rows = await this.page({ range }, after, batchSize);
      if (rows.length === 0) return;
      const last = rows[rows.length - 1]!;
      after = { timestamp: last.timestamp, id: last.id };
      yield rows.map(fromRow);
      if (rows.length < batchSize) return;
    }
  }

  async latestTimestamp(): Promise<number | null> {
    this.assertOpen();
    const { rows } = await this.run<{ latest: string | number | null }>(`SELECT MAX(timestamp) AS latest FROM ${this.q('user_interactions')}`, [], 'reading the newest timestamp');
    const latest = rows[0]?.latest;
    return latest === null || latest === undefined ? null : Number(latest);
  }

  async countInteractions(range: TimeRange = {}): Promise<number> {
    this.assertOpen();
    const filter = this.filterSql({ range });
    const { rows } = await this.run<{ n: number }>(`SELECT COUNT(*)::int8 AS n FROM ${this.q('user_interactions')} WHERE ${filter.where}`, filter.params, 'counting interactions');
    return rows[0]?.n ?? 0;
  }

  /**
   * Deletes every interaction in the range: months that lie wholly inside it are dropped as whole
   * partitions (with their event ids), the rows at the edges are deleted in chunks. Rollups stay.
   */
  async deleteInteractions(range: TimeRange): Promise<number> {
    this.assertOpen();
    const from = range.from ?? Number.NEGATIVE_INFINITY;
    const to = range.to ?? Number.POSITIVE_INFINITY;
    let total = 0;
    try {
      for (const month of await this.partitions.list()) {
        const bounds = monthBounds(month);
        if (bounds.from >= from && bounds.to <= to) total += await this.partitions.drop(month);
      }
    } catch (error) {
      throw this.wrapError(error, 'dropping whole months of interactions');
    }
    const filter = this.filterSql({ range });
    const sql = `WITH doomed AS (SELECT id, timestamp FROM ${this.q('user_interactions')} WHERE ${filter.where} LIMIT ${DELETE_CHUNK}),
      gone AS (DELETE FROM ${this.q('user_interactions')} u USING doomed d WHERE u.id = d.id AND u.timestamp = d.timestamp RETURNING u.event_id),
      ids AS (DELETE FROM ${this.q('interaction_ids')} i USING gone g WHERE i.event_id = g.event_id)
      SELECT COUNT(*)::int8 AS n FROM gone`;
    // Chunks keep each transaction short, so writers are never held up for long.
    for (;;) {
      let removed: number;
      try {
        removed = await inTransaction(this.connectionPool, async (client) => (await client.query<{ n: number }>({ ...this.names.get(sql), values: filter.params })).rows[0]?.n ?? 0);
      } catch (error) {
        throw this.wrapError(error, 'deleting interactions');
      }
      total += removed;
      if (removed < DELETE_CHUNK) return total;
      this.assertOpen();
    }
  }

  /** Drops the partitions of every month before `month` (YYYY-MM) with their rows and event ids; returns rows removed. */
  async dropPartitionsBefore(month: MonthKey): Promise<number> {
    this.assertOpen();
    const limit = monthIndexOfKey(month);
    let total = 0;
    try {
      for (const existing of await this.partitions.list()) if (existing < limit) total += await this.partitions.drop(existing);
    } catch (error) {
      throw this.wrapError(error, `dropping the partitions before ${month}`);
    }
    return total;
  }

  /** The months that have a partition, oldest first. */
  async partitionMonths(): Promise<MonthKey[]> {
    this.assertOpen();
    return (await this.partitions.list()).map(monthLabel);
  }

  async deleteEvents(eventIds: readonly string[]): Promise<number> {
    this.assertOpen();
    const sql = `WITH gone_ids AS (DELETE FROM ${this.q('interaction_ids')} WHERE event_id = ANY($1::text[]) RETURNING event_id, timestamp),
      gone AS (DELETE FROM ${this.q('user_interactions')} u USING gone_ids g WHERE u.timestamp = g.timestamp AND u.event_id = g.event_id RETURNING 1)
      SELECT COUNT(*)::int8 AS n FROM gone`;
    let total = 0;
    for (let start = 0; start < eventIds.length; start += DELETE_CHUNK) {
      this.assertOpen();
      const chunk = eventIds.slice(start, start + DELETE_CHUNK).map(withoutNulText);
      try {
        total += await inTransaction(this.connectionPool, async (client) => (await client.query<{ n: number }>({ ...this.names.get(sql), values: [chunk] })).rows[0]?.n ?? 0);
      } catch (error) {
        throw this.wrapError(error, 'deleting interactions by event id');
      }
    }
    return total;
  }

  /** Erases the session: its interactions, its `session_analytics` row and its contribution to every rollup, in one transaction. */
  async eraseSession(sessionId: string, context: SessionErasureContext = {}): Promise<number> {
    this.assertOpen();
    try {
      return await eraseSessionWithRollups(
        { pool: this.connectionPool, q: this.q, partitions: this.partitions, rollups: this.rollups, conversionDepth: this.conversionDepth },
        withoutNulText(sessionId),
        context.archived ?? [],
      );
    } catch (error) {
      throw this.wrapError(error, 'erasing a session');
    }
  }

  /**
   * Deletes the session rows inactive since before `lastActivityBefore`, walking the key in order,
   * 5,000 rows to a statement. A writer merging a late event into one of them holds its row lock,
   * so the delete waits, then finds it active again and leaves it.
   */
  async expireSessions(lastActivityBefore: number): Promise<number> {
    this.assertOpen();
    if (!Number.isFinite(lastActivityBefore)) throw new StorageError(`${NAME}: expireSessions(lastActivityBefore) needs epoch ms, got ${String(lastActivityBefore)}`);
    const table = this.q('session_analytics');
    const sql = `WITH page AS (SELECT session_id FROM ${table} WHERE session_id > $1 AND last_activity < $2 ORDER BY session_id LIMIT ${DELETE_CHUNK}),
      removed AS (DELETE FROM ${table} t USING page WHERE t.session_id = page.session_id AND t.last_activity < $2 RETURNING t.session_id)
      SELECT (SELECT MAX(session_id) FROM page) AS last, (SELECT COUNT(*) FROM page)::int AS read, (SELECT COUNT(*) FROM removed)::int AS removed`;
    let after = '';
    let total = 0;
    for (;;) {
      let result: { last: string | null; read: number; removed: number };
      try {
        result = (await this.connectionPool.query<{ last: string | null; read: number; removed: number }>({ ...this.names.get(sql), values: [after, lastActivityBefore] })).rows[0]!;
      } catch (error) {
        throw this.wrapError(error, 'expiring sessions');
      }
      total += result.removed;
      if (result.read < DELETE_CHUNK || result.last === null) return total;
      after = result.last;
      this.assertOpen();
    }
  }

  async deleteMetrics(range: TimeRange): Promise<number> {
    this.assertOpen();
    const filter = this.filterSql({ range });
    const table = this.q('system_performance');
    const sql = `DELETE FROM ${table} WHERE id IN (SELECT id FROM ${table} WHERE ${filter.where} LIMIT ${DELETE_CHUNK})`;
    let total = 0;
    for (;;) {
      let removed: number;
      try {
        removed = (await this.connectionPool.query({ ...this.names.get(sql), values: filter.params })).rowCount ?? 0;
      } catch (error) {
        throw this.wrapError(error, 'deleting metric samples');
      }
      total += removed;
      if (removed < DELETE_CHUNK) return total;
      this.assertOpen();
    }
  }

  async pruneDetailedRollups(before: number): Promise<number> {
    this.assertOpen();
    try {
      return await lifecycle.pruneDetailedRollups(this.connectionPool, this.q, before);
    } catch (error) {
      throw this.wrapError(error, 'pruning detailed rollups');
    }
  }

  async retentionPolicies(): Promise<RetentionPolicyRecord[]> {
    this.assertOpen();
    try {
      return await lifecycle.readRetentionPolicies(this.connectionPool, this.q);
    } catch (error) {
      throw this.wrapError(error, 'reading retention policies');
    }
  }

  async saveRetentionPolicies(policies: readonly RetentionPolicyRecord[]): Promise<void> {
    this.assertOpen();
    try {
      await lifecycle.saveRetentionPolicies(this.connectionPool, this.q, policies, this.now());
    } catch (error) {
      throw this.wrapError(error, 'saving retention policies');
    }
  }

  async markRetentionCleanup(table: string, at: number): Promise<void> {
    this.assertOpen();
    try {
      await lifecycle.markRetentionCleanup(this.connectionPool, this.q, table, at);
    } catch (error) {
      throw this.wrapError(error, 'recording a retention cleanup');
    }
  }

  async report(query: ReportQuery = {}): Promise<Report> {
    this.assertOpen();
    return buildReport(this.pgInsights.reader, (top) => this.pgInsights.commonQuestions(top), query, this.now());
  }

  async health(): Promise<TierHealth> {
    const where = { host: this.target.host, port: this.target.port, database: this.target.database, schema: this.schema };
    if (this.closed) return { ok: false, details: where, problem: 'closed' };
    try {
      const { rows } = await this.connectionPool.query<{
        server_version: string;
        bytes: number;
        schema_bytes: number;
        schema_version: number | null;
        partitions: number;
        rows_estimate: number;
      }>(
        `SELECT current_setting('server_version') AS server_version,
                pg_database_size(current_database()) AS bytes,
                (SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0)::int8 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                  WHERE n.nspname = $1 AND c.relkind = 'r') AS schema_bytes,
                (SELECT MAX(version) FROM ${this.q('schema_migrations')}) AS schema_version,
                (SELECT COUNT(*)::int8 FROM pg_inherits i WHERE i.inhparent = to_regclass($2)) AS partitions,
                (SELECT COALESCE(SUM(GREATEST(c.reltuples, 0)), 0)::int8 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                  WHERE i.inhparent = to_regclass($2)) AS rows_estimate`,
        [this.schema, this.q('user_interactions')],
      );
      const row = rows[0]!;
      return {
        ok: true,
        details: {
          ...where,
          serverVersion: row.server_version,
          // The whole database, as the system monitor sums tier sizes; `schemaBytes` is this tier's share.
          bytes: row.bytes,
          schemaBytes: row.schema_bytes,
          schemaVersion: row.schema_version,
          partitions: row.partitions,
          // From the planner's statistics: an exact count would scan every partition.
          rowsEstimate: row.rows_estimate,
          pool: { total: this.connectionPool.totalCount, idle: this.connectionPool.idleCount, waiting: this.connectionPool.waitingCount },
        },
      };
    } catch (error) {
      return { ok: false, details: where, problem: describeError(this.wrapError(error, 'checking health')) };
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.closing ??= this.connectionPool.end().catch(() => undefined);
    await this.closing;
  }

  private assertOpen(): void {
    if (this.closed) throw new StorageError(`${NAME}: schema "${this.schema}" on ${this.target.host}:${this.target.port}/${this.target.database} is closed`);
  }

  private async page(query: InteractionQuery, after: { timestamp: number; id: number } | undefined, limit: number): Promise<InteractionRow[]> {
    const filter = this.filterSql(query, after);
    const { rows } = await this.run<InteractionRow>(
      `SELECT * FROM ${this.q('user_interactions')} WHERE ${filter.where} ORDER BY timestamp, id LIMIT $${filter.params.length + 1}`,
      [...filter.params, limit],
      'reading interactions',
    );
    return rows;
  }

  private async run<Row extends object>(sql: string, values: unknown[], what: string) {
    try {
      return await this.connectionPool.query<Row>({ ...this.names.get(sql), values });
    } catch (error) {
      throw this.wrapError(error, what);
    }
  }

  /** WHERE clause and parameters for a filter; the clause text depends only on which filters are set, so its statement is prepared once. */
  private filterSql(query: InteractionQuery, after?: { timestamp: number; id: number }): { where: string; params: unknown[] } {
    const clauses: string[] = [];
    const params: unknown[] = [];
    const add = (clause: (index: number) => string, ...values: unknown[]) => {
      clauses.push(clause(params.length + 1));
      params.push(...values);
    };
    const range = query.range ?? {};
    if (range.from !== undefined) add((n) => `timestamp >= $${n}`, range.from);
    if (range.to !== undefined) add((n) => `timestamp < $${n}`, range.to);
    // Text is stored with U+0000 as U+FFFD (see interactionRows.ts): filters look for it the same way.
    if (query.userRole !== undefined) add((n) => `user_role = $${n}`, withoutNulText(query.userRole));
    if (query.queryType !== undefined) add((n) => `query_type = $${n}`, withoutNulText(query.queryType));
    if (query.sessionId !== undefined) add((n) => `session_id = $${n}`, withoutNulText(query.sessionId));
    if (after) add((n) => `(timestamp, id) > ($${n}, $${n + 1})`, after.timestamp, after.id);
    return { where: clauses.length ? clauses.join(' AND ') : 'true', params };
  }

  /** `what` completes "while …": `writing 10 interaction(s)`, `deleting interactions`. */
  private wrapError(error: unknown, what: string): StrataError {
    if (error instanceof StrataError) return error;
    const code = (error as { code?: string }).code ?? '';
    const where = `${this.target.host}:${this.target.port}/${this.target.database}`;
    if (code === '53100') {
      return new DiskFullError(where, `${NAME}: the PostgreSQL server's disk is full while ${what} (schema "${this.schema}" on ${where}); nothing of this batch was stored; free space on the server and the events will be retried`, { cause: error });
    }
    if (code === '25006') {
      return new StorageError(`${NAME}: ${where} is read-only while ${what} (a standby, or default_transaction_read_only); point connectionString at the primary`, { cause: error });
    }
    if (code === '57014') {
      return new StorageError(`${NAME}: a statement ran longer than statementTimeoutMs (${this.settings.statementTimeoutMs} ms) while ${what}; raise statementTimeoutMs or look for locks held by other sessions`, { cause: error });
    }
    if (code.startsWith('08') || code === '57P01' || code === '57P03' || ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND'].includes(code) || /Connection terminated|connection timeout/i.test(describeError(error))) {
      const reached = connectionError(error, this.target);
      return new StorageError(`${reached.message} (while ${what})`, { cause: error });
    }
    return new StorageError(`${NAME}: failed ${what} in schema "${this.schema}" on ${where}: ${describeError(error)}`, { cause: error });
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
