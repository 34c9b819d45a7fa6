import { contentPerformanceScore, hashQuery, normalizeQuery, type InsightsPage, type Interaction } from '@strata/core';
import { toMicros, trendingScore } from '@strata/hot-sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HistoricalSqliteTier } from '../src/index.js';
import { byMonth, scratch } from './fixtures.js';
import { workload } from './fixtures.js';

// Four months: 2025-01 … 2025-04.
const START = Date.UTC(2025, 0, 1);
const DAYS = 31 + 28 + 31 + 30;

let space: ReturnType<typeof scratch>;
let tier: HistoricalSqliteTier;
let rows: Interaction[];

beforeAll(async () => {
  space = scratch('insights');
  tier = space.open();
  rows = workload(5_000, 17, START, DAYS);
  for (const [month, monthRows] of byMonth(rows)) await tier.aggregates.addRows(`partition-${month}`, [monthRows]);
});

afterAll(async () => {
  await space.cleanup();
});

const monthOfRow = (row: Interaction) => new Date(row.timestamp).toISOString().slice(0, 7);
const cmp = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));
const inMonths = (from: string, to: string, role?: string) =>
  rows.filter((row) => monthOfRow(row) >= from && monthOfRow(row) < to && (role === undefined || row.userRole === role));

/** Roles by count, most first, ties by name. */
function ranked(counts: Map<string, number>): string[] {
  return [...counts].sort((a, b) => b[1] - a[1] || cmp(a[0], b[0])).map(([key]) => key);
}

function expectedQuestions(selected: readonly Interaction[]) {
  const all = new Map<string, { roles: Map<string, number>; first: Interaction; last: number }>();
  for (const row of rows) {
    const hash = hashQuery(normalizeQuery(row.query));
    const entry = all.get(hash) ?? { roles: new Map(), first: row, last: row.timestamp };
    entry.roles.set(row.userRole, (entry.roles.get(row.userRole) ?? 0) + 1);
    if (row.timestamp < entry.first.timestamp || (row.timestamp === entry.first.timestamp && cmp(row.queryType, entry.first.queryType) < 0)) entry.first = row;
    entry.last = Math.max(entry.last, row.timestamp);
    all.set(hash, entry);
  }
  const groups = new Map<string, Interaction[]>();
  for (const row of selected) {
    const hash = hashQuery(normalizeQuery(row.query));
    groups.set(hash, [...(groups.get(hash) ?? []), row]);
  }
  return [...groups]
    .map(([hash, list]) => {
      const rated = list.filter((row) => row.userRating !== null);
      const facts = all.get(hash)!;
      return {
        queryHash: hash,
        query: normalizeQuery(list[0]!.query),
        category: facts.first.queryType,
        asks: list.length,
        successRate: list.filter((row) => row.success).length / list.length,
        avgResponseTime: list.reduce((sum, row) => sum + toMicros(row.responseTime), 0) / 1e6 / list.length,
        avgRating: rated.length > 0 ? rated.reduce((sum, row) => sum + row.userRating!, 0) / rated.length : null,
        ratedAsks: rated.length,
        popularRoles: ranked(facts.roles),
        lastAsked: facts.last,
      };
    })
    .sort((a, b) => b.asks - a.asks || cmp(a.queryHash, b.queryHash));
}

