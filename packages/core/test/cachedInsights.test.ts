import {
  DEFAULT_INSIGHTS_CACHE_TTLS,
  INSIGHTS_CACHE_CATEGORIES,
  MAX_DAY_TAGS,
  batchInvalidationTags,
  cachedInsights,
  hashQuery,
  insightsCacheKey,
  insightsCacheTags,
  metricInvalidationTags,
  normalizeQuery,
  type CacheStats,
  type CachedInsightsPolicy,
  type InsightsCacheStore,
  type InsightsPage,
  type InsightsProvider,
  type InsightsQuery,
  type Logger,
} from '@strata/core';
import { describe, expect, it, vi } from 'vitest';

const DAY = 86_400_000;
const D = Date.UTC(2026, 2, 10);
const date = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** A store over a Map that records what it was asked; TTLs are recorded, not enforced. */
class RecordingStore implements InsightsCacheStore {
  readonly name = 'recording';
  readonly entries = new Map<string, { json: string; ttlMs: number; tags: readonly string[] }>();
  readonly invalidations: string[][] = [];
  counters = { hits: 0, misses: 0, evictions: 0, errors: 0 };
  constructor(readonly insightsPolicy?: CachedInsightsPolicy) {}

  async get<T>(key: string): Promise<T | undefined> {
    const entry = this.entries.get(key);
    if (!entry) {
      this.counters.misses += 1;
      return undefined;
    }
    this.counters.hits += 1;
    return JSON.parse(entry.json) as T;
  }

  async set<T>(key: string, value: T, options: { ttlMs: number; tags: readonly string[] }): Promise<void> {
    this.entries.set(key, { json: JSON.stringify(value), ttlMs: options.ttlMs, tags: options.tags });
  }

  async invalidateTags(tags: readonly string[]): Promise<void> {
    this.invalidations.push([...tags]);
    for (const [key, entry] of this.entries) if (entry.tags.some((tag) => tags.includes(tag))) this.entries.delete(key);
  }

  stats(): CacheStats {
    return { ...this.counters, entries: this.entries.size };
  }
}

interface Gate {
  release(): void;
  promise: Promise<void>;
}

function gate(): Gate {
  let release!: () => void;
  const promise = new Promise<void>((resolve) => {
    release = resolve;
  });
  return { release, promise };
}

/**
 * A provider whose answers report the range they were asked for and list fixed items; it counts
 * its computations and can hold them at a gate.
 */
function countingProvider(options: { hold?: Gate; items?: unknown[] } = {}) {
  const computations = { count: 0 };
  const page = async (query: InsightsQuery | undefined): Promise<InsightsPage<unknown>> => {
    computations.count += 1;
    const version = computations.count;
    if (options.hold) await options.hold.promise;
    return { items: (options.items ?? [{ version }]).map((item) => structuredClone(item)), nextCursor: null, range: { from: query?.range?.from ?? null, to: query?.range?.to ?? null } };
  };
  const provider = {
    commonQuestions: page,
    userBehaviour: page,
    contentEffectiveness: page,
    businessMetrics: page,
    trendingQueries: async (query) => ({ ...(await page(query)), asOf: query?.range?.to ?? null, recentDays: 7, baselineDays: 28 }),
    systemPerformance: page,
  } as InsightsProvider;
  return { provider, computations };
}

function fakeLogger() {
  const warn = vi.fn();
  const info = vi.fn();
  return { logger: { warn, info, debug: vi.fn(), error: vi.fn() } as unknown as Logger, warn, info };
}

const range = { from: D, to: D + 3 * DAY };

describe('insights cache keys', () => {
  it('are the same for queries that differ only in field order or absent fields', () => {
    const a = insightsCacheKey('commonQuestions', { range: { from: 1, to: 2 }, userRole: 'student', limit: 5 });
    const b = insightsCacheKey('commonQuestions', { limit: 5, cursor: undefined, userRole: 'student', range: { to: 2, from: 1 } });
    expect(a).toBe(b);
    expect(insightsCacheKey('userBehaviour', undefined)).toBe(insightsCacheKey('userBehaviour', {}));
    expect(a).toMatch(/^insights:v1:commonQuestions:[0-9a-f]{32}$/);
  });

  it('differ for different questions, ranges, roles, limits, cursors and numbers JSON would confuse', () => {
    const keys = [
      insightsCacheKey('commonQuestions', { range: { from: 1, to: 2 } }),
      insightsCacheKey('userBehaviour', { range: { from: 1, to: 2 } }),
      insightsCacheKey('commonQuestions', { range: { from: 1, to: 3 } }),
      insightsCacheKey('commonQuestions', { range: { from: 1, to: 2 }, userRole: 'student' }),
      insightsCacheKey('commonQuestions', { range: { from: 1, to: 2 }, limit: 10 }),
      insightsCacheKey('commonQuestions', { range: { from: 1, to: 2 }, cursor: 'abc' }),
      insightsCacheKey('commonQuestions', { range: { from: 1, to: Number.POSITIVE_INFINITY } }),
      insightsCacheKey('commonQuestions', { range: { from: 1, to: null as unknown as number } }),
      insightsCacheKey('commonQuestions', { range: { from: 1, to: '2' as unknown as number } }),
    ];
    expect(new Set(keys).size).toBe(keys.length);
  });
});

