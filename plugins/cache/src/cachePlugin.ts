import { definePlugin, type CachedInsightsPolicy, type PluginContribution } from '@strata/core';
import { cacheMetricSource } from './cacheMetricSource.js';
import { CacheOptionsSchema } from './cacheOptions.js';
import { createMemoryCacheStore } from './memoryCacheStore.js';
import { createRedisCacheStore } from './redisCacheStore.js';

/**
 * The insights cache. Contributes the `cache` store (the core reads insights through it and
 * invalidates it on ingest) and the `cache` metric source. With `store: 'redis'` the Redis client
 * is loaded only here, in setup; start connects (waiting at most `redis.connectTimeoutMs`, and
 * starting uncached rather than failing when Redis is down); stop closes the connection.
 */
export const cachePlugin = definePlugin({
  name: 'cache',
  version: '0.1.0',
  options: CacheOptionsSchema,
  // Start waits for Redis at most redis.connectTimeoutMs (≤ 10 s).
  startTimeoutMs: 15_000,
  async setup(context, options): Promise<PluginContribution> {
    const insightsPolicy: CachedInsightsPolicy = { ttls: options.ttls, sessionWindowMs: options.sessionWindow };
    if (options.store === 'memory') {
      const store = createMemoryCacheStore({ maxEntries: options.maxEntries, maxBytes: options.maxBytes, clock: context.clock, insightsPolicy });
      return { cache: store, metricSources: [cacheMetricSource(store)], stop: () => store.close() };
    }
    const store = await createRedisCacheStore({ ...options.redis, logger: context.logger, clock: context.clock, insightsPolicy });
    return {
      cache: store,
      metricSources: [cacheMetricSource(store)],
      async start() {
        await store.connect();
      },
      stop: () => store.close(),
    };
  },
});