function expectedContent(selected: readonly Interaction[]) {
  const all = new Map<string, { roles: Map<string, number>; first: number; last: number }>();
  const groups = new Map<string, { type: string; id: string; uses: number; successes: number; micros: number; count: number }>();
  for (const row of rows) {
    for (const item of row.content) {
      const key = JSON.stringify([item.type, item.id]);
      const entry = all.get(key) ?? { roles: new Map(), first: row.timestamp, last: row.timestamp };
      entry.roles.set(row.userRole, (entry.roles.get(row.userRole) ?? 0) + 1);
      entry.first = Math.min(entry.first, row.timestamp);
      entry.last = Math.max(entry.last, row.timestamp);
      all.set(key, entry);
    }
  }
  for (const row of selected) {
    for (const item of row.content) {
      const key = JSON.stringify([item.type, item.id]);
      const group = groups.get(key) ?? { type: item.type, id: item.id, uses: 0, successes: 0, micros: 0, count: 0 };
      group.uses += 1;
      group.successes += row.success ? 1 : 0;
      if (item.relevance !== null) {
        group.micros += toMicros(item.relevance);
        group.count += 1;
      }
      groups.set(key, group);
    }
  }
  return [...groups]
    .map(([key, group]) => ({
      contentType: group.type,
      contentId: group.id,
      accesses: group.uses,
      avgRelevance: group.count > 0 ? group.micros / 1e6 / group.count : null,
      successRate: group.successes / group.uses,
      performanceScore: contentPerformanceScore(group.successes, group.uses, group.micros, group.count),
      roles: ranked(all.get(key)!.roles),
      firstAccessed: all.get(key)!.first,
      lastAccessed: all.get(key)!.last,
      relevanceCount: group.count,
    }))
    .sort((a, b) => b.performanceScore - a.performanceScore || cmp(a.contentType, b.contentType) || cmp(a.contentId, b.contentId));
}

async function allPages<T>(ask: (cursor: string | undefined) => Promise<InsightsPage<T>>): Promise<{ items: T[]; pages: number }> {
  const items: T[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await ask(cursor);
    items.push(...page.items);
    cursor = page.nextCursor ?? undefined;
    pages += 1;
  } while (cursor);
  return { items, pages };
}

describe('common questions over whole months', () => {
  it('widens the range to whole months, says so, and counts exactly what those months hold', async () => {
    const page = await tier.insights.commonQuestions({ range: { from: Date.UTC(2025, 1, 10), to: Date.UTC(2025, 2, 3) }, limit: 1_000 });
    expect(page.range).toEqual({ from: Date.UTC(2025, 1, 1), to: Date.UTC(2025, 3, 1) });
    expect(page.items).toEqual(expectedQuestions(inMonths('2025-02', '2025-04')));
  });

  it('answers for one role, and over everything', async () => {
    const role = await tier.insights.commonQuestions({ userRole: 'hiring_manager', range: { from: Date.UTC(2025, 2, 1) }, limit: 1_000 });
    expect(role.range).toEqual({ from: Date.UTC(2025, 2, 1), to: null });
    expect(role.items).toEqual(expectedQuestions(inMonths('2025-03', '9999', 'hiring_manager')));
    const everything = await tier.insights.commonQuestions({ limit: 1_000 });
    expect(everything.range).toEqual({ from: null, to: null });
    expect(everything.items).toEqual(expectedQuestions(rows));
  });

  it('pages through the same answer without overlap or gap', async () => {
    const whole = await tier.insights.commonQuestions({ range: { from: Date.UTC(2025, 0, 1), to: Date.UTC(2025, 2, 1) }, limit: 1_000 });
    const paged = await allPages((cursor) => tier.insights.commonQuestions({ range: { from: Date.UTC(2025, 0, 1), to: Date.UTC(2025, 2, 1) }, limit: 7, cursor }));
    expect(paged.pages).toBeGreaterThan(3);
    expect(paged.items).toEqual(whole.items);
  });

  it('refuses a cursor of another question', async () => {
    const content = await tier.insights.contentEffectiveness({ limit: 2 });
    await expect(tier.insights.commonQuestions({ cursor: content.nextCursor! })).rejects.toThrow(/historical-sqlite: cursor .* is not one this tier issued for this question/);
    await expect(tier.insights.commonQuestions({ cursor: 'garbage' })).rejects.toThrow(/is not one this tier issued/);
  });
});

describe('content effectiveness over whole months', () => {
  it('matches the rows of the months, with the relevance count that lets answers be merged', async () => {
    const page = await tier.insights.contentEffectiveness({ range: { from: Date.UTC(2025, 0, 15), to: Date.UTC(2025, 1, 2) }, limit: 1_000 });
    expect(page.range).toEqual({ from: Date.UTC(2025, 0, 1), to: Date.UTC(2025, 2, 1) });
    expect(page.items).toEqual(expectedContent(inMonths('2025-01', '2025-03')));
    const role = await tier.insights.contentEffectiveness({ userRole: 'student', limit: 1_000 });
    expect(role.items).toEqual(expectedContent(inMonths('0000', '9999', 'student')));
  });

  it('pages through the same answer without overlap or gap', async () => {
    const whole = await tier.insights.contentEffectiveness({ limit: 1_000 });
    const paged = await allPages((cursor) => tier.insights.contentEffectiveness({ limit: 9, cursor }));
    expect(paged.pages).toBeGreaterThan(3);
    expect(paged.items).toEqual(whole.items);
  });
});