describe('insights cache tags', () => {
  const page = (from: number | null, to: number | null, items: unknown[] = []): InsightsPage<unknown> => ({ items, nextCursor: null, range: { from, to } });

  it('name the question and every UTC day the covered (widened) range touches', () => {
    // The tier widened [D+1h, D+2d+1h) to whole days: [D, D+3d).
    const tags = insightsCacheTags('businessMetrics', { range: { from: D + 3_600_000, to: D + 2 * DAY + 3_600_000 } }, page(D, D + 3 * DAY));
    expect(tags).toEqual(['businessMetrics', `businessMetrics@${date(D)}`, `businessMetrics@${date(D + DAY)}`, `businessMetrics@${date(D + 2 * DAY)}`]);
  });

  it('use open-range when the query or the answer has an open end', () => {
    expect(insightsCacheTags('userBehaviour', undefined, page(null, null))).toEqual(['userBehaviour', 'userBehaviour@open-range']);
    expect(insightsCacheTags('userBehaviour', { range: { from: D } }, page(D, null))).toEqual(['userBehaviour', 'userBehaviour@open-range']);
    expect(insightsCacheTags('userBehaviour', { range: { to: D } }, page(null, D))).toEqual(['userBehaviour', 'userBehaviour@open-range']);
  });

  it('tag trending by the window it read when the range has an end, and as open-range without one', () => {
    // Trending ignores the range's start and reads [end − 35 d, end).
    const bounded = insightsCacheTags('trendingQueries', { range: { to: D } }, page(D - 35 * DAY, D));
    expect(bounded).toHaveLength(1 + 35);
    expect(bounded).toContain(`trendingQueries@${date(D - 35 * DAY)}`);
    expect(bounded).not.toContain('trendingQueries@open-range');
    // Without an end it reads up to the last day with data: any new day moves it.
    expect(insightsCacheTags('trendingQueries', {}, page(D - 35 * DAY, D))).toEqual(['trendingQueries', 'trendingQueries@open-range']);
  });

  it(`tag a range longer than ${MAX_DAY_TAGS} days as open-range rather than day by day`, () => {
    const long = { from: D - (MAX_DAY_TAGS + 1) * DAY, to: D };
    expect(insightsCacheTags('businessMetrics', { range: long }, page(long.from, long.to))).toEqual(['businessMetrics', 'businessMetrics@open-range']);
    const longest = { from: D - MAX_DAY_TAGS * DAY, to: D };
    expect(insightsCacheTags('businessMetrics', { range: longest }, page(longest.from, longest.to))).toHaveLength(1 + MAX_DAY_TAGS);
  });

  it('list the questions and content items of a bounded answer, whose all-time fields change with any new use', () => {
    const questions = insightsCacheTags('commonQuestions', { range }, page(range.from, range.to, [{ queryHash: 'aaa' }, { queryHash: 'bbb' }]));
    expect(questions).toEqual(expect.arrayContaining(['commonQuestions#aaa', 'commonQuestions#bbb']));
    const content = insightsCacheTags('contentEffectiveness', { range }, page(range.from, range.to, [{ contentType: 'career_kb', contentId: 'kb-1' }]));
    expect(content).toContain('contentEffectiveness#["career_kb","kb-1"]');
  });

  it('for a batch: its days, the days within the session window for session figures, open ranges and its items — never system performance', () => {
    const tags = batchInvalidationTags([{ timestamp: D + 5 * 3_600_000, query: 'How do I deploy?', content: [{ type: 'code_snippet', id: 'c-1', relevance: null }] }], DAY);
    const hash = hashQuery(normalizeQuery('How do I deploy?'));
    for (const category of ['commonQuestions', 'contentEffectiveness', 'trendingQueries']) {
      expect(tags).toContain(`${category}@${date(D)}`);
      expect(tags).toContain(`${category}@open-range`);
      expect(tags).not.toContain(`${category}@${date(D - DAY)}`);
    }
    for (const category of ['userBehaviour', 'businessMetrics']) {
      expect(tags).toEqual(expect.arrayContaining([`${category}@${date(D - DAY)}`, `${category}@${date(D)}`, `${category}@${date(D + DAY)}`, `${category}@open-range`]));
      expect(tags).not.toContain(`${category}@${date(D - 2 * DAY)}`);
      expect(tags).not.toContain(`${category}@${date(D + 2 * DAY)}`);
    }
    expect(tags).toContain(`commonQuestions#${hash}`);
    expect(tags).toContain('contentEffectiveness#["code_snippet","c-1"]');
    expect(tags.some((tag) => tag.startsWith('systemPerformance'))).toBe(false);
    expect(batchInvalidationTags([])).toEqual([]);
  });

  it('for metric writes: only system performance, by day and open range', () => {
    expect(metricInvalidationTags([{ timestamp: D + 1 }, { timestamp: D + 2 }])).toEqual(['systemPerformance@open-range', `systemPerformance@${date(D)}`]);
  });
});

