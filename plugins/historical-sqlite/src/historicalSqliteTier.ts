import { mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import {
  StorageError,
  describeError,
  type Interaction,
  type InteractionQuery,
  type Page,
  type ScanOptions,
  type SessionErasureContext,
  type StorageTier,
  type TierBackup,
  type TierHealth,
  type TimeRange,
  type WriteResult,
} from '@strata/core';
import { SchemaMigrator } from '@strata/hot-sqlite';
import { prepareBaselineReader, type BaselineQuery, type PerformanceBaseline } from './baselines.js';
import { prepareBusinessDaysReader, type BusinessDaysQuery, type WarmBusinessDay } from './businessDays.js';
import { wrapWriteError } from './errors.js';
import { HISTORICAL_SQLITE_MIGRATIONS } from './migrations.js';
import { SqliteMonthlyAggregates } from './monthlyAggregates.js';
import { HistoricalSqliteInsights } from './warmInsights.js';
import { WriteLock } from './writeLock.js';

export type SynchronousMode = 'NORMAL' | 'FULL';

export interface HistoricalSqliteTierOptions {
  /** Absolute path of the database file. */
  file: string;
  /** NORMAL: an applied source survives a process crash. FULL: it also survives power loss. Default NORMAL. */
  synchronous?: SynchronousMode;
  /** How long a write waits for another connection's lock before failing, in ms. Default 5000. */
  busyTimeoutMs?: number;
  /** The clock for ledger times. Default Date.now. */
  now?: () => number;
}

const NAME = 'historical-sqlite';
/** Pages copied per step of an online backup; between steps the event loop runs. */
const BACKUP_PAGES_PER_STEP = 256;

/**
 * The warm tier on one SQLite file (`analytics/historical_metrics.db`): monthly aggregates fed by
 * retention from verified archive partitions, permanent daily business metrics and monthly
 * performance baselines. It holds no raw interactions: reads of raw rows find none, and writes of
 * raw rows are refused (see `writeInteractions`).
 *
 * Two connections: one writes, under a lock that runs writes one at a time, the other reads; WAL
 * lets every read see the last committed state while a source is being written in slices.
 */
export class HistoricalSqliteTier implements StorageTier {
  readonly name = NAME;
  readonly role = 'warm' as const;
  readonly file: string;
  /** The monthly aggregates retention feeds (the `MonthlyAggregateStore` contract). */
  readonly aggregates: SqliteMonthlyAggregates;
  /** Common questions, content effectiveness and trending over whole months. */
  readonly insights: HistoricalSqliteInsights;
  private readonly writer: Database.Database;
  private readonly reader: Database.Database;
  private readonly lock = new WriteLock();
  private readonly readBaselines: (query: BaselineQuery) => PerformanceBaseline[];
  private readonly readBusinessDays: (query: BusinessDaysQuery) => WarmBusinessDay[];
  private closing: Promise<void> | undefined;

  private constructor(options: HistoricalSqliteTierOptions) {
    this.file = options.file;
    const now = options.now ?? Date.now;
    const timeout = options.busyTimeoutMs ?? 5_000;
    this.writer = openConnection(options.file, timeout);
    try {
      this.writer.pragma('journal_mode = WAL');
      this.writer.pragma(`synchronous = ${options.synchronous ?? 'NORMAL'}`);
      migrate(this.writer, options.file, now());
      this.reader = openConnection(options.file, timeout);
    } catch (error) {
      this.writer.close();
      if (error instanceof StorageError) throw error;
      throw new StorageError(`${NAME}: cannot prepare ${options.file}: ${describeError(error)}`, { cause: error });
    }
    // The reading connection never writes; saying so turns a mistake into an error, not a second writer.
    this.reader.pragma('query_only = ON');
    const assertOpen = () => this.assertOpen();
    this.aggregates = new SqliteMonthlyAggregates({ file: this.file, reader: this.reader, writer: this.writer, lock: this.lock, now, assertOpen });
    this.insights = new HistoricalSqliteInsights(this.reader, assertOpen);
    this.readBaselines = prepareBaselineReader(this.reader);
    this.readBusinessDays = prepareBusinessDaysReader(this.reader);
  }

  /** Opens (creating and migrating when needed) the database file. */
  static open(options: HistoricalSqliteTierOptions): HistoricalSqliteTier {
    return new HistoricalSqliteTier(options);
  }

  /** The writing connection, for plugins that extend this tier's schema (and for tests that limit its size). */
  get database(): Database.Database {
    this.assertOpen();
    return this.writer;
  }

  /**
   * Refused: the warm tier is fed only through `aggregates.addRows(sourceId, rows)`, whose ledger
   * makes every source count once. Aggregating a batch with no source to record would count a
   * retried batch twice.
   */
  async writeInteractions(batch: readonly Interaction[]): Promise<WriteResult> {
    this.assertOpen();
    throw new StorageError(
      `${NAME}: the warm tier keeps monthly aggregates, not raw interactions, and is fed by the retention job through aggregates.addRows(partitionId, rows); write the ${batch.length} interaction(s) to the hot tier`,
    );
  }

  /** No raw rows are kept here: always an empty page. */
  async queryInteractions(_query: InteractionQuery): Promise<Page<Interaction>> {
    this.assertOpen();
    return { items: [], nextCursor: null };
  }

  /** No raw rows are kept here: yields nothing. */
  async *scanInteractions(_range: TimeRange, _options?: ScanOptions): AsyncIterable<Interaction[]> {
    this.assertOpen();
  }

  async countInteractions(_range?: TimeRange): Promise<number> {
    this.assertOpen();
    return 0;
  }

  /**
   * No raw rows of the session are kept here, but the monthly aggregates count its archived rows:
   * erasure passes them (`context.archived`, read from the cold tier first) and their contribution
   * is taken back out, so a question only the subject asked leaves `questions_monthly` with its
   * text. Returns the aggregate rows deleted (left with no uses).
   */
  async eraseSession(sessionId: string, context: SessionErasureContext = {}): Promise<number> {
    this.assertOpen();
    const rows = (context.archived ?? []).filter((row) => row.sessionId === sessionId);
    if (rows.length === 0) return 0;
    return (await this.aggregates.subtractRows(rows)).deleted;
  }

  /** No raw rows to delete; aggregates leave by whole months through `aggregates.expireBefore`. */
  async deleteInteractions(_range: TimeRange): Promise<number> {
    this.assertOpen();
    return 0;
  }

  /** Monthly performance baselines, oldest first (see `PerformanceBaseline`). */
  async baselines(query: BaselineQuery = {}): Promise<PerformanceBaseline[]> {
    this.assertOpen();
    return this.readBaselines(query);
  }

  /** The permanent daily business metrics, oldest first. */
  async businessDays(query: BusinessDaysQuery = {}): Promise<WarmBusinessDay[]> {
    this.assertOpen();
    return this.readBusinessDays(query);
  }

  /**
   * Copies the database with SQLite's online backup into `targetDir/<file name>`, a step of pages
   * at a time so the event loop keeps running. Writes wait until it ends, so the copy is one
   * consistent state; it is written under a temporary name and renamed when complete.
   */
  async backup(targetDir: string, options: { signal?: AbortSignal } = {}): Promise<TierBackup> {
    this.assertOpen();
    const name = basename(this.file);
    const target = join(targetDir, name);
    const partial = `${target}.partial`;
    try {
      mkdirSync(targetDir, { recursive: true });
      rmSync(partial, { force: true });
    } catch (error) {
      throw new StorageError(`${NAME}: cannot write a backup into ${targetDir} (${describeError(error)}); choose a writable folder`, { cause: error });
    }
    await this.lock.run(async () => {
      this.assertOpen();
      try {
        await this.reader.backup(partial, {
          progress: () => {
            options.signal?.throwIfAborted();
            return BACKUP_PAGES_PER_STEP;
          },
        });
        renameSync(partial, target);
      } catch (error) {
        rmSync(partial, { force: true });
        if (options.signal?.aborted && error === options.signal.reason) throw error;
        throw wrapWriteError(error, target, `backing up ${this.file}`, 'run the backup again');
      }
    });
    return { files: [{ path: name, restoreTo: this.file, bytes: statSync(target).size }] };
  }

  async health(): Promise<TierHealth> {
    if (this.closing) return { ok: false, details: { file: this.file }, problem: 'closed' };
    try {
      const count = (sql: string) => this.reader.prepare(sql).pluck().get() as number;
      return {
        ok: true,
        details: {
          file: this.file,
          bytes: fileSize(this.file),
          walBytes: fileSize(`${this.file}-wal`),
          schemaVersion: count('SELECT MAX(version) FROM schema_migrations'),
          months: count('SELECT COUNT(DISTINCT month) FROM interactions_monthly'),
          sources: count('SELECT COUNT(*) FROM aggregate_sources'),
          expiredBefore: this.aggregates.expiredBefore(),
          journalMode: this.writer.pragma('journal_mode', { simple: true }),
          synchronous: ['OFF', 'NORMAL', 'FULL', 'EXTRA'][this.writer.pragma('synchronous', { simple: true }) as number],
        },
      };
    } catch (error) {
      return { ok: false, details: { file: this.file }, problem: describeError(error) };
    }
  }

  /** Waits for the write in progress (a source is never cut short), then closes both connections. */
  close(): Promise<void> {
    this.closing ??= this.lock.run(async () => {
      try {
        // Fold the WAL back into the main file so a copy of the .db alone is complete.
        this.writer.pragma('wal_checkpoint(TRUNCATE)');
      } catch {
        // A checkpoint can fail while another process reads; the WAL stays valid and is replayed on open.
      }
      this.reader.close();
      this.writer.close();
    });
    return this.closing;
  }

  private assertOpen(): void {
    if (this.closing) throw new StorageError(`${NAME}: ${this.file} is closed`);
  }
}

function openConnection(file: string, timeout: number): Database.Database {
  try {
    mkdirSync(dirname(file), { recursive: true });
    return new Database(file, { timeout });
  } catch (error) {
    throw new StorageError(`${NAME}: cannot open ${file} (${describeError(error)}); set dataDir to a writable folder`, { cause: error });
  }
}

function migrate(db: Database.Database, file: string, now: number): void {
  const migrator = new SchemaMigrator(db, HISTORICAL_SQLITE_MIGRATIONS, NAME);
  const version = migrator.currentVersion();
  // Checked here so the message names this package (the shared migrator's names the hot tier's).
  if (version > HISTORICAL_SQLITE_MIGRATIONS.length) {
    throw new StorageError(
      `${NAME}: ${file} is at schema version ${version}, newer than this version of the plugin knows (${HISTORICAL_SQLITE_MIGRATIONS.length}); upgrade @strata/historical-sqlite`,
    );
  }
  migrator.migrate(now);
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
