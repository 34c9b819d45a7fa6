import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { computeKpis, type InsightsProvider, type Kpi, type MetricSource, type StorageTier, type SystemPerformancePoint } from '@strata/core';
import { describe, expect, it } from 'vitest';
import { tempDir } from './fixtures.js';

const NOW = Date.UTC(2026, 5, 30, 12);
const DAY = 86_400_000;

function insights(options: { interactionsLastDay: number; sizes?: SystemPerformancePoint[]; writeFailures?: SystemPerformancePoint[]; slowMs?: number }): InsightsProvider {
  const page = <T>(items: T[]) => ({ items, nextCursor: null, range: { from: null, to: null } });
  return {
    commonQuestions: async () => page([]),
    contentEffectiveness: async () => page([]),
    trendingQueries: async () => ({ ...page([]), asOf: NOW, recentDays: 7, baselineDays: 28 }) as never,
    businessMetrics: async () => {
      if (options.slowMs) await new Promise((resolve) => setTimeout(resolve, options.slowMs));
      return page([]);
    },
    userBehaviour: async () => page([{ userRole: 'student', interactions: options.interactionsLastDay } as never]),
    systemPerformance: async (query) => page((query?.metricName === 'system.database_size_mb' ? options.sizes : options.writeFailures) ?? []),
  };
}

const point = (day: number, metricName: string, avg: number, max = avg, samples = 60): SystemPerformancePoint => ({ bucketStart: NOW - day * DAY, metricName, component: 'strata', unit: null, samples, avg, min: avg, max });

function byName(kpis: Kpi[]): Record<string, Kpi> {
  return Object.fromEntries(kpis.map((kpi) => [kpi.name, kpi]));
}

describe('computeKpis', () => {
  it('measures each KPI against the plan and says when there is not enough data', async () => {
    const deadLetterDir = join(tempDir(), 'dead-letter');
    mkdirSync(deadLetterDir);
    // 3 rejected in the last day, 1 older one that no longer counts.
    writeFileSync(
      join(deadLetterDir, `${new Date(NOW).toISOString().slice(0, 10)}.jsonl`),
      [NOW - 3_600_000, NOW - 7_200_000, NOW - 60_000].map((at) => JSON.stringify({ at: new Date(at).toISOString(), reason: 'bad' })).join('\n') + '\n',
    );
    writeFileSync(join(deadLetterDir, `${new Date(NOW - DAY).toISOString().slice(0, 10)}.jsonl`), `${JSON.stringify({ at: new Date(NOW - 2 * DAY).toISOString(), reason: 'old' })}\n`);
    const hot = { name: 'fake', latestTimestamp: async () => NOW - 2 * 60_000 } as unknown as StorageTier;
    const backup: MetricSource = { name: 'backup', read: async () => [{ name: 'backup.success_ratio', value: 0.5, at: NOW }, { name: 'backup.last_success_age_hours', value: 30, at: NOW }] };
    const kpis = byName(
      await computeKpis({
        hot,
        insights: insights({
          interactionsLastDay: 997,
          sizes: [point(31, 'system.database_size_mb', 100), point(15, 'system.database_size_mb', 150), point(1, 'system.database_size_mb', 180)],
          writeFailures: [point(0.5, 'system.write_failures', 0, 0, 99), point(0.2, 'system.write_failures', 1, 1, 1)],
        }),
        deadLetterDir,
        metricSources: () => [backup],
        now: () => NOW,
      }),
    );
    expect(kpis.data_freshness).toMatchObject({ value: 2, status: 'ok' });
    expect(kpis.dashboard_latency!.status).toBe('ok');
    expect(kpis.backup_success).toMatchObject({ value: 50, status: 'breach' });
    expect(kpis.data_error_rate).toMatchObject({ value: 0.3, status: 'breach' });
    expect(kpis.data_error_rate!.detail).toBe('3 rejected of 1000 received in the last 24 hours');
    expect(kpis.monthly_storage_growth).toMatchObject({ value: 80, status: 'breach' });
    expect(kpis.ingest_availability).toMatchObject({ value: 99, status: 'breach' });
  });

  it('reports unknown, with the reason, before there is data', async () => {
    const kpis = byName(
      await computeKpis({
        hot: { name: 'empty', latestTimestamp: async () => null } as unknown as StorageTier,
        insights: insights({ interactionsLastDay: 0 }),
        deadLetterDir: join(tempDir(), 'none'),
        metricSources: () => [],
        now: () => NOW,
      }),
    );
    for (const name of ['data_freshness', 'backup_success', 'data_error_rate', 'monthly_storage_growth', 'ingest_availability']) {
      expect(kpis[name]).toMatchObject({ value: null, status: 'unknown' });
      expect(kpis[name]!.detail.length).toBeGreaterThan(10);
    }
  });
});

describe('kpiMetricSource', () => {
  it('reuses one computation for its maximum age and recomputes after it', async () => {
    const { kpiMetricSource } = await import('@strata/core');
    let computed = 0;
    const source = kpiMetricSource(async () => {
      computed += 1;
      return [{ name: 'data_freshness', value: computed, unit: 'minutes', target: { value: 5, better: 'below' }, status: 'ok', detail: '' }];
    }, 60_000);
    expect(await source.read({ now: NOW })).toEqual([{ name: 'kpi.data_freshness', value: 1, unit: 'minutes', at: NOW }]);
    expect((await source.read({ now: NOW + 30_000 }))[0]!.value).toBe(1);
    expect((await source.read({ now: NOW + 60_000 }))[0]!.value).toBe(2);
    expect(computed).toBe(2);
  });
});
