import type Database from 'better-sqlite3';
import { describeError } from '@strata/core';
import { openQualityDatabase } from '../qualityDatabase.js';
import { QualityStoreError } from '../qualityErrors.js';
import type { QualityTrigger } from '../qualityReport.js';
import { QUALITY_MIGRATIONS } from '../qualityStore.js';
import type { Finding, FindingKind, FindingSeverity, SkippedRule } from './finding.js';
import { QUOTING_KINDS, quotedQuestionHashes } from './quotedQuestions.js';
import type { InsightWindows } from './insightWindows.js';

export const DEFAULT_FINDINGS_LIMIT = 100;
export const MAX_FINDINGS_LIMIT = 10_000;

/** One stored analysis, as in `insight_runs` / `insight_findings`. */
export interface InsightRun {
  runId: number;
  startedAt: number;
  finishedAt: number;
  /** End of every window the analysis looked at. */
  asOf: number;
  trigger: QualityTrigger;
  windows: InsightWindows;
  findings: Finding[];
  skipped: SkippedRule[];
}

/** A finding of a past run, newest run first. */
export interface StoredFinding extends Finding {
  runId: number;
  /** When its run finished (epoch ms). */
  at: number;
}

export interface FindingsQuery {
  /** Only runs finished at or after this time (epoch ms). */
  since?: number;
  kind?: FindingKind;
  /** Most findings returned. Default 100, at most 10,000. */
  limit?: number;
}

interface RunRow {
  id: number;
  started_at: number;
  finished_at: number;
  as_of: number;
  trigger: QualityTrigger;
  windows: string;
  skipped: string;
}

interface FindingRow {
  run_id: number;
  position: number;
  kind: FindingKind;
  severity: FindingSeverity;
  subject: string;
  summary: string;
  numbers: string;
  details: string;
  window_from: number;
  window_to: number;
  baseline_from: number | null;
  baseline_to: number | null;
}

/**
 * The findings of every insights run, in the quality history database (`quality.db`, tables
 * `insight_runs` and `insight_findings`, created by its migrations). A run is written in one
 * transaction; runs older than the history horizon are removed after each write.
 */
export class InsightStore {
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


  static open(options: { file: string; busyTimeoutMs?: number }): InsightStore {
    return new InsightStore(options.file, options.busyTimeoutMs ?? 5_000);
  }

  /** Stores a finished analysis and returns it with its id. */
  save(run: Omit<InsightRun, 'runId'>): InsightRun {
    this.assertOpen();
    const write = this.db.transaction(() => {
      const { lastInsertRowid } = this.statements.insertRun.run(
        run.startedAt,
        run.finishedAt,
        run.asOf,
        run.trigger,
        run.findings.length,
        JSON.stringify(run.windows),
        JSON.stringify(run.skipped),
      );
      const runId = Number(lastInsertRowid);
      for (const [position, finding] of run.findings.entries()) {
        this.statements.insertFinding.run(
          runId,
          position,
          finding.kind,
          finding.severity,
          finding.subject,
          finding.summary,
          JSON.stringify(finding.numbers),
          JSON.stringify(finding.details),
          finding.window.from,
          finding.window.to,
          finding.window.baseline?.from ?? null,
          finding.window.baseline?.to ?? null,
        );
      }
      return runId;
    });
    try {
      return { ...run, runId: write.immediate() };
    } catch (error) {
      throw new QualityStoreError(`cannot store the insights run in ${this.file}: ${describeError(error)}`, { cause: error });
    }
  }

  /** The newest run with its findings, or null before the first. */
  latest(): InsightRun | null {
    this.assertOpen();
    const run = this.statements.latestRun.get() as RunRow | undefined;
    if (!run) return null;
    return {
      runId: run.id,
      startedAt: run.started_at,
      finishedAt: run.finished_at,
      asOf: run.as_of,
      trigger: run.trigger,
      windows: JSON.parse(run.windows) as InsightWindows,
      skipped: JSON.parse(run.skipped) as SkippedRule[],
      findings: (this.statements.findingsOfRun.all(run.id) as FindingRow[]).map(findingOf),
    };
  }

