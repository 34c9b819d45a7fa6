import { join } from 'node:path';
import { layerInsights, type CommonQuestion, type ContentEffectiveness, type InsightsPage, type InsightsProvider, type InsightsQuery, type Interaction } from '@strata/core';
import { HotSqliteTier } from '@strata/hot-sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HistoricalSqliteTier } from '../src/index.js';
import { batches, byMonth, scratch, workload } from './fixtures.js';

/**
 * Retention as it will run: whole months of raw rows go to the warm tier's aggregates (one month in
 * two partitions, as when late events arrive), leave the hot tier, and the hot tier's detailed
 * rollups before the first kept month are pruned. The layered answers must then equal those of a
 * hot tier that kept everything, for ranges of whole months.
 */

const START = Date.UTC(2025, 0, 1);
const DAYS = 31 + 28 + 31 + 30 + 31; // January to May 2025
const KEPT_FROM = Date.UTC(2025, 3, 1);

let space: ReturnType<typeof scratch>;
let everything: HotSqliteTier;
let pruned: HotSqliteTier;
let warm: HistoricalSqliteTier;
let layered: InsightsProvider;
let rows: Interaction[];

beforeAll(async () => {
  space = scratch('layered');
  rows = workload(8_000, 23, START, DAYS);
  everything = HotSqliteTier.open({ file: join(space.directory, 'everything.db') });
  pruned = HotSqliteTier.open({ file: join(space.directory, 'comprehensive_metrics.db') });
  warm = space.open();
  for (const batch of batches(rows, 1_000)) {
    await everything.writeInteractions(batch);
    await pruned.writeInteractions(batch);
  }
  for (const [month, monthRows] of byMonth(rows)) {
    if (month >= '2025-04') continue;
    const late = month === '2025-02' ? monthRows.filter((_, index) => index % 5 === 0) : [];
    const onTime = monthRows.filter((row) => !late.includes(row));
    await warm.aggregates.addRows(`${month}-1`, batches(onTime, 400));
    if (late.length > 0) await warm.aggregates.addRows(`${month}-2`, [late]);
    await pruned.deleteEvents(monthRows.map((row) => row.eventId));
  }
  await pruned.pruneDetailedRollups(KEPT_FROM);
  layered = layerInsights(pruned.insights, warm.insights);
});

afterAll(async () => {
  await everything.close();
  await pruned.close();
  await space.cleanup();
});

const cmp = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));
/** The hot tier breaks ties by an internal id the layered answer cannot see; compare in one order. */
const questionOrder = (a: CommonQuestion, b: CommonQuestion) => b.asks - a.asks || cmp(a.queryHash, b.queryHash);
const contentOrder = (a: ContentEffectiveness, b: ContentEffectiveness) =>
  b.performanceScore - a.performanceScore || cmp(a.contentType, b.contentType) || cmp(a.contentId, b.contentId);
const questionNumbers = ({ popularRoles: _roles, lastAsked: _last, ...rest }: CommonQuestion) => rest;
const contentNumbers = ({ roles: _roles, firstAccessed: _first, lastAccessed: _last, ...rest }: ContentEffectiveness & { relevanceCount?: number }) => {
  const { relevanceCount: _count, ...numbers } = rest;
  return numbers;
};

const month = (index: number) => Date.UTC(2025, index, 1);
const queries: Array<{ name: string; query: InsightsQuery }> = [
  { name: 'January to May', query: { range: { from: month(0), to: month(5) } } },
  { name: 'February to April, one role', query: { range: { from: month(1), to: month(4) }, userRole: 'software_engineer' } },
  { name: 'March, in the warm tier only', query: { range: { from: month(2), to: month(3) } } },
  { name: 'April on, in the hot tier only', query: { range: { from: month(3) } } },
  { name: 'everything', query: {} },
];

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

