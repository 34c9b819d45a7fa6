import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, DEFAULT_EVENT_LIMITS, createStrata, resolveConfig, type PluginContext, type PluginContribution } from '@strata/core';
import { hotSqlitePlugin } from '@strata/hot-sqlite';
import { createFakeClock } from '@strata/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { CacheOptionsSchema, MemoryCacheStore, RedisCacheStore, cacheMetricSource, cachePlugin, createMemoryCacheStore } from '../src/index.js';
import { SHARED_REDIS_PORT, recordingLogger, sharedRedisUnavailable } from './helpers.js';

const directories: string[] = [];
afterEach(() => {
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

function tempDir(): string {
  const directory = mkdtempSync(join(tmpdir(), 'strata-cache-plugin-'));
  directories.push(directory);
  return directory;
}

async function configIssues(options: unknown): Promise<string[]> {
  const error = await resolveConfig({ plugins: [{ name: 'cache', options }] }, { catalog: { cache: () => cachePlugin } }).catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(ConfigError);
  return (error as ConfigError).issues.map((issue) => `${issue.path}: ${issue.message}`);
}

function context(logger = recordingLogger().logger): PluginContext {
  const dataDir = tempDir();
  return {
    name: 'cache',
    logger,
    dataDir,
    config: { source: null, dataDir, plugins: [] },
    clock: createFakeClock(),
    limits: DEFAULT_EVENT_LIMITS,
    storage: () => undefined,
    metricSources: () => [],
    contributions: () => [],
  };
}

describe('cache plugin options', () => {
  it('default to a memory store of 10,000 entries and 64 MiB, the default TTLs and a one-day session window', () => {
    expect(CacheOptionsSchema.parse({})).toEqual({
      store: 'memory',
      maxEntries: 10_000,
      maxBytes: 64 * 1024 * 1024,
      ttls: {},
      sessionWindow: 86_400_000,
      redis: { url: 'redis://127.0.0.1:6379', keyPrefix: 'strata:', connectTimeoutMs: 2_000, commandTimeoutMs: 500 },
    });
  });

  it('turn TTLs written as durations into milliseconds', () => {
    expect(CacheOptionsSchema.parse({ ttls: { commonQuestions: '2m', systemPerformance: '30s' } }).ttls).toEqual({ commonQuestions: 120_000, systemPerformance: 30_000 });
  });

  it('reject bad values, naming each field and the reason, all at once', async () => {
    const issues = await configIssues({
      store: 'memcached',
      maxEntries: 0,
      ttls: { commonQuestions: 'soon', businessMetrics: '30d', popularity: '5m' },
      sessionWindow: '1 fortnight',
      redis: { url: 'http://localhost:6379', commandTimeoutMs: 0, keyprefix: 'x' },
    });
    const text = issues.join('\n');
    expect(text).toMatch(/plugins\[0\]\.options\.store: .*memory.*redis/);
    expect(text).toMatch(/plugins\[0\]\.options\.maxEntries: /);
    expect(text).toMatch(/plugins\[0\]\.options\.ttls\.commonQuestions: expected a duration such as 5m, got "soon"/);
    expect(text).toMatch(/plugins\[0\]\.options\.ttls\.businessMetrics: must be between 1s and 7d, got 30d/);
    expect(text).toMatch(/plugins\[0\]\.options\.ttls.*popularity/);
    expect(text).toMatch(/plugins\[0\]\.options\.sessionWindow: expected a duration such as 1d/);
    expect(text).toMatch(/plugins\[0\]\.options\.redis\.url: expected a URL such as redis:\/\/127\.0\.0\.1:6379, got "http:\/\/localhost:6379"/);
    expect(text).toMatch(/plugins\[0\]\.options\.redis\.commandTimeoutMs: /);
    expect(text).toMatch(/plugins\[0\]\.options\.redis.*keyprefix/);
  });
});

describe('cache plugin', () => {
  it('contributes a memory store carrying its TTLs, and the cache metric source', async () => {
    const contribution: PluginContribution = await cachePlugin.setup(context(), CacheOptionsSchema.parse({ maxEntries: 5, ttls: { trendingQueries: '1h' } }));
    expect(contribution.cache).toBeInstanceOf(MemoryCacheStore);
    expect((contribution.cache as MemoryCacheStore).insightsPolicy).toEqual({ ttls: { trendingQueries: 3_600_000 }, sessionWindowMs: 86_400_000 });
    expect(contribution.metricSources?.map((source) => source.name)).toEqual(['cache']);
    await contribution.stop?.();
  });

  it('shows its metrics among the Strata instance metric sources', async () => {
    const strata = await createStrata({
      config: { dataDir: tempDir(), plugins: [hotSqlitePlugin({ writer: 'inline' }), cachePlugin()] },
      logLevel: 'silent',
      scheduleJobs: false,
      monitor: false,
    });
    try {
      const source = strata.metricSources().find((candidate) => candidate.name === 'cache');
      expect(source).toBeDefined();
      const readings = await source!.read({ now: 1 });
      expect(readings.map((reading) => reading.name)).toEqual(['cache.hits', 'cache.misses', 'cache.evictions', 'cache.errors', 'cache.entries']);
    } finally {
      await strata.close();
    }
  });

  it('starts, uncached and with one warning, when Redis cannot be reached', async () => {
    const { logger, warn } = recordingLogger();
    const contribution = await cachePlugin.setup(context(logger), CacheOptionsSchema.parse({ store: 'redis', redis: { url: 'redis://127.0.0.1:1', connectTimeoutMs: 200 } }));
    await contribution.start?.();
    expect((contribution.cache as RedisCacheStore).state).toBe('down');
    expect(warn).toHaveBeenCalledTimes(1);
    await contribution.stop?.();
  });

  it('loads the Redis client only inside the Redis store factory', () => {
    const sources = readdirSync(join(import.meta.dirname, '..', 'src')).map((file) => readFileSync(join(import.meta.dirname, '..', 'src', file), 'utf8'));
    const staticImports = sources.flatMap((source) => source.match(/^import(?! type)[^;]*from '@redis\/client'/gm) ?? []);
    expect(staticImports).toEqual([]);
    expect(sources.some((source) => source.includes("await import('@redis/client')"))).toBe(true);
  });
});

describe('cache metric source', () => {
  it('reports hits, misses, evictions, errors, the hit ratio and entries, labelled with the store', async () => {
    const store = createMemoryCacheStore({ maxEntries: 1, clock: createFakeClock() });
    await store.set('a', 1, { ttlMs: 1_000, tags: [] });
    await store.set('b', 2, { ttlMs: 1_000, tags: [] });
    await store.get('a');
    await store.get('b');
    await store.get('b');
    await store.get('b');
    const readings = await cacheMetricSource(store).read({ now: 42 });
    const value = (name: string) => readings.find((reading) => reading.name === name)?.value;
    expect(value('cache.hits')).toBe(3);
    expect(value('cache.misses')).toBe(1);
    expect(value('cache.evictions')).toBe(1);
    expect(value('cache.errors')).toBe(0);
    expect(value('cache.hit_ratio')).toBe(0.75);
    expect(value('cache.entries')).toBe(1);
    expect(readings.every((reading) => reading.at === 42 && reading.labels?.store === 'memory')).toBe(true);
  });

  it('reports no hit ratio before the first lookup', async () => {
    const readings = await cacheMetricSource(createMemoryCacheStore()).read({ now: 1 });
    expect(readings.find((reading) => reading.name === 'cache.hit_ratio')).toBeUndefined();
  });
});

const redisReason = await sharedRedisUnavailable();

describe.skipIf(redisReason !== undefined)('cache plugin with store: redis', () => {
  it('connects on start and closes the client on stop', async () => {
    const contribution = await cachePlugin.setup(context(), CacheOptionsSchema.parse({ store: 'redis', redis: { url: `redis://127.0.0.1:${SHARED_REDIS_PORT}`, keyPrefix: `strata-test:${randomUUID()}:` } }));
    const store = contribution.cache as RedisCacheStore;
    expect(store).toBeInstanceOf(RedisCacheStore);
    expect(store.state).toBe('idle');
    await contribution.start?.();
    expect(store.state).toBe('up');
    await contribution.stop?.();
    expect(store.state).toBe('closed');
  });
});