  /** Findings of past runs, newest run first (in each run, in the order reported), optionally of one kind and from a time on. */
  findings(query: FindingsQuery = {}): StoredFinding[] {
    this.assertOpen();
    const limit = Math.min(Math.max(1, Math.trunc(query.limit ?? DEFAULT_FINDINGS_LIMIT)), MAX_FINDINGS_LIMIT);
    const rows = this.statements.findings.all({ kind: query.kind ?? null, since: query.since ?? 0, limit }) as Array<FindingRow & { finished_at: number }>;
    return rows.map((row) => ({ runId: row.run_id, at: row.finished_at, ...findingOf(row) }));
  }

  /**
   * Deletes every stored finding that quotes a question `isHeld` says the hot tier no longer holds
   * (an erased subject was its only asker, so its text went with them), and says how many a fresh
   * look still finds (0). The next run finds again whatever the remaining data supports.
   */
  forgetQuestions(isHeld: (queryHash: string) => boolean): { removed: number; remaining: number } {
    this.assertOpen();
    const quotingErased = () =>
      (this.statements.quotingFindings.all(...QUOTING_KINDS) as FindingRow[]).filter((row) => quotedQuestionHashes(findingOf(row)).some((hash) => !isHeld(hash)));
    try {
      const removed = this.db
        .transaction(() => {
          const rows = quotingErased();
          for (const row of rows) {
            this.statements.deleteFinding.run(row.run_id, row.position);
            this.statements.uncountFinding.run(row.run_id);
          }
          return rows.length;
        })
        .immediate();
      return { removed, remaining: quotingErased().length };
    } catch (error) {
      throw new QualityStoreError(`cannot remove findings quoting erased questions from ${this.file}: ${describeError(error)}`, { cause: error });
    }
  }

  /** Removes runs finished before `before` (epoch ms); returns runs removed. */
  prune(before: number): number {
    this.assertOpen();
    try {
      return this.db.transaction(() => {
        this.statements.pruneFindings.run(before);
        return this.statements.pruneRuns.run(before).changes;
      }).immediate();
    } catch (error) {
      throw new QualityStoreError(`cannot prune old insights runs from ${this.file}: ${describeError(error)}`, { cause: error });
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new QualityStoreError(`${this.file} is closed`);
  }
}

function findingOf(row: FindingRow): Finding {
  return {
    kind: row.kind,
    severity: row.severity,
    subject: row.subject,
    summary: row.summary,
    numbers: JSON.parse(row.numbers) as Record<string, number>,
    details: JSON.parse(row.details) as Record<string, string | string[]>,
    window: {
      from: row.window_from,
      to: row.window_to,
      ...(row.baseline_from !== null && row.baseline_to !== null ? { baseline: { from: row.baseline_from, to: row.baseline_to } } : {}),
    },
  };
}

function prepare(db: Database.Database) {
  return {
    insertRun: db.prepare('INSERT INTO insight_runs (started_at, finished_at, as_of, trigger, finding_count, windows, skipped) VALUES (?, ?, ?, ?, ?, ?, ?)'),
    insertFinding: db.prepare(
      `INSERT INTO insight_findings (run_id, position, kind, severity, subject, summary, numbers, details, window_from, window_to, baseline_from, baseline_to)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    latestRun: db.prepare('SELECT * FROM insight_runs ORDER BY finished_at DESC, id DESC LIMIT 1'),
    findingsOfRun: db.prepare('SELECT * FROM insight_findings WHERE run_id = ? ORDER BY position'),
    findings: db.prepare(
      `SELECT f.*, r.finished_at FROM insight_findings f JOIN insight_runs r ON r.id = f.run_id
       WHERE (:kind IS NULL OR f.kind = :kind) AND r.finished_at >= :since
       ORDER BY r.finished_at DESC, r.id DESC, f.position LIMIT :limit`,
    ),
    quotingFindings: db.prepare(`SELECT * FROM insight_findings WHERE kind IN (${QUOTING_KINDS.map(() => '?').join(', ')})`),
    deleteFinding: db.prepare('DELETE FROM insight_findings WHERE run_id = ? AND position = ?'),
    uncountFinding: db.prepare('UPDATE insight_runs SET finding_count = finding_count - 1 WHERE id = ?'),
    pruneFindings: db.prepare('DELETE FROM insight_findings WHERE run_id IN (SELECT id FROM insight_runs WHERE finished_at < ?)'),
    pruneRuns: db.prepare('DELETE FROM insight_runs WHERE finished_at < ?'),
  };
}
