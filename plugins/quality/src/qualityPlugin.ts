import { definePlugin, type Job } from '@strata/core';
import { hotSqliteFileOf } from './hotSqliteQualitySource.js';
import { qualityMetricSource } from './qualityMetricSource.js';
import { QualityOptionsSchema } from './qualityOptions.js';
import { summarizeReport } from './qualityReport.js';
import { openQualityService } from './qualityService.js';

/**
 * Data quality: completeness, uniqueness, consistency, freshness, volume anomalies, schema drift
 * and business rules over the hot tier, as the job `quality` (daily on `schedule`, or
 * `strata.runJob('quality')`), each report stored in `quality.db` with its history, and the
 * latest results served as the `quality` metric source for alert rules.
 */
export const qualityPlugin = definePlugin({
  name: 'quality',
  version: '0.1.0',
  options: QualityOptionsSchema,
  setup(context, options) {
    const service = openQualityService({
      dataDir: context.dataDir,
      options,
      hotTier: () => context.storage('hot'),
      now: () => context.clock.now(),
      logger: context.logger,
    });
    const job: Job = {
      name: 'quality',
      description: 'check the hot tier: completeness, uniqueness, consistency, freshness, volume anomalies, schema drift and business rules; store the report',
      ...(options.schedule === false ? {} : { schedule: options.schedule }),
      async run(jobContext) {
        const report = await service.run({
          signal: jobContext.signal,
          trigger: 'job',
          onProgress: ({ done, total }) => jobContext.progress({ done, total, unit: 'checks' }),
        });
        return { summary: summarizeReport(report), ...report };
      },
    };
    return {
      jobs: [job],
      metricSources: [qualityMetricSource(() => service.latest())],
      start() {
        // Every plugin is set up by now: a hot tier this plugin cannot read fails the start, not each run.
        hotSqliteFileOf(context.storage('hot'));
      },
      stop() {
        service.close();
      },
    };
  },
});