describe('layered insights over a pruned hot tier and the warm tier', () => {
  it('starts from a hot tier that holds only the months retention kept', async () => {
    expect(await pruned.insights.detailCoverage()).toEqual({ from: KEPT_FROM });
    expect(await pruned.countInteractions({ to: KEPT_FROM })).toBe(0);
    expect(await warm.aggregates.months()).toEqual(['2025-01', '2025-02', '2025-03']);
  });

  for (const { name, query } of queries) {
    it(`answers common questions as a hot tier holding everything does (${name})`, async () => {
      const merged = await layered.commonQuestions({ ...query, limit: 1_000 });
      const reference = await everything.insights.commonQuestions({ ...query, limit: 1_000 });
      expect(merged.nextCursor).toBeNull();
      expect(merged.items.length).toBeGreaterThan(20);
      expect([...merged.items].sort(questionOrder).map(questionNumbers)).toEqual([...reference.items].sort(questionOrder).map(questionNumbers));
      expect(merged.range).toEqual(reference.range);
      // Every question the hot tier still sees carries its facts over all data.
      const byHash = new Map(reference.items.map((item) => [item.queryHash, item]));
      const seenByHot = new Set((await allPages((cursor) => pruned.insights.commonQuestions({ ...query, range: { ...query.range, from: KEPT_FROM }, limit: 1_000, cursor }))).map((item) => item.queryHash));
      for (const item of merged.items.filter((entry) => seenByHot.has(entry.queryHash))) {
        expect([item.popularRoles, item.lastAsked]).toEqual([byHash.get(item.queryHash)!.popularRoles, byHash.get(item.queryHash)!.lastAsked]);
      }
    });

    it(`answers content effectiveness as a hot tier holding everything does (${name})`, async () => {
      const merged = await layered.contentEffectiveness({ ...query, limit: 1_000 });
      const reference = await everything.insights.contentEffectiveness({ ...query, limit: 1_000 });
      expect(merged.items.length).toBeGreaterThan(20);
      expect([...merged.items].sort(contentOrder).map(contentNumbers)).toEqual([...reference.items].sort(contentOrder).map(contentNumbers));
      expect(merged.range).toEqual(reference.range);
    });
  }

  it('orders a merged answer as documented and pages it without overlap or gap', async () => {
    const query = { range: { from: month(1), to: month(5) } };
    const whole = await layered.commonQuestions({ ...query, limit: 1_000 });
    expect(whole.items).toEqual([...whole.items].sort(questionOrder));
    expect(await allPages((cursor) => layered.commonQuestions({ ...query, limit: 13, cursor }))).toEqual(whole.items);
    const content = await layered.contentEffectiveness({ ...query, limit: 1_000 });
    expect(content.items).toEqual([...content.items].sort(contentOrder));
    expect(await allPages((cursor) => layered.contentEffectiveness({ ...query, limit: 17, cursor }))).toEqual(content.items);
  });

  for (const window of [
    { name: 'April–May against January–March', query: { range: { to: month(5) }, recentDays: 61, baselineDays: 90 } },
    { name: 'April against February–March, one role', query: { range: { to: month(4) }, recentDays: 30, baselineDays: 59, userRole: 'student' } },
  ]) {
    it(`answers trending across the split as a hot tier holding everything does (${window.name})`, async () => {
      const merged = await layered.trendingQueries({ ...window.query, limit: 1_000 });
      const reference = await everything.insights.trendingQueries({ ...window.query, limit: 1_000 });
      expect(merged.items.length).toBeGreaterThan(3);
      expect(merged).toEqual(reference);
      expect(await allPages((cursor) => layered.trendingQueries({ ...window.query, limit: 3, cursor }))).toEqual(reference.items);
    });
  }

  it('still answers business metrics from the hot tier, which kept its daily rollups', async () => {
    const query = { range: { from: month(0), to: month(5) }, limit: 1_000 };
    expect(await layered.businessMetrics(query)).toEqual(await everything.insights.businessMetrics(query));
  });
});