describe('trending over whole months', () => {
  it('compares the recent months with the months before, widened to whole months', async () => {
    const page = await tier.insights.trendingQueries({ range: { to: Date.UTC(2025, 3, 20) }, recentDays: 30, baselineDays: 31, limit: 1_000 });
    // asOf: end of April; recent: April (30 days); baseline: the month starting 31 days before April's start, i.e. March.
    expect({ asOf: page.asOf, recentDays: page.recentDays, baselineDays: page.baselineDays, range: page.range }).toEqual({
      asOf: Date.UTC(2025, 4, 1),
      recentDays: 30,
      baselineDays: 31,
      range: { from: Date.UTC(2025, 2, 1), to: Date.UTC(2025, 4, 1) },
    });
    const count = (list: Interaction[]) => {
      const counts = new Map<string, { query: string; asks: number }>();
      for (const row of list) {
        const normalized = normalizeQuery(row.query);
        const hash = hashQuery(normalized);
        counts.set(hash, { query: normalized, asks: (counts.get(hash)?.asks ?? 0) + 1 });
      }
      return counts;
    };
    const recent = count(inMonths('2025-04', '2025-05'));
    const baseline = count(inMonths('2025-03', '2025-04'));
    const expected = [...recent]
      .map(([queryHash, { query, asks }]) => {
        const baselineAsks = baseline.get(queryHash)?.asks ?? 0;
        const expectedAsks = (baselineAsks * 30) / 31;
        return { queryHash, query, recentAsks: asks, baselineAsks, expectedAsks, trendingScore: trendingScore(asks, expectedAsks) };
      })
      .filter((item) => item.trendingScore > 0)
      .sort((a, b) => b.trendingScore - a.trendingScore || cmp(a.queryHash, b.queryHash));
    expect(expected.length).toBeGreaterThan(5);
    expect(page.items).toEqual(expected);
    const paged = await allPages((cursor) => tier.insights.trendingQueries({ range: { to: Date.UTC(2025, 3, 20) }, recentDays: 30, baselineDays: 31, limit: 4, cursor }));
    expect(paged.items).toEqual(expected);
  });

  it('ends at the last month with data when no range end is given, and checks the window lengths', async () => {
    const page = await tier.insights.trendingQueries({ recentDays: 7 });
    expect(page.asOf).toBe(Date.UTC(2025, 4, 1));
    expect(page.recentDays).toBe(30);
    await expect(tier.insights.trendingQueries({ recentDays: 0 })).rejects.toMatchObject({ code: 'STRATA_VALIDATION_FAILED', message: expect.stringMatching(/^recentDays: must be a whole number of days from 1 to 3650, got 0/) });
    await expect(tier.insights.trendingQueries({ baselineDays: 2.5 })).rejects.toThrow(/baselineDays: must be a whole number of days/);
  });
});

describe('questions for the hot tier', () => {
  it('says that business metrics, behaviour and system performance come from the hot tier', async () => {
    await expect(tier.insights.businessMetrics()).rejects.toThrow(/historical-sqlite: business metrics is answered by the hot tier.*ask strata\.insights/);
    await expect(tier.insights.userBehaviour()).rejects.toThrow(/user behaviour is answered by the hot tier/);
    await expect(tier.insights.systemPerformance()).rejects.toThrow(/system performance is answered by the hot tier/);
  });

  it('reports no expired months until some expire', async () => {
    expect(await tier.insights.detailCoverage()).toEqual({ from: null });
  });

  it('refuses a range bound that is not a number', async () => {
    await expect(tier.insights.commonQuestions({ range: { from: '2025-01-01' as unknown as number } })).rejects.toMatchObject({ code: 'STRATA_VALIDATION_FAILED', issues: [{ path: 'range.from', message: expect.stringMatching(/^must be epoch milliseconds \(a finite number\), got "2025-01-01"/) }] });
  });
});
