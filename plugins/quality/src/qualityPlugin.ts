import { definePlugin, layerInsights, tierInsights, type Job } from '@strata/core';
import { baselineSourceOf } from './findings/baselineSource.js';
import { openInsightsService } from './findings/insightsService.js';
import { findingsErasureParticipant } from './findings/findingsErasure.js';
import { hotSqliteFileOf, hotSqliteQualitySource } from './hotSqliteQualitySource.js';
import { qualityMetricSource } from './qualityMetricSource.js';
import { QualityOptionsSchema } from './qualityOptions.js';
import { summarizeInsightRun } from './findings/insightSummary.js';
import { QualitySetupError } from './qualityErrors.js';
import { summarizeReport } from './qualityReport.js';
import { openQualityService } from './qualityService.js';

/**
 * Data quality: completeness, uniqueness, consistency, freshness, volume anomalies, schema drift
 * and business rules over the hot tier, as the job `quality` (daily on `schedule`, or
 * `strata.runJob('quality')`), each report stored in `quality.db` with its history, and the
 * latest results served as the `quality` metric source for alert rules. Also the job `insights`
 * (daily on `insightsSchedule`): findings a person can act on, from the insights API and the warm
 * tier's baselines, stored in the same file and counted in the metric source.
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
    const insights = openInsightsService({
      dataDir: context.dataDir,
      options,
      // What `strata.insights` answers, without its cache: months the hot tier pruned come from the warm tier.
      insights: () => {
        const hot = context.storage('hot');
        if (!hot) throw new QualitySetupError('no hot tier to read insights from; add hot-sqlite or hot-postgres to plugins');
        return layerInsights(tierInsights(hot), context.storage('warm')?.insights);
      },
      baselines: () => baselineSourceOf(context.storage('warm')),
      now: () => context.clock.now(),
      logger: context.logger,
    });
    const insightsJob: Job = {
      name: 'insights',
      description: 'turn the insights into findings: trending questions, weak content, roles whose success or rating dropped, response-time regressions, unanswered questions; store them',
      ...(options.insightsSchedule === false ? {} : { schedule: options.insightsSchedule }),
      async run(jobContext) {
        const run = await insights.run({ signal: jobContext.signal, trigger: 'job' });
        return { summary: summarizeInsightRun(run), ...run };
      },
    };
    return {
      jobs: [job, insightsJob],
      erasure: [findingsErasureParticipant(() => insights, () => hotSqliteQualitySource(context.storage('hot'), { busyTimeoutMs: options.busyTimeoutMs }))],
      metricSources: [qualityMetricSource(() => service.latest(), () => insights.latest())],
      start() {
        // Every plugin is set up by now: a hot tier this plugin cannot read fails the start, not each run.
        hotSqliteFileOf(context.storage('hot'));
      },
      stop() {
        insights.close();
        service.close();
      },
    };
  },
});
