import type Database from 'better-sqlite3';
import { describeError } from '@strata/core';
import type { Migration } from '@strata/hot-sqlite';
import type { CheckResult, CheckStatus, QualityReading } from './checkResult.js';
import { openQualityDatabase } from './qualityDatabase.js';
import { QualityStoreError } from './qualityErrors.js';
import { countStatuses, type QualityHistoryEntry, type QualityHistoryQuery, type QualityReport, type QualityTrigger } from './qualityReport.js';

export const DEFAULT_HISTORY_LIMIT = 100;
export const MAX_HISTORY_LIMIT = 10_000;

/** The history database's schema. Never edit a released migration: add a new one. */
export const QUALITY_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'quality_runs_and_results',
    up(db) {
      db.exec(`
        CREATE TABLE quality_runs (
          id INTEGER PRIMARY KEY,
          started_at INTEGER NOT NULL,
          finished_at INTEGER NOT NULL,
          window_from INTEGER NOT NULL,
          window_to INTEGER NOT NULL,
          trigger TEXT NOT NULL,
          source TEXT NOT NULL,
          status TEXT NOT NULL CHECK (status IN ('pass', 'warn', 'fail'))
        );
        CREATE INDEX idx_quality_runs_finished ON quality_runs (finished_at);
        CREATE TABLE quality_results (
          run_id INTEGER NOT NULL REFERENCES quality_runs (id),
          check_name TEXT NOT NULL,
          position INTEGER NOT NULL,
          status TEXT NOT NULL CHECK (status IN ('pass', 'warn', 'fail', 'skipped')),
          observed REAL,
          unit TEXT,
          threshold TEXT,
          message TEXT NOT NULL,
          readings TEXT NOT NULL,
          details TEXT NOT NULL,
          PRIMARY KEY (run_id, check_name)
        ) WITHOUT ROWID;
        CREATE INDEX idx_quality_results_check ON quality_results (check_name, run_id);
      `);
    },
  },
  {
    version: 2,
    name: 'insight_runs_and_findings',
    up(db) {
      db.exec(`
        CREATE TABLE insight_runs (
          id INTEGER PRIMARY KEY,
          started_at INTEGER NOT NULL,
          finished_at INTEGER NOT NULL,
          as_of INTEGER NOT NULL,
          trigger TEXT NOT NULL,
          finding_count INTEGER NOT NULL,
          windows TEXT NOT NULL,
          skipped TEXT NOT NULL
        );
        CREATE INDEX idx_insight_runs_finished ON insight_runs (finished_at);
        CREATE TABLE insight_findings (
          run_id INTEGER NOT NULL REFERENCES insight_runs (id),
          position INTEGER NOT NULL,
          kind TEXT NOT NULL,
          severity TEXT NOT NULL CHECK (severity IN ('info', 'warning')),
          subject TEXT NOT NULL,
          summary TEXT NOT NULL,
          numbers TEXT NOT NULL,
          details TEXT NOT NULL,
          window_from INTEGER NOT NULL,
          window_to INTEGER NOT NULL,
          baseline_from INTEGER,
          baseline_to INTEGER,
          PRIMARY KEY (run_id, position)
        ) WITHOUT ROWID;
        CREATE INDEX idx_insight_findings_kind ON insight_findings (kind, run_id);
      `);
    },
  },
];

interface RunRow {
  id: number;
  started_at: number;
  finished_at: number;
  window_from: number;
  window_to: number;
  trigger: QualityTrigger;
  source: string;
  status: QualityReport['status'];
}

interface ResultRow {
  run_id: number;
  check_name: string;
  status: CheckStatus;
  observed: number | null;
  unit: string | null;
  threshold: string | null;
  message: string;
  readings: string;
  details: string;
}

/**
 * Stores every run's report in its own SQLite file (`quality.db`), so the history can be queried
 * without touching the hot tier and survives its retention. A run is written in one short
 * transaction; runs older than the history horizon are removed after each write.
 */
export class QualityStore {
  readonly file: string;
  private readonly db: Database.Database;
  private readonly statements: ReturnType<typeof prepare>;
  private closed = false;

  private constructor(file: string, busyTimeoutMs: number) {
    this.file = file;
    this.db = openQualityDatabase(file, busyTimeoutMs, QUALITY_MIGRATIONS);
    try {
      this.statements = prepare(this.db);
    } catch (error) {
      this.db.close();
      throw new QualityStoreError(`cannot prepare the history database ${file}: ${describeError(error)}`, { cause: error });
    }
  }


  static open(options: { file: string; busyTimeoutMs?: number }): QualityStore {
    return new QualityStore(options.file, options.busyTimeoutMs ?? 5_000);
  }

