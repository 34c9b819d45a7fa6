import { describe, expect, it } from 'vitest';
import {
  contentPerformanceScore,
  hashQuery,
  layerInsights,
  normalizeQuery,
  trendingScoreOf,
  type CommonQuestion,
  type ContentEffectiveness,
  type InsightsPage,
  type InsightsProvider,
  type InsightsQuery,
  type TrendingPage,
  type TrendingQueriesQuery,
} from '../src/index.js';

const DAY = 86_400_000;

/** One answered question, as a tier would have rolled it up. */
interface Ask {
  at: number;
  role: string;
  query: string;
  type: string;
  success: boolean;
  responseUs: number;
  rating: number | null;
  content: Array<{ type: string; id: string; relevanceMicros: number | null }>;
}

const cmp = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));
const floorMonth = (ms: number) => Date.UTC(new Date(ms).getUTCFullYear(), new Date(ms).getUTCMonth(), 1);
const ceilMonth = (ms: number) => (floorMonth(ms) === ms ? ms : Date.UTC(new Date(ms).getUTCFullYear(), new Date(ms).getUTCMonth() + 1, 1));

/** A seeded random number generator (mulberry32), so workloads repeat. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function asks(count: number, seed: number, from: number, days: number): Ask[] {
  const next = random(seed);
  const pick = <T>(list: readonly T[]) => list[Math.floor(next() * list.length)]!;
  return Array.from({ length: count }, (_, index) => ({
    at: from + Math.floor((index / count) * days * DAY) + Math.floor(next() * 60_000),
    role: pick(['engineer', 'recruiter', 'student']),
    query: `Question number ${Math.floor(next() ** 2 * 40)}?`,
    type: pick(['technical', 'career', 'fun']),
    success: next() < 0.9,
    responseUs: Math.floor(next() * 9_000_000),
    rating: next() < 0.3 ? 1 + Math.floor(next() * 5) : null,
    content: Array.from({ length: Math.floor(next() * 3) }, () => ({
      type: pick(['kb', 'snippet']),
      id: `item-${Math.floor(next() * 25)}`,
      relevanceMicros: next() < 0.8 ? Math.floor(next() * 1000) * 1000 : null,
    })),
  }));
}

interface FakeOptions {
  /** What the tier answers ranges from. */
  detail: readonly Ask[];
  /** What its per-item facts (roles, last use, category) cover; default `detail`. */
  facts?: readonly Ask[];
  /** The bucket a range is widened to. */
  unit: 'day' | 'month';
  coverage?: () => number | null;
  /** Whether content answers carry `relevanceCount` (the warm tier's do, hot-sqlite's today do not). */
  countsRelevance?: boolean;
}

type Fake = InsightsProvider & { calls: string[] };

