import { CacheOptionsSchema, createMemoryCacheStore } from '../src/index.js';
import { DEFAULT_INSIGHTS_CACHE_TTLS, INSIGHTS_CACHE_CATEGORIES, cachedInsights, type InsightsCacheCategory } from '@strata/core';
import { createFakeClock } from '@strata/testing';
import { describe, expect, it } from 'vitest';
import { countingProvider } from './helpers.js';

const MINUTE = 60_000;
const range = { from: Date.UTC(2026, 0, 5), to: Date.UTC(2026, 0, 6) };

async function askEverything(insights: ReturnType<typeof cachedInsights>): Promise<void> {
  for (const category of INSIGHTS_CACHE_CATEGORIES) await insights[category]({ range });
}

describe('per-question TTLs', () => {
  it("keep each question's answer for its own TTL: 5 min, 10 min, 15 min, 1 h (the plan's), trending 15 min, system 1 min", async () => {
    const clock = createFakeClock();
    const { provider, computations } = countingProvider();
    const insights = cachedInsights(provider, createMemoryCacheStore({ clock }));
    await askEverything(insights);
    const computed = (): Record<InsightsCacheCategory, number> => ({ ...(computations as Record<InsightsCacheCategory, number>) });
    expect(Object.values(computed())).toEqual([1, 1, 1, 1, 1, 1]);

    const expected: Array<[number, Partial<Record<InsightsCacheCategory, number>>]> = [
      [1 * MINUTE, { systemPerformance: 1 }],
      [1 * MINUTE + 1, { systemPerformance: 2 }],
      [5 * MINUTE + 1, { commonQuestions: 2, systemPerformance: 3 }],
      // Common questions were stored again at 5 min + 1 ms: fresh through 10 min + 1 ms.
      [10 * MINUTE + 1, { userBehaviour: 2, commonQuestions: 2 }],
      [15 * MINUTE + 1, { contentEffectiveness: 2, trendingQueries: 2, commonQuestions: 3, userBehaviour: 2 }],
      [60 * MINUTE, { businessMetrics: 1 }],
      [60 * MINUTE + 1, { businessMetrics: 2 }],
    ];
    const start = clock.now();
    for (const [elapsed, counts] of expected) {
      clock.set(start + elapsed);
      await askEverything(insights);
      expect(computed(), `after ${elapsed} ms`).toMatchObject(counts);
    }
    expect(DEFAULT_INSIGHTS_CACHE_TTLS).toEqual({
      commonQuestions: 5 * MINUTE,
      userBehaviour: 10 * MINUTE,
      contentEffectiveness: 15 * MINUTE,
      businessMetrics: 60 * MINUTE,
      trendingQueries: 15 * MINUTE,
      systemPerformance: 1 * MINUTE,
    });
  });

  it('take the TTLs configured in the plugin options, which the store carries to the insights wrapper', async () => {
    const clock = createFakeClock();
    const options = CacheOptionsSchema.parse({ ttls: { commonQuestions: '30s', businessMetrics: '2h' }, sessionWindow: '6h' });
    const store = createMemoryCacheStore({ clock, insightsPolicy: { ttls: options.ttls, sessionWindowMs: options.sessionWindow } });
    const { provider, computations } = countingProvider();
    const insights = cachedInsights(provider, store);
    expect(insights.ttls).toMatchObject({ commonQuestions: 30_000, businessMetrics: 7_200_000, userBehaviour: 10 * MINUTE });
    await insights.commonQuestions({ range });
    clock.advance(30_001);
    await insights.commonQuestions({ range });
    expect(computations.commonQuestions).toBe(2);
  });
});
