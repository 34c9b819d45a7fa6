import type { QualitySource } from './qualitySource.js';
import type { ClosedRange } from './timeSlices.js';

/** What a check found: `skipped` carries the reason in `message`. */
export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skipped';

/** One number a check measured, exposed as a metric (`quality.null_rate{field=query}`). */
export interface QualityReading {
  name: string;
  value: number;
  unit?: string;
  labels?: Record<string, string>;
}

/** One check's outcome in a report. */
export interface CheckResult {
  /** `completeness`, `uniqueness`, `consistency`, `freshness`, `volume`, `schema`, or `rule:<name>`. */
  check: string;
  status: CheckStatus;
  /** The headline value compared with the threshold; null when skipped. */
  observed: number | null;
  unit: string | null;
  /** The thresholds applied, as a person reads them (`> 0 warns, > 0.001 fails`). */
  threshold: string | null;
  /** What was found, or why the check was skipped. */
  message: string;
  /** Every value measured, for metrics and alerts. */
  readings: QualityReading[];
  /** Check-specific facts: ranges compared, examples, differences. */
  details: Record<string, unknown>;
}

/** What every check receives for one run. */
export interface CheckContext {
  source: QualitySource;
  /** The raw rows looked at: `[now − window, now)`. */
  window: ClosedRange;
  now: number;
  signal?: AbortSignal;
}

export interface QualityCheck {
  readonly name: string;
  run(context: CheckContext): Promise<CheckResult>;
}

export function skippedResult(check: string, reason: string, details: Record<string, unknown> = {}): CheckResult {
  return { check, status: 'skipped', observed: null, unit: null, threshold: null, message: reason, readings: [], details };
}

/** `fail` above `failAbove`, `warn` above `warnAbove`, else `pass`. */
export function statusAbove(value: number, warnAbove: number, failAbove: number): CheckStatus {
  if (value > failAbove) return 'fail';
  if (value > warnAbove) return 'warn';
  return 'pass';
}

const SEVERITY: Record<CheckStatus, number> = { skipped: -1, pass: 0, warn: 1, fail: 2 };

/** The more severe of two statuses (`skipped` is the least). */
export function worse(a: CheckStatus, b: CheckStatus): CheckStatus {
  return SEVERITY[a] >= SEVERITY[b] ? a : b;
}

/** The metric value of a status: 0 pass, 1 warn, 2 fail (skipped has none). */
export function statusValue(status: CheckStatus): number | null {
  return status === 'skipped' ? null : SEVERITY[status];
}

/** A ratio for messages: `0.12 %`, `0 %`. */
export function formatRate(rate: number): string {
  if (rate === 0) return '0 %';
  const percent = rate * 100;
  return `${percent < 0.01 ? percent.toPrecision(2) : percent < 10 ? percent.toFixed(2) : percent.toFixed(1)} %`;
}
