import type { CheckResult, CheckStatus } from './checkResult.js';

/** What started a run: the daily job (scheduled or `runJob`), the CLI, or a direct API call. */
export type QualityTrigger = 'job' | 'cli' | 'api';

/** One run of every check, as stored in `quality_runs` / `quality_results`. */
export interface QualityReport {
  runId: number;
  startedAt: number;
  finishedAt: number;
  /** The raw rows looked at: `[from, to)`, epoch ms. */
  window: { from: number; to: number };
  trigger: QualityTrigger;
  /** The tier read (`hot-sqlite`). */
  source: string;
  /** The worst status among the checks that ran (`pass` when all were skipped). */
  status: Exclude<CheckStatus, 'skipped'>;
  counts: Record<CheckStatus, number>;
  results: CheckResult[];
}

/** One check's result in the history, newest first. */
export interface QualityHistoryEntry {
  runId: number;
  /** When the run finished (epoch ms). */
  at: number;
  check: string;
  status: CheckStatus;
  observed: number | null;
  unit: string | null;
  threshold: string | null;
  message: string;
}

export interface QualityHistoryQuery {
  /** Only this check (`freshness`, `rule:fast-answers`). */
  check?: string;
  /** Only runs finished at or after this time (epoch ms). */
  since?: number;
  /** Most entries returned, newest first. Default 100, at most 10,000. */
  limit?: number;
}

export function countStatuses(results: readonly CheckResult[]): Record<CheckStatus, number> {
  const counts: Record<CheckStatus, number> = { pass: 0, warn: 0, fail: 0, skipped: 0 };
  for (const result of results) counts[result.status] += 1;
  return counts;
}

export function overallStatus(counts: Record<CheckStatus, number>): QualityReport['status'] {
  return counts.fail > 0 ? 'fail' : counts.warn > 0 ? 'warn' : 'pass';
}

/** One line a person reads: `quality: 5 pass, 1 warn, 0 fail, 1 skipped (run 12)`. */
export function summarizeReport(report: Pick<QualityReport, 'runId' | 'counts' | 'status'>): string {
  const { pass, warn, fail, skipped } = report.counts;
  return `quality ${report.status}: ${pass} pass, ${warn} warn, ${fail} fail, ${skipped} skipped (run ${report.runId})`;
}
