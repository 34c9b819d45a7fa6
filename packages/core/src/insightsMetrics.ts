import type { InsightsProvider } from './insights.js';
import type { MetricReading, MetricSource } from './types.js';

/**
 * The assistant's own health from the insights rollups, over a recent window: how many answers,
 * how many succeeded and how fast they came. A window with no interactions gives only
 * `insights.interactions` = 0, so rules on rates see "no data" rather than a made-up 0 or 100 %.
 */
export function insightsMetricSource(insights: () => InsightsProvider, windowMs: number, now: () => number): MetricSource {
  return {
    name: 'insights',
    async read(): Promise<MetricReading[]> {
      const at = now();
      const page = await insights().userBehaviour({ range: { from: at - windowMs, to: at }, limit: 1_000 });
      let interactions = 0;
      let successes = 0;
      let responseSeconds = 0;
      let p95 = 0;
      for (const role of page.items) {
        interactions += role.interactions;
        successes += (role.successRate ?? 0) * role.interactions;
        responseSeconds += (role.avgResponseTime ?? 0) * role.interactions;
        p95 = Math.max(p95, role.p95ResponseTime ?? 0);
      }
      const readings: MetricReading[] = [{ name: 'insights.interactions', value: interactions, unit: 'interactions', at }];
      if (interactions > 0) {
        const successRate = successes / interactions;
        readings.push(
          { name: 'insights.success_rate', value: successRate, unit: 'ratio', at },
          { name: 'insights.error_rate', value: 1 - successRate, unit: 'ratio', at },
          { name: 'insights.avg_response_time_seconds', value: responseSeconds / interactions, unit: 's', at },
          // The slowest role's p95: an upper bound of the overall p95, which cannot be merged from per-role figures.
          { name: 'insights.p95_response_time_seconds', value: p95, unit: 's', at },
        );
      }
      return readings;
    },
  };
}
