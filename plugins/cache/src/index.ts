export { cacheMetricSource } from './cacheMetricSource.js';
export { CacheOptionsSchema, type CacheOptions, type ResolvedCacheOptions } from './cacheOptions.js';
export { cachePlugin } from './cachePlugin.js';
export { DEFAULT_MAX_ENTRIES, MemoryCacheStore, approximateBytes, createMemoryCacheStore, type MemoryCacheStoreOptions } from './memoryCacheStore.js';
export {
  RedisCacheStore,
  RedisCommandTimeoutError,
  createRedisCacheStore,
  redactUrl,
  type RedisCacheStoreOptions,
  type RedisConnection,
  type RedisStoreState,
} from './redisCacheStore.js';
