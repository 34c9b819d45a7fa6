import type Database from 'better-sqlite3';
import { StorageError, type Interaction, type MonthKey, type MonthlyAggregateStore } from '@strata/core';
import { prepareAggregateSubtractor, type SubtractedRows } from './aggregateSubtractor.js';
import { prepareAggregateWriter, type AggregateWriter } from './aggregateWriter.js';
import { wrapWriteError } from './errors.js';
import { MonthlyAggregation } from './monthlyAggregation.js';
import { checkMonth, nextMonth } from './months.js';
import { WriteLock, yieldToEventLoop } from './writeLock.js';

const NAME = 'historical-sqlite';
/** Statements run between two yields to the event loop while a source is written. */
const STATEMENTS_PER_SLICE = 500;
const EXPIRED_BEFORE = 'expired_before';
const MAX_SOURCE_ID_LENGTH = 512;

export interface MonthlyAggregatesOptions {
  file: string;
  /** Reads only (WAL lets it read beside a write in progress, seeing committed data). */
  reader: Database.Database;
  /** The one connection that writes; used only under `lock`. */
  writer: Database.Database;
  lock: WriteLock;
  now: () => number;
  assertOpen: () => void;
}

/**
 * The warm tier's side of retention's copy → verify → delete: a source's rows (an archive
 * partition read back after verification) become additive monthly sums, recorded in a ledger in
 * the same transaction, so a retried move never counts a row twice.
 */
export class SqliteMonthlyAggregates implements MonthlyAggregateStore {
  private readonly file: string;
  private readonly writer: Database.Database;
  private readonly lock: WriteLock;
  private readonly now: () => number;
  private readonly assertOpen: () => void;
  private readonly applySource: AggregateWriter;
  private readonly subtract: (aggregation: MonthlyAggregation) => SubtractedRows;
  private readonly appliedRows: Database.Statement;
  private readonly appliedRowsInWrite: Database.Statement;
  private readonly storedMonths: Database.Statement;
  private readonly readState: Database.Statement;
  private readonly readStateInWrite: Database.Statement;
  private readonly writeState: Database.Statement;
  private readonly deleteMonth: Database.Statement[];

  constructor(options: MonthlyAggregatesOptions) {
    this.file = options.file;
    this.writer = options.writer;
    this.lock = options.lock;
    this.now = options.now;
    this.assertOpen = options.assertOpen;
    this.applySource = prepareAggregateWriter(options.writer);
    this.subtract = prepareAggregateSubtractor(options.writer);
    this.appliedRows = options.reader.prepare('SELECT rows FROM aggregate_sources WHERE source_id = ?').pluck();
    this.appliedRowsInWrite = options.writer.prepare('SELECT rows FROM aggregate_sources WHERE source_id = ?').pluck();
    this.storedMonths = options.reader.prepare('SELECT DISTINCT month FROM interactions_monthly ORDER BY month').pluck();
    this.readState = options.reader.prepare('SELECT value FROM tier_state WHERE key = ?').pluck();
    this.readStateInWrite = options.writer.prepare('SELECT value FROM tier_state WHERE key = ?').pluck();
    this.writeState = options.writer.prepare('INSERT INTO tier_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = MAX(value, excluded.value)');
    this.deleteMonth = ['interactions_monthly', 'questions_monthly', 'content_monthly'].map((table) => options.writer.prepare(`DELETE FROM ${table} WHERE month = ?`));
  }