  /** Stores a finished run and returns it with its id. */
  save(run: Omit<QualityReport, 'runId'>): QualityReport {
    this.assertOpen();
    const write = this.db.transaction(() => {
      const { lastInsertRowid } = this.statements.insertRun.run(run.startedAt, run.finishedAt, run.window.from, run.window.to, run.trigger, run.source, run.status);
      const runId = Number(lastInsertRowid);
      for (const [position, result] of run.results.entries()) {
        this.statements.insertResult.run(
          runId,
          result.check,
          position,
          result.status,
          result.observed,
          result.unit,
          result.threshold,
          result.message,
          JSON.stringify(result.readings),
          JSON.stringify(result.details),
        );
      }
      return runId;
    });
    try {
      return { ...run, runId: write.immediate() };
    } catch (error) {
      throw new QualityStoreError(`cannot store the run in ${this.file}: ${describeError(error)}`, { cause: error });
    }
  }

  /** The newest run, or null before the first. */
  latest(): QualityReport | null {
    this.assertOpen();
    const run = this.statements.latestRun.get() as RunRow | undefined;
    return run ? this.withResults(run) : null;
  }

  /** One run by id, or null. */
  run(runId: number): QualityReport | null {
    this.assertOpen();
    const run = this.statements.runById.get(runId) as RunRow | undefined;
    return run ? this.withResults(run) : null;
  }

  /** Check results of past runs, newest first, optionally for one check and from a time on. */
  history(query: QualityHistoryQuery = {}): QualityHistoryEntry[] {
    this.assertOpen();
    const limit = Math.min(Math.max(1, Math.trunc(query.limit ?? DEFAULT_HISTORY_LIMIT)), MAX_HISTORY_LIMIT);
    const rows = this.statements.history.all({ check: query.check ?? null, since: query.since ?? 0, limit }) as Array<ResultRow & { finished_at: number }>;
    return rows.map((row) => ({
      runId: row.run_id,
      at: row.finished_at,
      check: row.check_name,
      status: row.status,
      observed: row.observed,
      unit: row.unit,
      threshold: row.threshold,
      message: row.message,
    }));
  }

  /** Removes runs finished before `before` (epoch ms); returns runs removed. */
  prune(before: number): number {
    this.assertOpen();
    try {
      return this.db.transaction(() => {
        this.statements.pruneResults.run(before);
        return this.statements.pruneRuns.run(before).changes;
      }).immediate();
    } catch (error) {
      throw new QualityStoreError(`cannot prune old runs from ${this.file}: ${describeError(error)}`, { cause: error });
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }

  private withResults(run: RunRow): QualityReport {
    const results = (this.statements.resultsOfRun.all(run.id) as ResultRow[]).map(
      (row): CheckResult => ({
        check: row.check_name,
        status: row.status,
        observed: row.observed,
        unit: row.unit,
        threshold: row.threshold,
        message: row.message,
        readings: JSON.parse(row.readings) as QualityReading[],
        details: JSON.parse(row.details) as Record<string, unknown>,
      }),
    );
    const counts = countStatuses(results);
    return {
      runId: run.id,
      startedAt: run.started_at,
      finishedAt: run.finished_at,
      window: { from: run.window_from, to: run.window_to },
      trigger: run.trigger,
      source: run.source,
      status: run.status,
      counts,
      results,
    };
  }

  private assertOpen(): void {
    if (this.closed) throw new QualityStoreError(`${this.file} is closed`);
  }
}

function prepare(db: Database.Database) {
  return {
    insertRun: db.prepare('INSERT INTO quality_runs (started_at, finished_at, window_from, window_to, trigger, source, status) VALUES (?, ?, ?, ?, ?, ?, ?)'),
    insertResult: db.prepare(
      'INSERT INTO quality_results (run_id, check_name, position, status, observed, unit, threshold, message, readings, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    latestRun: db.prepare('SELECT * FROM quality_runs ORDER BY finished_at DESC, id DESC LIMIT 1'),
    runById: db.prepare('SELECT * FROM quality_runs WHERE id = ?'),
    // Results come back in the order the checks ran.
    resultsOfRun: db.prepare('SELECT * FROM quality_results WHERE run_id = ? ORDER BY position'),
    history: db.prepare(
      `SELECT q.*, r.finished_at FROM quality_results q JOIN quality_runs r ON r.id = q.run_id
       WHERE (:check IS NULL OR q.check_name = :check) AND r.finished_at >= :since
       ORDER BY r.finished_at DESC, r.id DESC, q.position LIMIT :limit`,
    ),
    pruneResults: db.prepare('DELETE FROM quality_results WHERE run_id IN (SELECT id FROM quality_runs WHERE finished_at < ?)'),
    pruneRuns: db.prepare('DELETE FROM quality_runs WHERE finished_at < ?'),
  };
}
