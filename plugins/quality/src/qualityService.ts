import { isAbsolute, join } from 'node:path';
import type { Logger, StorageTier } from '@strata/core';
import { hotSqliteQualitySource } from './hotSqliteQualitySource.js';
import type { ResolvedQualityOptions } from './qualityOptions.js';
import type { QualityHistoryEntry, QualityHistoryQuery, QualityReport } from './qualityReport.js';
import { QualityRunner, type RunQualityOptions } from './qualityRunner.js';
import { QualityStore } from './qualityStore.js';

export interface QualityServiceOptions {
  /** Absolute data directory; a relative `file` option is resolved against it. */
  dataDir: string;
  options: ResolvedQualityOptions;
  /** The hot tier, looked up when a run starts (after every plugin was set up). */
  hotTier(): StorageTier | undefined;
  now(): number;
  logger?: Logger;
}

/** Runs and history together: what the plugin's job, its metric source and `strata quality` share. */
export interface QualityService {
  /** The history database file. */
  readonly file: string;
  /** Names of the checks a run performs, in order. */
  readonly checks: string[];
  run(options?: RunQualityOptions): Promise<QualityReport>;
  history(query?: QualityHistoryQuery): QualityHistoryEntry[];
  latest(): QualityReport | null;
  close(): void;
}

export function openQualityService(config: QualityServiceOptions): QualityService {
  const { options } = config;
  const file = isAbsolute(options.file) ? options.file : join(config.dataDir, options.file);
  const store = QualityStore.open({ file, busyTimeoutMs: options.busyTimeoutMs });
  const runner = new QualityRunner({
    openSource: () => hotSqliteQualitySource(config.hotTier(), { busyTimeoutMs: options.busyTimeoutMs }),
    store,
    options,
    now: config.now,
    ...(config.logger ? { logger: config.logger } : {}),
  });
  return {
    file,
    checks: runner.checks,
    run: (runOptions) => runner.run(runOptions),
    history: (query) => store.history(query),
    latest: () => store.latest(),
    close: () => store.close(),
  };
}
