/** Stable error codes. A code never changes meaning once released. */
export type StrataErrorCode =
  | 'STRATA_CONFIG_INVALID'
  | 'STRATA_CONFIG_NOT_FOUND'
  | 'STRATA_CONFIG_LOAD_FAILED'
  | 'STRATA_PLUGIN_UNKNOWN'
  | 'STRATA_PLUGIN_START_FAILED'
  | 'STRATA_PLUGIN_TIMEOUT'
  | 'STRATA_STOP_FAILED'
  | 'STRATA_VALIDATION_FAILED'
  | 'STRATA_QUEUE_FULL'
  | 'STRATA_CLOSED'
  | 'STRATA_NO_HOT_TIER'
  | 'STRATA_STORAGE_FAILED'
  | 'STRATA_SINK_RETRYABLE'
  | 'STRATA_SINK_PERMANENT'
  | 'STRATA_DEADLINE_EXCEEDED'
  | 'STRATA_NOT_FOUND'
  | 'STRATA_ARCHIVE_CORRUPT'
  | 'STRATA_BACKUP_CORRUPT'
  | 'STRATA_DISK_FULL'
  | 'STRATA_JOB_FAILED'
  | 'STRATA_JOB_BUSY'
  | 'STRATA_ACCESS_DENIED'
  | 'STRATA_PRIVACY_KEY';

export interface StrataErrorOptions {
  cause?: unknown;
}

/** Base class of every error Strata throws on purpose. `code` is stable; `message` says what to do. */
export class StrataError extends Error {
  readonly code: StrataErrorCode;

  constructor(code: StrataErrorCode, message: string, options: StrataErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
  }
}

/** One problem found while validating, with the path of the offending field. */
export interface Issue {
  /** Dotted path such as `plugins[2].options.hotDays` or `userRating`; empty for the whole value. */
  path: string;
  message: string;
}

export function formatIssues(issues: readonly Issue[]): string {
  return issues.map((issue) => (issue.path ? `${issue.path}: ${issue.message}` : issue.message)).join('; ');
}

/** The configuration is wrong. Every problem found is in `issues`, each with its path. */
export class ConfigError extends StrataError {
  readonly issues: readonly Issue[];

  constructor(issues: readonly Issue[], source?: string, options: StrataErrorOptions = {}) {
    const where = source ? ` in ${source}` : '';
    const lines = issues.map((issue) => `  - ${issue.path ? `${issue.path}: ` : ''}${issue.message}`);
    super('STRATA_CONFIG_INVALID', `invalid configuration${where}:\n${lines.join('\n')}`, options);
    this.issues = issues;
  }
}

/** An event failed validation; `issues` names each field and the reason. */
export class ValidationError extends StrataError {
  readonly issues: readonly Issue[];

  constructor(issues: readonly Issue[]) {
    super('STRATA_VALIDATION_FAILED', formatIssues(issues));
    this.issues = issues;
  }
}

/** A plugin's start or stop did not finish in time. */
export class PluginTimeoutError extends StrataError {
  readonly plugin: string;

  constructor(plugin: string, phase: 'start' | 'stop', timeoutMs: number) {
    // Start has a per-plugin limit; every stop shares the one shutdown deadline.
    const knob = phase === 'stop' ? 'shutdownTimeoutMs in the config' : 'the startTimeoutMs of the plugin definition';
    super('STRATA_PLUGIN_TIMEOUT', `${plugin}: ${phase} did not finish within ${timeoutMs} ms; check what it waits for, or raise ${knob}`);
    this.plugin = plugin;
  }
}

/** A plugin's setup or start threw. */
export class PluginStartError extends StrataError {
  readonly plugin: string;

  constructor(plugin: string, cause: unknown) {
    super('STRATA_PLUGIN_START_FAILED', `${plugin}: failed to start: ${describeError(cause)}`, { cause });
    this.plugin = plugin;
  }
}

/** One or more components failed while stopping. Every failure is in `errors`; none stopped the others. */
export class StopError extends StrataError {
  readonly errors: readonly Error[];

  constructor(errors: readonly Error[]) {
    super('STRATA_STOP_FAILED', `shutdown finished with ${errors.length} error(s):\n${errors.map((e) => `  - ${e.message}`).join('\n')}`);
    this.errors = errors;
  }
}

/** The in-memory queue is at its bound; the event was not accepted. Retry later or raise `pipeline.maxQueue`. */
export class QueueFullError extends StrataError {
  constructor(limit: number) {
    super('STRATA_QUEUE_FULL', `ingest queue is full (${limit} events waiting for the hot tier); retry later or raise pipeline.maxQueue`);
  }
}

/** The instance was closed; nothing more is accepted. */
export class ClosedError extends StrataError {
  constructor() {
    super('STRATA_CLOSED', 'strata is closed; create a new instance to record more events');
  }
}

/** A storage tier failed to do what was asked. */
export class StorageError extends StrataError {
  constructor(message: string, options: StrataErrorOptions = {}) {
    super('STRATA_STORAGE_FAILED', message, options);
  }
}

/**
 * The disk (or a database's size limit, such as SQLite's `max_page_count`) filled up during a write.
 * Nothing of the write was kept; the same call succeeds once space is available.
 */
export class DiskFullError extends StrataError {
  readonly file: string;

  constructor(file: string, message: string, options: StrataErrorOptions = {}) {
    super('STRATA_DISK_FULL', message, options);
    this.file = file;
  }
}

/**
 * Thrown by a sink when delivery may succeed later (network blip, busy server).
 * `retryAfterMs`, when given, is the delay before the next attempt.
 */
export class RetryableError extends StrataError {
  readonly retryAfterMs: number | undefined;

  constructor(message: string, options: StrataErrorOptions & { retryAfterMs?: number } = {}) {
    super('STRATA_SINK_RETRYABLE', message, options);
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** Thrown by a sink when delivery of this batch can never succeed; the batch is dropped and counted. */
export class PermanentError extends StrataError {
  constructor(message: string, options: StrataErrorOptions = {}) {
    super('STRATA_SINK_PERMANENT', message, options);
  }
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

export function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