  async addRows(
    sourceId: string,
    rows: AsyncIterable<Interaction[]> | Iterable<Interaction[]>,
    options: { signal?: AbortSignal } = {},
  ): Promise<{ applied: boolean; rows: number }> {
    this.assertOpen();
    checkSourceId(sourceId);
    const { signal } = options;
    const known = this.appliedRows.get(sourceId) as number | undefined;
    if (known !== undefined) return { applied: false, rows: known };
    // Read the whole source first (memory grows with distinct keys, not rows): a source that fails
    // to read or holds a bad row writes nothing.
    const aggregation = new MonthlyAggregation();
    for await (const batch of rows) {
      signal?.throwIfAborted();
      aggregation.add(batch);
    }
    signal?.throwIfAborted();
    return this.lock.run(async () => {
      this.assertOpen();
      const db = this.writer;
      try {
        db.exec('BEGIN IMMEDIATE');
        const stored = this.appliedRowsInWrite.get(sourceId) as number | undefined;
        // Another call applied it while this one was reading.
        if (stored !== undefined) {
          db.exec('ROLLBACK');
          return { applied: false, rows: stored };
        }
        const expiredBefore = (this.readStateInWrite.get(EXPIRED_BEFORE) as string | undefined) ?? null;
        const steps = this.applySource(sourceId, aggregation, { expiredBefore, appliedAt: this.now() });
        // The transaction stays open across these yields; the write lock keeps every other write out,
        // and readers on the other connection keep seeing the last committed state.
        for (let step = steps.next(), count = 1; !step.done; step = steps.next(), count += 1) {
          if (count % STATEMENTS_PER_SLICE === 0) {
            await yieldToEventLoop();
            signal?.throwIfAborted();
          }
        }
        db.exec('COMMIT');
        return { applied: true, rows: aggregation.rows };
      } catch (error) {
        rollback(db);
        if (signal?.aborted && error === signal.reason) throw error;
        throw wrapWriteError(error, this.file, `adding source ${JSON.stringify(sourceId)} (${aggregation.rows} rows)`, 'add the same source again (it was not recorded as applied)');
      }
    });
  }

  /**
   * Takes rows already added back out of the aggregates, in one transaction (an erasure: the rows
   * are a subject's, read from the archive before it erased them). See aggregateSubtractor.ts.
   */
  async subtractRows(rows: readonly Interaction[]): Promise<SubtractedRows> {
    this.assertOpen();
    const aggregation = new MonthlyAggregation();
    aggregation.add(rows);
    return this.lock.run(async () => {
      this.assertOpen();
      const db = this.writer;
      try {
        return db.transaction(() => this.subtract(aggregation)).immediate();
      } catch (error) {
        rollback(db);
        throw wrapWriteError(error, this.file, `taking ${rows.length} erased row(s) out of the monthly aggregates`, 'run the erasure again');
      }
    });
  }

  async hasSource(sourceId: string): Promise<boolean> {
    this.assertOpen();
    checkSourceId(sourceId);
    return this.appliedRows.get(sourceId) !== undefined;
  }

  async months(): Promise<MonthKey[]> {
    this.assertOpen();
    return this.storedMonths.all() as MonthKey[];
  }

  /** The month before which aggregates were expired; rows of those months are no longer added. */
  expiredBefore(): MonthKey | null {
    this.assertOpen();
    return (this.readState.get(EXPIRED_BEFORE) as string | undefined) ?? null;
  }

  async expireBefore(month: MonthKey): Promise<number> {
    this.assertOpen();
    const limit = checkMonth(month, 'expireBefore(month)');
    return this.lock.run(async () => {
      this.assertOpen();
      const doomed = (this.storedMonths.all() as MonthKey[]).filter((stored) => stored < limit);
      const db = this.writer;
      try {
        // One transaction per month keeps each short; each also moves the watermark past its month,
        // so a crash half-way leaves no month partly deleted and no late row resurrecting one.
        for (const stored of doomed) {
          db.transaction(() => {
            for (const statement of this.deleteMonth) statement.run(stored);
            this.writeState.run(EXPIRED_BEFORE, nextMonth(stored));
          }).immediate();
          await yieldToEventLoop();
        }
        this.writeState.run(EXPIRED_BEFORE, limit);
      } catch (error) {
        rollback(db);
        throw wrapWriteError(error, this.file, `expiring months before ${limit}`, 'call expireBefore again');
      }
      return doomed.length;
    });
  }
}

function checkSourceId(sourceId: unknown): void {
  if (typeof sourceId !== 'string' || sourceId === '' || sourceId.length > MAX_SOURCE_ID_LENGTH) {
    throw new StorageError(
      `${NAME}: sourceId must be a non-empty string of at most ${MAX_SOURCE_ID_LENGTH} characters (an archive partition id), got ${JSON.stringify(sourceId)?.slice(0, 80)}`,
    );
  }
}

/** SQLite rolls some failed transactions back itself (a full disk can); end any that is still open. */
function rollback(db: Database.Database): void {
  if (!db.inTransaction) return;
  try {
    db.exec('ROLLBACK');
  } catch {
    // The connection already ended it.
  }
}