/** A tier answering from in-memory asks with the documented formulas; cursors are plain offsets. */
function fakeTier(options: FakeOptions): Fake {
  const calls: string[] = [];
  const facts = options.facts ?? options.detail;
  const widen = (range: InsightsQuery['range']) => {
    const down = (ms: number) => (options.unit === 'day' ? Math.floor(ms / DAY) * DAY : floorMonth(ms));
    const up = (ms: number) => (options.unit === 'day' ? Math.ceil(ms / DAY) * DAY : ceilMonth(ms));
    return { from: range?.from === undefined ? null : down(range.from), to: range?.to === undefined ? null : up(range.to) };
  };
  const select = (query: InsightsQuery) => {
    const range = widen(query.range);
    const list = options.detail.filter(
      (ask) => (range.from === null || ask.at >= range.from) && (range.to === null || ask.at < range.to) && (query.userRole === undefined || ask.role === query.userRole),
    );
    return { range, list };
  };
  const page = <T>(items: T[], query: InsightsQuery, range: InsightsPage<T>['range']): InsightsPage<T> => {
    const start = query.cursor === undefined ? 0 : Number(/^fake:(\d+)$/.exec(query.cursor)?.[1] ?? Number.NaN);
    if (!Number.isInteger(start)) throw new Error(`fake tier: cursor ${query.cursor} is not mine`);
    const limit = Math.min(query.limit ?? 50, 1_000);
    return { items: items.slice(start, start + limit), nextCursor: start + limit < items.length ? `fake:${start + limit}` : null, range };
  };
  const rolesBy = (list: readonly { role: string }[]) => {
    const counts = new Map<string, number>();
    for (const item of list) counts.set(item.role, (counts.get(item.role) ?? 0) + 1);
    return [...counts].sort((a, b) => b[1] - a[1] || cmp(a[0], b[0])).map(([role]) => role);
  };
  const hashOf = (ask: Ask) => hashQuery(normalizeQuery(ask.query));
  const questionsIn = (list: readonly Ask[]) => {
    const groups = new Map<string, Ask[]>();
    for (const ask of list) groups.set(hashOf(ask), [...(groups.get(hashOf(ask)) ?? []), ask]);
    return groups;
  };
  const provider: Fake = {
    calls,
    async commonQuestions(query = {}) {
      calls.push('commonQuestions');
      const { range, list } = select(query);
      const all = questionsIn(facts);
      const items = [...questionsIn(list)]
        .map(([hash, group]): CommonQuestion => {
          const known = all.get(hash)!;
          const first = [...known].sort((a, b) => a.at - b.at || cmp(a.type, b.type))[0]!;
          const rated = group.filter((ask) => ask.rating !== null);
          return {
            queryHash: hash,
            query: normalizeQuery(group[0]!.query),
            category: first.type,
            asks: group.length,
            successRate: group.filter((ask) => ask.success).length / group.length,
            avgResponseTime: group.reduce((sum, ask) => sum + ask.responseUs, 0) / 1e6 / group.length,
            avgRating: rated.length > 0 ? rated.reduce((sum, ask) => sum + ask.rating!, 0) / rated.length : null,
            ratedAsks: rated.length,
            popularRoles: rolesBy(known),
            lastAsked: Math.max(...known.map((ask) => ask.at)),
          };
        })
        .sort((a, b) => b.asks - a.asks || cmp(a.queryHash, b.queryHash));
      return page(items, query, range);
    },
    async contentEffectiveness(query = {}) {
      calls.push('contentEffectiveness');
      const { range, list } = select(query);
      const uses = (asksList: readonly Ask[]) => asksList.flatMap((ask) => ask.content.map((item) => ({ ...item, role: ask.role, at: ask.at, success: ask.success })));
      const key = (item: { type: string; id: string }) => JSON.stringify([item.type, item.id]);
      const all = new Map<string, ReturnType<typeof uses>>();
      for (const use of uses(facts)) all.set(key(use), [...(all.get(key(use)) ?? []), use]);
      const groups = new Map<string, ReturnType<typeof uses>>();
      for (const use of uses(list)) groups.set(key(use), [...(groups.get(key(use)) ?? []), use]);
      const items = [...groups]
        .map(([itemKey, group]) => {
          const known = all.get(itemKey)!;
          const scored = group.filter((use) => use.relevanceMicros !== null);
          const micros = scored.reduce((sum, use) => sum + use.relevanceMicros!, 0);
          const successes = group.filter((use) => use.success).length;
          // Third-party tiers written before relevanceCount existed omit it; the merge must cope.
          const item: Omit<ContentEffectiveness, 'relevanceCount'> & { relevanceCount?: number } = {
            contentType: group[0]!.type,
            contentId: group[0]!.id,
            accesses: group.length,
            avgRelevance: scored.length > 0 ? micros / 1e6 / scored.length : null,
            successRate: successes / group.length,
            performanceScore: contentPerformanceScore(successes, group.length, micros, scored.length),
            roles: rolesBy(known),
            firstAccessed: Math.min(...known.map((use) => use.at)),
            lastAccessed: Math.max(...known.map((use) => use.at)),
          };
          if (options.countsRelevance) item.relevanceCount = scored.length;
          return item;
        })
        .sort((a, b) => b.performanceScore - a.performanceScore || cmp(a.contentType, b.contentType) || cmp(a.contentId, b.contentId));
      return page(items as ContentEffectiveness[], query, range);
    },
    async trendingQueries(query: TrendingQueriesQuery = {}): Promise<TrendingPage> {
      calls.push('trendingQueries');
      const recentDays = query.recentDays ?? 7;
      const baselineDays = query.baselineDays ?? 28;
      const latest = Math.max(...options.detail.map((ask) => Math.floor(ask.at / DAY) * DAY));
      const asOf = query.range?.to !== undefined ? Math.ceil(query.range.to / DAY) * DAY : latest + DAY;
      const recentFrom = asOf - recentDays * DAY;
      const baselineFrom = recentFrom - baselineDays * DAY;
      const mine = options.detail.filter((ask) => query.userRole === undefined || ask.role === query.userRole);
      const recent = questionsIn(mine.filter((ask) => ask.at >= recentFrom && ask.at < asOf));
      const baseline = questionsIn(mine.filter((ask) => ask.at >= baselineFrom && ask.at < recentFrom));
      const items = [...recent]
        .map(([queryHash, group]) => {
          const baselineAsks = baseline.get(queryHash)?.length ?? 0;
          const expectedAsks = (baselineAsks * recentDays) / baselineDays;
          return { queryHash, query: normalizeQuery(group[0]!.query), recentAsks: group.length, baselineAsks, expectedAsks, trendingScore: trendingScoreOf(group.length, expectedAsks) };
        })
        .filter((item) => item.trendingScore > 0)
        .sort((a, b) => b.trendingScore - a.trendingScore || cmp(a.queryHash, b.queryHash));
      return { ...page(items, query, { from: baselineFrom, to: asOf }), asOf, recentDays, baselineDays };
    },
    async userBehaviour() {
      calls.push('userBehaviour');
      return { items: [], nextCursor: null, range: { from: null, to: null } };
    },
    async businessMetrics() {
      calls.push('businessMetrics');
      return { items: [], nextCursor: null, range: { from: null, to: null } };
    },
    async systemPerformance() {
      calls.push('systemPerformance');
      return { items: [], nextCursor: null, range: { from: null, to: null } };
    },
  };
  if (options.coverage) provider.detailCoverage = async () => ({ from: options.coverage!() });
  return provider;
}

