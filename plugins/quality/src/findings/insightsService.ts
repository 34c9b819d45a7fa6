import { isAbsolute, join } from 'node:path';
import type { InsightsProvider, Logger } from '@strata/core';
import type { ResolvedQualityOptions } from '../qualityOptions.js';
import type { QualityTrigger } from '../qualityReport.js';
import type { BaselineSource } from './baselineSource.js';
import { findInsights } from './findInsights.js';
import { InsightStore, type FindingsQuery, type InsightRun, type StoredFinding } from './insightStore.js';

const DAY_MS = 86_400_000;

export interface InsightsServiceOptions {
  /** Absolute data directory; a relative `file` option is resolved against it. */
  dataDir: string;
  options: ResolvedQualityOptions;
  /** The insights API, looked up when a run starts (`strata.insights`, or the tiers' layered insights inside the plugin). */
  insights(): InsightsProvider;
  /** The warm tier's baselines, when there is such a tier. */
  baselines(): BaselineSource | undefined;
  now(): number;
  logger?: Logger;
}

export interface RunInsightsOptions {
  trigger?: QualityTrigger;
  signal?: AbortSignal;
}

/** Analysis and history together: what the plugin's `insights` job, its metric source and `strata insights` share. */
export interface InsightsService {
  /** The history database file (the quality plugin's `quality.db`). */
  readonly file: string;
  /** Runs the analysis now and stores it; an aborted run stores nothing. */
  run(options?: RunInsightsOptions): Promise<InsightRun>;
  findings(query?: FindingsQuery): StoredFinding[];
  latest(): InsightRun | null;
  /** See InsightStore.forgetQuestions: erasure drops the findings that quote a question no longer held. */
  forgetQuestions(isHeld: (queryHash: string) => boolean): { removed: number; remaining: number };
  close(): void;
}

export function openInsightsService(config: InsightsServiceOptions): InsightsService {
  const { options } = config;
  const file = isAbsolute(options.file) ? options.file : join(config.dataDir, options.file);
  const store = InsightStore.open({ file, busyTimeoutMs: options.busyTimeoutMs });
  return {
    file,
    async run(runOptions = {}) {
      const startedAt = config.now();
      const analysis = await findInsights({
        insights: config.insights(),
        baselines: config.baselines(),
        now: startedAt,
        options: options.insights,
        ...(runOptions.signal ? { signal: runOptions.signal } : {}),
      });
      runOptions.signal?.throwIfAborted();
      const run = store.save({ ...analysis, startedAt, finishedAt: config.now(), trigger: runOptions.trigger ?? 'api' });
      for (const skipped of analysis.skipped) config.logger?.warn({ rule: skipped.rule, reason: skipped.reason }, 'insights: a rule could not run');
      store.prune(run.finishedAt - options.historyDays * DAY_MS);
      return run;
    },
    findings: (query) => store.findings(query),
    latest: () => store.latest(),
    forgetQuestions: (isHeld) => store.forgetQuestions(isHeld),
    close: () => store.close(),
  };
}
