import { StrataError } from '@strata/core';

interface ErrorOptions {
  cause?: unknown;
}

/**
 * The config lacks a tier archival needs (or a tier lacks a capability). Thrown from the plugin's
 * `start`, so `createStrata` fails before anything runs; the core prefixes the plugin's name.
 */
export class RetentionSetupError extends StrataError {
  constructor(problems: readonly string[]) {
    super('STRATA_CONFIG_INVALID', problems.length === 1 ? problems[0]! : problems.map((problem) => `\n  - ${problem}`).join(''));
  }
}

/** Another run holds the retention state (this process or another one sharing the data dir). */
export class RetentionBusyError extends StrataError {
  constructor(message: string) {
    super('STRATA_JOB_BUSY', message);
  }
}

/**
 * An archived copy does not match what was sent or fails its own checks. Nothing that depends on
 * the copy (aggregates, deletion from the hot tier) happens after this is thrown.
 */
export class ArchiveVerificationError extends StrataError {
  readonly partitionId: string;

  constructor(partitionId: string, message: string, options: ErrorOptions = {}) {
    super('STRATA_ARCHIVE_CORRUPT', message, options);
    this.partitionId = partitionId;
  }
}

/** The job could not go on: its journal is unreadable, a tier failed, a step refused. */
export class RetentionJobError extends StrataError {
  constructor(message: string, options: ErrorOptions = {}) {
    super('STRATA_JOB_FAILED', message, options);
  }
}
