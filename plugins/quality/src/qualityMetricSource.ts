import type { MetricReading, MetricSource } from '@strata/core';
import { statusValue } from './checkResult.js';
import { FINDING_KINDS } from './findings/finding.js';
import type { InsightRun } from './findings/insightStore.js';
import type { QualityReport } from './qualityReport.js';

/**
 * The latest quality run as metrics, for alert rules:
 * - `quality.check_status{check}`: 0 pass, 1 warn, 2 fail (skipped checks have no reading);
 * - every value a check measured (`quality.freshness_seconds`, `quality.null_rate{field}`,
 *   `quality.volume_zscore`, `quality.rule_violation_rate{rule}`…), dated at the end of the run's window;
 * - `quality.last_run_age_seconds`: how long ago the last run finished, so a rule can notice that
 *   the daily run stopped happening.
 * - `insights.findings{kind}`: how many findings of each kind the latest insights run made (0 for
 *   a kind it did not find), dated when that run finished.
 * Reads the history database on each call, so every process sharing it sees the same latest run.
 */
export function qualityMetricSource(latest: () => QualityReport | null, latestInsights: () => InsightRun | null = () => null): MetricSource {
  return {
    name: 'quality',
    async read({ now }): Promise<MetricReading[]> {
      const readings: MetricReading[] = insightReadings(latestInsights());
      const report = latest();
      if (!report) return readings;
      const at = report.window.to;
      readings.push({ name: 'quality.last_run_age_seconds', value: Math.max(0, now - report.finishedAt) / 1_000, unit: 's', at: now });
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

function insightReadings(run: InsightRun | null): MetricReading[] {
  if (!run) return [];
  return FINDING_KINDS.map((kind) => ({
    name: 'insights.findings',
    value: run.findings.filter((finding) => finding.kind === kind).length,
    unit: 'findings',
    labels: { kind },
    at: run.finishedAt,
  }));
}