describe('cachedInsights', () => {
  it('serves a repeated question from the store, and equal to what the provider said', async () => {
    const { provider, computations } = countingProvider();
    const store = new RecordingStore();
    const insights = cachedInsights(provider, store);
    const first = await insights.userBehaviour({ range });
    const second = await insights.userBehaviour({ range });
    expect(second).toEqual(first);
    expect(computations.count).toBe(1);
    expect(store.counters).toMatchObject({ hits: 1, misses: 1 });
  });

  it('computes ten concurrent misses of one key once, and gives each caller its own copy', async () => {
    const hold = gate();
    const { provider, computations } = countingProvider({ hold });
    const insights = cachedInsights(provider, new RecordingStore());
    const answers = Array.from({ length: 10 }, () => insights.commonQuestions({ range, limit: 5 }));
    hold.release();
    const pages = await Promise.all(answers);
    expect(computations.count).toBe(1);
    for (const page of pages) expect(page).toEqual(pages[0]);
    expect(new Set(pages).size).toBe(10);
    (pages[1]!.items[0] as unknown as { version: number }).version = 99;
    expect((pages[2]!.items[0] as unknown as { version: number }).version).toBe(1);
  });

  it('returns but does not store an answer whose computation was overtaken by an invalidation of its days', async () => {
    const hold = gate();
    const { provider, computations } = countingProvider({ hold });
    const store = new RecordingStore();
    const insights = cachedInsights(provider, store);
    const reading = insights.businessMetrics({ range });
    await vi.waitFor(() => expect(computations.count).toBe(1));
    await insights.invalidateForBatch([{ timestamp: D + DAY, query: 'q', content: [] }]);
    hold.release();
    expect((await reading).items).toEqual([{ version: 1 }]);
    expect(store.entries.size).toBe(0);
    await insights.businessMetrics({ range });
    expect(computations.count).toBe(2);
    expect(store.entries.size).toBe(1);
  });

  it('stores an answer whose computation saw only invalidations of other days', async () => {
    const hold = gate();
    const { provider, computations } = countingProvider({ hold });
    const store = new RecordingStore();
    const insights = cachedInsights(provider, store);
    const reading = insights.businessMetrics({ range });
    await vi.waitFor(() => expect(computations.count).toBe(1));
    await insights.invalidateForBatch([{ timestamp: D + 30 * DAY, query: 'q', content: [] }]);
    hold.release();
    await reading;
    expect(store.entries.size).toBe(1);
  });

  it('does not let a read that starts after an invalidation join a computation started before it', async () => {
    const hold = gate();
    const { provider, computations } = countingProvider({ hold });
    const insights = cachedInsights(provider, new RecordingStore());
    const before = insights.userBehaviour({ range });
    await insights.invalidateForBatch([{ timestamp: D, query: 'q', content: [] }]);
    const after = insights.userBehaviour({ range });
    hold.release();
    expect((await before).items).toEqual([{ version: 1 }]);
    expect((await after).items).toEqual([{ version: 2 }]);
    expect(computations.count).toBe(2);
  });

  it('drops the answers of the batch days and keeps the others', async () => {
    const { provider, computations } = countingProvider();
    const store = new RecordingStore();
    const insights = cachedInsights(provider, store);
    const dayD = { from: D, to: D + DAY };
    const weekLater = { from: D + 7 * DAY, to: D + 8 * DAY };
    await insights.businessMetrics({ range: dayD });
    await insights.businessMetrics({ range: weekLater });
    await insights.systemPerformance({ range: dayD });
    await insights.invalidateForBatch([{ timestamp: D + 60_000, query: 'q', content: [] }]);
    const keys = [...store.entries.keys()];
    expect(keys).toEqual([insightsCacheKey('businessMetrics', { range: weekLater }), insightsCacheKey('systemPerformance', { range: dayD })]);
    await insights.invalidateForMetrics([{ timestamp: D + 60_000 }]);
    expect([...store.entries.keys()]).toEqual([insightsCacheKey('businessMetrics', { range: weekLater })]);
    expect(computations.count).toBe(3);
    await insights.invalidateAll();
    expect(store.entries.size).toBe(0);
  });

  it('passes provider errors to the caller and caches nothing', async () => {
    const { provider } = countingProvider();
    let fail = true;
    const failing = {
      ...provider,
      commonQuestions: async (query?: InsightsQuery) => {
        if (fail) throw new Error('cursor is not one this tier issued');
        return provider.commonQuestions(query);
      },
    };
    const store = new RecordingStore();
    const insights = cachedInsights(failing, store);
    await expect(insights.commonQuestions({ cursor: 'bad' })).rejects.toThrow('cursor is not one this tier issued');
    expect(store.entries.size).toBe(0);
    fail = false;
    await expect(insights.commonQuestions({ cursor: 'bad' })).resolves.toMatchObject({ items: [{ version: 1 }] });
  });

  it('answers uncached when the store throws, warning once until it works again', async () => {
    const { provider, computations } = countingProvider();
    const store = new RecordingStore();
    let broken = true;
    const flaky: InsightsCacheStore = {
      name: 'flaky',
      get: (key) => (broken ? Promise.reject(new Error('connection reset')) : store.get(key)),
      set: (key, value, options) => (broken ? Promise.reject(new Error('connection reset')) : store.set(key, value, options)),
      invalidateTags: (tags) => (broken ? Promise.reject(new Error('connection reset')) : store.invalidateTags(tags)),
      stats: () => store.stats(),
    };
    const { logger, warn, info } = fakeLogger();
    const insights = cachedInsights(provider, flaky, { logger });
    for (let call = 0; call < 5; call += 1) await expect(insights.userBehaviour({ range })).resolves.toMatchObject({ items: [{ version: call + 1 }] });
    await expect(insights.invalidateForBatch([{ timestamp: D, query: 'q', content: [] }])).resolves.toBeUndefined();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]![1]).toMatch(/store failed; answering uncached/);
    broken = false;
    await insights.userBehaviour({ range });
    await insights.userBehaviour({ range });
    expect(computations.count).toBe(6);
    expect(info).toHaveBeenCalledTimes(1);
  });

  it('takes TTLs from the defaults, then the store, then its options', async () => {
    const { provider } = countingProvider();
    const store = new RecordingStore({ ttls: { commonQuestions: 120_000, userBehaviour: 30_000 } });
    const insights = cachedInsights(provider, store, { ttls: { userBehaviour: 45_000 } });
    expect(insights.ttls).toEqual({ ...DEFAULT_INSIGHTS_CACHE_TTLS, commonQuestions: 120_000, userBehaviour: 45_000 });
    await insights.commonQuestions();
    await insights.businessMetrics();
    const ttls = [...store.entries.values()].map((entry) => entry.ttlMs);
    expect(ttls).toEqual([120_000, DEFAULT_INSIGHTS_CACHE_TTLS.businessMetrics]);
    expect(DEFAULT_INSIGHTS_CACHE_TTLS).toMatchObject({ commonQuestions: 300_000, userBehaviour: 600_000, contentEffectiveness: 900_000, businessMetrics: 3_600_000 });
    expect(Object.keys(DEFAULT_INSIGHTS_CACHE_TTLS).sort()).toEqual([...INSIGHTS_CACHE_CATEGORIES].sort());
  });

  it('passes detail coverage through uncached, and offers none when the provider has none', async () => {
    const { provider } = countingProvider();
    const coverage = vi.fn(async () => ({ from: D }));
    const insights = cachedInsights({ ...provider, detailCoverage: coverage }, new RecordingStore());
    await insights.detailCoverage!();
    await insights.detailCoverage!();
    expect(coverage).toHaveBeenCalledTimes(2);
    expect(cachedInsights(provider, new RecordingStore()).detailCoverage).toBeUndefined();
  });
});
