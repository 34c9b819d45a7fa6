import { StrataError } from '@strata/core';

/** Which check found a problem in a backup. */
export type BackupCheck = 'manifest' | 'missing' | 'path' | 'size' | 'sha256' | 'integrity_check' | 'row_counts';

/** One thing wrong with a backup: the file (relative to the backup) and the check that failed. */
export interface BackupProblem {
  /** Path inside the backup (`hot-sqlite/comprehensive_metrics.db`, `manifest.json`). */
  file: string;
  check: BackupCheck;
  message: string;
}

export function describeProblem(problem: BackupProblem): string {
  return `${problem.file}: ${problem.check} failed: ${problem.message}`;
}

/** A backup failed verification. `problems` names every file and check that failed. */
export class BackupCorruptError extends StrataError {
  readonly backup: string;
  readonly problems: readonly BackupProblem[];

  constructor(backup: string, problems: readonly BackupProblem[], action: string) {
    const lines = problems.map((problem) => `  - ${describeProblem(problem)}`);
    super('STRATA_BACKUP_CORRUPT', `backup: ${backup} failed verification; ${action}:\n${lines.join('\n')}`);
    this.backup = backup;
    this.problems = problems;
  }
}

/** Another backup, rotation or restore holds the backups directory, or a process has the data open. */
export class BackupBusyError extends StrataError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('STRATA_JOB_BUSY', message, options);
  }
}
