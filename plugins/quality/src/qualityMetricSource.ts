import type { MetricReading, MetricSource } from '@strata/core';
import { statusValue } from './checkResult.js';
import type { QualityReport } from './qualityReport.js';

/**
 * The latest quality run as metrics, for alert rules:
 * - `quality.check_status{check}`: 0 pass, 1 warn, 2 fail (skipped checks have no reading);
 * - every value a check measured (`quality.freshness_seconds`, `quality.null_rate{field}`,
 *   `quality.volume_zscore`, `quality.rule_violation_rate{rule}`…), dated at the end of the run's window;
 * - `quality.last_run_age_seconds`: how long ago the last run finished, so a rule can notice that
 *   the daily run stopped happening.
 * Reads the history database on each call, so every process sharing it sees the same latest run.
 */
export function qualityMetricSource(latest: () => QualityReport | null): MetricSource {
  return {
    name: 'quality',
    async read({ now }): Promise<MetricReading[]> {
      const report = latest();
      if (!report) return [];
      const at = report.window.to;
      const readings: MetricReading[] = [{ name: 'quality.last_run_age_seconds', value: Math.max(0, now - report.finishedAt) / 1_000, unit: 's', at: now }];
      for (const result of report.results) {
        const status = statusValue(result.status);
        if (status === null) continue;
        readings.push({ name: 'quality.check_status', value: status, labels: { check: result.check }, at });
        for (const reading of result.readings) {
          readings.push({ name: reading.name, value: reading.value, ...(reading.unit ? { unit: reading.unit } : {}), ...(reading.labels ? { labels: { ...reading.labels } } : {}), at });
        }
      }
      return readings;
    },
  };
}