// Five months of asks: 2025-01 … 2025-05. Retention moved January to March into the warm tier.
const ALL = asks(4_000, 7, Date.UTC(2025, 0, 1), 151);
const SPLIT = Date.UTC(2025, 3, 1);

function setup(options: { coverage?: number | null; hotCountsRelevance?: boolean } = {}) {
  const coverage = options.coverage === undefined ? SPLIT : options.coverage;
  const full = fakeTier({ detail: ALL, unit: 'day' });
  const hot = fakeTier({
    detail: coverage === null ? ALL : ALL.filter((ask) => ask.at >= coverage),
    facts: ALL,
    unit: 'day',
    coverage: () => coverage,
    countsRelevance: options.hotCountsRelevance ?? false,
  });
  const warm = fakeTier({ detail: coverage === null ? [] : ALL.filter((ask) => ask.at < coverage), unit: 'month', countsRelevance: true });
  return { full, hot, warm, layered: layerInsights(hot, warm) };
}

/** The numbers that depend on the range (per-item facts over all data are checked separately). */
const questionNumbers = (item: CommonQuestion) => ({
  queryHash: item.queryHash, query: item.query, asks: item.asks, successRate: item.successRate,
  avgResponseTime: item.avgResponseTime, avgRating: item.avgRating, ratedAsks: item.ratedAsks,
});
const contentNumbers = (item: ContentEffectiveness) => ({
  contentType: item.contentType, contentId: item.contentId, accesses: item.accesses, avgRelevance: item.avgRelevance,
  successRate: item.successRate, performanceScore: item.performanceScore,
});

async function allPages<T>(ask: (cursor: string | undefined) => Promise<InsightsPage<T>>): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await ask(cursor);
    items.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return items;
}

