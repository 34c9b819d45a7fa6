import type { CacheStore, MetricReading, MetricSource } from '@strata/core';

/**
 * The cache's counters as metrics, for the system monitor and alert rules: `cache.hits`,
 * `cache.misses`, `cache.evictions`, `cache.errors` (counts since the store opened, in this
 * process), `cache.hit_ratio` (hits / lookups since the store opened; absent before the first
 * lookup, so a rule sees "no data" rather than a made-up 0) and `cache.entries` when the store
 * can tell. Every reading is labelled with the store (`memory` or `redis`).
 */
export function cacheMetricSource(store: CacheStore): MetricSource {
  return {
    name: 'cache',
    async read({ now }): Promise<MetricReading[]> {
      const stats = store.stats();
      const labels = { store: store.name };
      const count = (name: string, value: number): MetricReading => ({ name, value, unit: 'count', labels, at: now });
      const readings = [
        count('cache.hits', stats.hits),
        count('cache.misses', stats.misses),
        count('cache.evictions', stats.evictions),
        count('cache.errors', stats.errors),
      ];
      const lookups = stats.hits + stats.misses;
      if (lookups > 0) readings.push({ name: 'cache.hit_ratio', value: stats.hits / lookups, unit: 'ratio', labels, at: now });
      if (stats.entries !== undefined) readings.push({ name: 'cache.entries', value: stats.entries, unit: 'entries', labels, at: now });
      return readings;
    },
  };
}
