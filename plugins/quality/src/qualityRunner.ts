import { describeError, type Logger } from '@strata/core';
import { businessRuleCheck } from './businessRuleCheck.js';
import { skippedResult, type CheckContext, type CheckResult, type QualityCheck } from './checkResult.js';
import { completenessCheck } from './completenessCheck.js';
import { consistencyCheck } from './consistencyCheck.js';
import { freshnessCheck } from './freshnessCheck.js';
import type { ResolvedQualityOptions } from './qualityOptions.js';
import { countStatuses, overallStatus, type QualityReport, type QualityTrigger } from './qualityReport.js';
import type { QualitySource } from './qualitySource.js';
import type { QualityStore } from './qualityStore.js';
import { schemaDriftCheck } from './schemaDriftCheck.js';
import { DAY_MS, throwIfAborted } from './timeSlices.js';
import { uniquenessCheck } from './uniquenessCheck.js';
import { volumeCheck } from './volumeCheck.js';

export interface QualityRunnerOptions {
  /** Opens the source a run reads; it is closed when the run ends. */
  openSource(): QualitySource;
  store: QualityStore;
  options: ResolvedQualityOptions;
  now(): number;
  logger?: Logger;
}

export interface RunQualityOptions {
  signal?: AbortSignal;
  trigger?: QualityTrigger;
  /** Overrides the configured window for this run, in ms. */
  windowMs?: number;
  onProgress?(progress: { done: number; total: number; check: string }): void;
}

interface PlannedCheck {
  check: QualityCheck;
  /** Why it does not run, when it is turned off. */
  disabled?: string;
}

/**
 * Runs every check in turn against one source and stores the report. A check that throws is
 * reported as failed with the error (the others still run); an aborted run stores nothing.
 */
export class QualityRunner {
  private readonly planned: PlannedCheck[];

  constructor(private readonly config: QualityRunnerOptions) {
    const { options } = config;
    const off = (name: string) => `turned off (${name}.enabled is false)`;
    this.planned = [
      { check: completenessCheck(options.completeness), ...(options.completeness.enabled ? {} : { disabled: off('completeness') }) },
      { check: uniquenessCheck(options.uniqueness), ...(options.uniqueness.enabled ? {} : { disabled: off('uniqueness') }) },
      { check: consistencyCheck(), ...(options.consistency.enabled ? {} : { disabled: off('consistency') }) },
      { check: freshnessCheck(options.freshness), ...(options.freshness.enabled ? {} : { disabled: off('freshness') }) },
      { check: volumeCheck(options.volume), ...(options.volume.enabled ? {} : { disabled: off('volume') }) },
      { check: schemaDriftCheck(options.schema), ...(options.schema.enabled ? {} : { disabled: off('schema') }) },
      ...options.rules.map((rule) => ({ check: businessRuleCheck(rule) })),
    ];
  }

  /** Names of the checks a run performs, in order. */
  get checks(): string[] {
    return this.planned.map((planned) => planned.check.name);
  }

  async run(options: RunQualityOptions = {}): Promise<QualityReport> {
    throwIfAborted(options.signal);
    const startedAt = this.config.now();
    const window = { from: startedAt - (options.windowMs ?? this.config.options.window), to: startedAt };
    const source = this.config.openSource();
    const results: CheckResult[] = [];
    try {
      const context: CheckContext = { source, window, now: startedAt, ...(options.signal ? { signal: options.signal } : {}) };
      for (const [index, planned] of this.planned.entries()) {
        results.push(planned.disabled ? skippedResult(planned.check.name, planned.disabled) : await this.runOne(planned.check, context, options.signal));
        options.onProgress?.({ done: index + 1, total: this.planned.length, check: planned.check.name });
      }
    } finally {
      await source.close();
    }
    const finishedAt = this.config.now();
    const counts = countStatuses(results);
    const report = this.config.store.save({
      startedAt,
      finishedAt,
      window,
      trigger: options.trigger ?? 'api',
      source: source.name,
      status: overallStatus(counts),
      counts,
      results,
    });
    this.config.store.prune(finishedAt - this.config.options.historyDays * DAY_MS);
    for (const result of results) {
      if (result.status === 'warn' || result.status === 'fail') this.config.logger?.warn({ check: result.check, status: result.status, observed: result.observed }, `quality ${result.check}: ${result.message}`);
    }
    return report;
  }

  private async runOne(check: QualityCheck, context: CheckContext, signal: AbortSignal | undefined): Promise<CheckResult> {
    try {
      return await check.run(context);
    } catch (error) {
      // Strata closing aborts the run as a whole; any other error is this check's finding.
      if (signal?.aborted) throw error;
      this.config.logger?.error({ check: check.name, err: error }, `quality ${check.name} could not run`);
      return {
        check: check.name,
        status: 'fail',
        observed: null,
        unit: null,
        threshold: null,
        message: `the check could not run: ${describeError(error)}`,
        readings: [],
        details: { error: describeError(error) },
      };
    }
  }
}