describe('layerInsights', () => {
  it('returns the hot provider itself when there is no warm tier or no detail coverage', () => {
    const { hot, warm } = setup();
    expect(layerInsights(hot)).toBe(hot);
    const { detailCoverage: _omitted, ...withoutCoverage } = hot;
    expect(layerInsights(withoutCoverage as InsightsProvider, warm)).toBe(withoutCoverage);
  });

  it('asks only the hot tier while nothing was pruned', async () => {
    const { hot, warm, layered } = setup({ coverage: null });
    expect(await layered.commonQuestions({ limit: 5 })).toEqual(await hot.commonQuestions({ limit: 5 }));
    expect(await layered.contentEffectiveness({ range: { from: Date.UTC(2025, 1, 1) } })).toEqual(await hot.contentEffectiveness({ range: { from: Date.UTC(2025, 1, 1) } }));
    expect(await layered.trendingQueries({})).toEqual(await hot.trendingQueries({}));
    expect(warm.calls).toEqual([]);
    expect(await layered.detailCoverage!()).toEqual({ from: null });
  });

  it('sends business metrics, behaviour and system performance to the hot tier', async () => {
    const { hot, warm, layered } = setup();
    await layered.businessMetrics({ range: { from: 0 } });
    await layered.userBehaviour({});
    await layered.systemPerformance({});
    expect(hot.calls).toEqual(['businessMetrics', 'userBehaviour', 'systemPerformance']);
    expect(warm.calls).toEqual([]);
  });

  it('sends a range wholly on one side of the split to that tier alone', async () => {
    const { hot, warm, layered } = setup();
    const recent = { range: { from: Date.UTC(2025, 3, 10) } };
    expect(await layered.commonQuestions(recent)).toEqual(await hot.commonQuestions(recent));
    const old = { range: { from: Date.UTC(2025, 0, 1), to: Date.UTC(2025, 2, 1) }, userRole: 'student' };
    expect(await layered.contentEffectiveness(old)).toEqual(await warm.contentEffectiveness(old));
  });

  const ranges = [
    { name: 'whole months on both sides', query: { range: { from: Date.UTC(2025, 1, 1), to: Date.UTC(2025, 4, 1) } } },
    { name: 'everything', query: {} },
    { name: 'one role from a month start on', query: { range: { from: Date.UTC(2025, 0, 1) }, userRole: 'recruiter' } },
  ];

  for (const { name, query } of ranges) {
    it(`answers common questions across the split as one tier holding everything would (${name})`, async () => {
      const { full, layered } = setup();
      const merged = await layered.commonQuestions({ ...query, limit: 1_000 });
      const expected = await full.commonQuestions({ ...query, limit: 1_000 });
      expect(merged.items.map(questionNumbers)).toEqual(expected.items.map(questionNumbers));
      expect(merged.range).toEqual(expected.range);
      // Questions the hot part lists carry the hot tier's facts, which it keeps for all data.
      const hotHashes = new Set((await setup().hot.commonQuestions({ ...query, range: { ...query.range, from: SPLIT }, limit: 1_000 })).items.map((item) => item.queryHash));
      const byHash = new Map(expected.items.map((item) => [item.queryHash, item]));
      for (const item of merged.items.filter((entry) => hotHashes.has(entry.queryHash))) {
        const reference = byHash.get(item.queryHash)!;
        expect({ roles: item.popularRoles, last: item.lastAsked, category: item.category }).toEqual({
          roles: reference.popularRoles,
          last: reference.lastAsked,
          category: reference.category,
        });
      }
    });

    it(`answers content effectiveness across the split as one tier holding everything would (${name})`, async () => {
      for (const hotCountsRelevance of [false, true]) {
        const { full, layered } = setup({ hotCountsRelevance });
        const merged = await layered.contentEffectiveness({ ...query, limit: 1_000 });
        const expected = await full.contentEffectiveness({ ...query, limit: 1_000 });
        expect(merged.items.map(contentNumbers)).toEqual(expected.items.map(contentNumbers));
        expect(merged.range).toEqual(expected.range);
      }
    });
  }

  it('reports the range it covered: the warm part widened to months, the hot part to days', async () => {
    const { layered } = setup();
    const page = await layered.commonQuestions({ range: { from: Date.UTC(2025, 1, 14, 5), to: Date.UTC(2025, 4, 2, 3) } });
    expect(page.range).toEqual({ from: Date.UTC(2025, 1, 1), to: Date.UTC(2025, 4, 3) });
  });

  it('merges the per-item facts of both tiers', async () => {
    const early = asks(200, 3, Date.UTC(2025, 0, 1), 20).map((ask) => ({ ...ask, role: 'archivist', query: 'only asked long ago' }));
    const late = asks(200, 4, Date.UTC(2025, 4, 1), 20).map((ask) => ({ ...ask, role: 'engineer', query: 'only asked long ago' }));
    const hot = fakeTier({ detail: late, unit: 'day', coverage: () => SPLIT });
    const warm = fakeTier({ detail: early, unit: 'month', countsRelevance: true });
    const [item] = (await layerInsights(hot, warm).commonQuestions({})).items;
    expect(item).toMatchObject({ asks: 400, popularRoles: ['engineer', 'archivist'], lastAsked: Math.max(...late.map((ask) => ask.at)) });
  });

  it('pages a merged answer without overlap or gap', async () => {
    const { layered } = setup();
    for (const question of ['commonQuestions', 'contentEffectiveness'] as const) {
      const whole = await layered[question]({ limit: 1_000 });
      const paged = await allPages((cursor) => layered[question]({ limit: 5, cursor }) as Promise<InsightsPage<unknown>>);
      expect(whole.items.length).toBeGreaterThan(9);
      expect(paged).toEqual(whole.items);
    }
  });

  it('refuses a cursor of another question, range or role, naming why', async () => {
    const { layered } = setup();
    const first = await layered.commonQuestions({ range: { from: Date.UTC(2025, 1, 1) }, limit: 2 });
    const cursor = first.nextCursor!;
    await expect(layered.commonQuestions({ range: { from: Date.UTC(2025, 1, 1) }, limit: 2, cursor })).resolves.toMatchObject({ items: expect.any(Array) });
    await expect(layered.commonQuestions({ range: { from: Date.UTC(2025, 0, 1) }, cursor })).rejects.toThrow(/layered insights: cursor .* belongs to another question, range, role or trending window/);
    await expect(layered.commonQuestions({ range: { from: Date.UTC(2025, 1, 1) }, userRole: 'student', cursor })).rejects.toThrow(/belongs to another question/);
    await expect(layered.contentEffectiveness({ range: { from: Date.UTC(2025, 1, 1) }, cursor })).rejects.toThrow(/belongs to another question/);
    const damaged = Buffer.from(JSON.stringify(['layered', 'questions'])).toString('base64url');
    await expect(layered.commonQuestions({ cursor: damaged })).rejects.toThrow(/is not one this API issued/);
  });

  it('refuses a tier cursor issued before retention split the range', async () => {
    let coverage: number | null = null;
    const hot = fakeTier({ detail: ALL, unit: 'day', coverage: () => coverage });
    const warm = fakeTier({ detail: [], unit: 'month' });
    const layered = layerInsights(hot, warm);
    const first = await layered.commonQuestions({ limit: 2 });
    coverage = SPLIT;
    await expect(layered.commonQuestions({ limit: 2, cursor: first.nextCursor! })).rejects.toThrow(/was not issued by this API for a range split between the hot and warm tiers.*ask again from the first page/);
  });

  it('keeps paging a merged answer after retention moved the rest of its range to the warm tier', async () => {
    let coverage = Date.UTC(2025, 1, 1);
    const hot = fakeTier({ detail: ALL, unit: 'day', coverage: () => coverage });
    // The warm tier holds every month; which months the hot tier answers depends on its coverage.
    const warm = fakeTier({ detail: ALL, unit: 'month', countsRelevance: true });
    const cutHot = (): InsightsProvider => ({ ...hot, commonQuestions: (query) => hot.commonQuestions({ ...query, range: { ...query?.range, from: Math.max(query?.range?.from ?? 0, coverage) } }) });
    const layered = layerInsights(cutHot(), warm);
    const range = { from: Date.UTC(2025, 0, 1), to: Date.UTC(2025, 2, 1) };
    const whole = await layered.commonQuestions({ range, limit: 1_000 });
    const first = await layered.commonQuestions({ range, limit: 4 });
    coverage = Date.UTC(2025, 3, 1);
    const rest = await allPages((cursor) => layered.commonQuestions({ range, limit: 4, cursor: cursor ?? first.nextCursor! }));
    expect([...first.items, ...rest].map(questionNumbers)).toEqual(whole.items.map(questionNumbers));
  });

  it('fails clearly when a tier without relevance counts cannot be merged exactly', async () => {
    const half = [{ type: 'kb', id: 'even', relevanceMicros: 250_000 }, { type: 'kb', id: 'even', relevanceMicros: 750_000 }];
    const early = asks(10, 1, Date.UTC(2025, 0, 1), 5).map((ask) => ({ ...ask, content: half }));
    const late = asks(10, 2, Date.UTC(2025, 4, 1), 5).map((ask) => ({ ...ask, content: half }));
    const hot = fakeTier({ detail: late, unit: 'day', coverage: () => SPLIT, countsRelevance: false });
    const warm = fakeTier({ detail: early, unit: 'month', countsRelevance: true });
    await expect(layerInsights(hot, warm).contentEffectiveness({})).rejects.toThrow(
      /layered insights: cannot merge the effectiveness of kb "even" exactly: its tier does not report relevanceCount and its mean relevance \(0\.5\) does not determine it/,
    );
  });

  describe('trending', () => {
    it('answers a window that spans the split as one tier holding everything would', async () => {
      const { full, layered } = setup();
      // Recent: April and May (61 days); baseline: January to March (90 days). Every edge is a month start.
      const query = { range: { to: Date.UTC(2025, 5, 1) }, recentDays: 61, baselineDays: 90 };
      const merged = await layered.trendingQueries({ ...query, limit: 1_000 });
      const expected = await full.trendingQueries({ ...query, limit: 1_000 });
      expect(merged.items.length).toBeGreaterThan(3);
      expect(merged).toEqual(expected);
      expect(await allPages((cursor) => layered.trendingQueries({ ...query, limit: 2, cursor }))).toEqual(expected.items);
    });

    it('widens window edges that fall in warm months to whole months and says so', async () => {
      const { layered } = setup();
      const page = await layered.trendingQueries({ range: { to: Date.UTC(2025, 4, 20) }, recentDays: 30, baselineDays: 30 });
      // Recent [Apr 20, May 20) is hot; the baseline's start (Mar 21) falls in the warm tier's March.
      expect({ asOf: page.asOf, recentDays: page.recentDays, baselineDays: page.baselineDays, range: page.range }).toEqual({
        asOf: Date.UTC(2025, 4, 20),
        recentDays: 30,
        baselineDays: 50,
        range: { from: Date.UTC(2025, 2, 1), to: Date.UTC(2025, 4, 20) },
      });
      for (const item of page.items) {
        expect(item.expectedAsks).toBe((item.baselineAsks * 30) / 50);
        expect(item.trendingScore).toBe(trendingScoreOf(item.recentAsks, item.expectedAsks));
      }
    });

    it('leaves a window wholly in the hot tier to the hot tier', async () => {
      const { hot, warm, layered } = setup();
      expect(await layered.trendingQueries({ recentDays: 7, baselineDays: 14 })).toEqual(await hot.trendingQueries({ recentDays: 7, baselineDays: 14 }));
      expect(warm.calls).toEqual([]);
    });

    it('refuses a cursor from another trending window', async () => {
      const { layered } = setup();
      const query = { range: { to: Date.UTC(2025, 5, 1) }, recentDays: 61, baselineDays: 90, limit: 2 };
      const first = await layered.trendingQueries(query);
      await expect(layered.trendingQueries({ ...query, recentDays: 60, cursor: first.nextCursor! })).rejects.toThrow(/belongs to another question, range, role or trending window/);
    });
  });

  it('reports the warm tier’s coverage once the hot tier was pruned', async () => {
    const { hot } = setup();
    const warm = fakeTier({ detail: [], unit: 'month', coverage: () => Date.UTC(2023, 0, 1) });
    expect(await layerInsights(hot, warm).detailCoverage!()).toEqual({ from: Date.UTC(2023, 0, 1) });
  });
});
