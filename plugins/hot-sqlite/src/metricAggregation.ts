import type { Metric } from '@strata/core';
import { ROLLUP_SIZES } from './batchAggregation.js';
import { floorTo } from './timeBuckets.js';

/** One metric rollup row's samples in a batch: count, sum, min and max. */
export interface MetricDelta {
  bucket: number;
  name: string;
  component: string;
  unit: string;
  samples: number;
  sum: number;
  min: number;
  max: number;
}

/**
 * A batch of metric samples summed per bucket, name, component and unit, one map per granularity
 * (minute, hour, day), so each metric rollup row is written once per batch.
 */
export function aggregateMetrics(metrics: readonly Metric[]): Array<Map<string, MetricDelta>> {
  const rollups = ROLLUP_SIZES.map(() => new Map<string, MetricDelta>());
  for (const metric of metrics) {
    // Absent component and unit are '' in rollup keys (a key column cannot be NULL and still be unique).
    const component = metric.component ?? '';
    const unit = metric.unit ?? '';
    const suffix = `${metric.name.length}:${metric.name}${component.length}:${component}${unit}`;
    for (let granularity = 0; granularity < ROLLUP_SIZES.length; granularity += 1) {
      const bucket = floorTo(metric.timestamp, ROLLUP_SIZES[granularity]!);
      const key = `${bucket}:${suffix}`;
      const map = rollups[granularity]!;
      const delta = map.get(key);
      if (!delta) map.set(key, { bucket, name: metric.name, component, unit, samples: 1, sum: metric.value, min: metric.value, max: metric.value });
      else {
        delta.samples += 1;
        delta.sum += metric.value;
        if (metric.value < delta.min) delta.min = metric.value;
        if (metric.value > delta.max) delta.max = metric.value;
      }
    }
  }
  return rollups;
}
