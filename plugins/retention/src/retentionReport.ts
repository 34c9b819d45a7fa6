import { access } from 'node:fs/promises';
import { join } from 'node:path';
import type { JobReport, MonthKey, RetentionPolicyRecord } from '@strata/core';
import { writeFileAtomic } from './atomicFile.js';

/** The steps of a run, in the order they run. */
export type RetentionStepName =
  | 'policies'
  | 'resume'
  | 'reconcile'
  | 'expire-hot'
  | 'archive'
  | 'prune-rollups'
  | 'expire-warm'
  | 'expire-cold'
  | 'expire-metrics'
  | 'sessions'
  | 'mark-cleanup';

/** What one step did. `rows`/`bytes`/`partitions` count what it moved, wrote or removed (see `note`). */
export interface RetentionStepReport {
  step: RetentionStepName;
  rows: number;
  bytes: number;
  partitions: number;
  durationMs: number;
  /** What was skipped and why, or what the counts mean for this step. */
  note?: string;
}

/** One partition a run wrote, or finished settling. */
export interface PartitionMove {
  id: string;
  month: MonthKey;
  /** Rows in the partition. */
  rows: number;
  /** Rows this run removed from the hot tier for it. */
  removedFromHot: number;
  /** Stored (compressed) size; 0 when this run did not write it. */
  bytesWritten: number;
  /** True when an earlier, interrupted run wrote it and this one finished the move. */
  resumed: boolean;
}

/** The archival report: the JobReport `strata jobs run retention` prints and the JSON file under `reportDir`. */
export interface RetentionReport extends JobReport {
  job: 'retention';
  status: 'ok' | 'aborted' | 'failed';
  /** ISO times from the job's clock. */
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  /** Interactions that left the hot tier into the archive (and the warm aggregates) in this run. */
  rowsMoved: number;
  /** Bytes of archive partitions written. */
  bytesWritten: number;
  partitionsWritten: number;
  /** Size of the rows moved as JSON lines (what the archive compresses), for the compression ratio. */
  rawBytesMoved: number;
  horizons: {
    /** Months starting before this are archived from the hot tier. */
    archiveBefore: string | null;
    /** Warm months before this are expired. */
    warmBefore: string | null;
    /** Cold partitions of months before this are deleted, and hot rows before it deleted outright. */
    deleteBefore: string | null;
    /** Raw metric samples before this are deleted. */
    metricSamplesBefore: string | null;
    /** Session rows inactive since before this were deleted. */
    sessionsBefore: string | null;
  };
  partitions: PartitionMove[];
  steps: RetentionStepReport[];
  policies: RetentionPolicyRecord[];
  /** Where this report was written. */
  reportFile: string | null;
  error?: string;
}

/**
 * Writes the report as `retention-<ISO time>.json` under `reportDir` (atomically; a second report
 * in the same millisecond gets a `-2` suffix). Returns the path.
 */
export async function writeRetentionReport(reportDir: string, report: RetentionReport): Promise<string> {
  const stamp = report.startedAt.replace(/:/g, '-');
  for (let suffix = 1; ; suffix += 1) {
    const path = join(reportDir, `retention-${stamp}${suffix > 1 ? `-${suffix}` : ''}.json`);
    if (await exists(path)) continue;
    await writeFileAtomic(path, `${JSON.stringify({ ...report, reportFile: path }, null, 2)}\n`);
    return path;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
