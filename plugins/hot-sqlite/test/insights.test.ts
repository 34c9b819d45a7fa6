import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashQuery, normalizeQuery, type Interaction, type InsightsPage, type Metric } from '@strata/core';
import { sampleInteractions } from '@strata/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HISTOGRAM_RELATIVE_ERROR, HotSqliteTier, trendingScore } from '../src/index.js';

const HOUR = 3_600_000;
const DAY = 86_400_000;
const START = Date.UTC(2026, 0, 1);
const DEPTH = 3;

let directory: string;
let tier: HotSqliteTier;
let events: Interaction[];

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'hot-sqlite-insights-'));
  tier = HotSqliteTier.open({ file: join(directory, 'insights.db') });
  events = sampleInteractions(4_000, 21, START, 40);
  for (let index = 0; index < events.length; index += 700) await tier.writeInteractions(events.slice(index, index + 700));
});

afterAll(async () => {
  await tier.close();
  rmSync(directory, { recursive: true, force: true });
});

// ---- the direct computations every answer is checked against ----

const dayOf = (ms: number) => Math.floor(ms / DAY) * DAY;

interface SessionFacts {
  start: number;
  role: string;
  queries: number;
  maxTurn: number;
}

function sessionsOf(list: readonly Interaction[]): Map<string, SessionFacts> {
  const sessions = new Map<string, SessionFacts>();
  for (const event of list) {
    const session = sessions.get(event.sessionId);
    if (!session) {
      sessions.set(event.sessionId, { start: event.timestamp, role: event.userRole, queries: 1, maxTurn: event.conversationTurn });
      continue;
    }
    if (event.timestamp < session.start || (event.timestamp === session.start && event.userRole < session.role)) {
      session.start = event.timestamp;
      session.role = event.userRole;
    }
    session.queries += 1;
    session.maxTurn = Math.max(session.maxTurn, event.conversationTurn);
  }
  return sessions;
}

const converted = (session: SessionFacts) => session.queries >= DEPTH || session.maxTurn >= DEPTH;

function nearestRank(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil(p * sorted.length) - 1]!;
}

function expectWithinHistogramError(actual: number | null, values: number[]): void {
  const truth = nearestRank(values, 0.95);
  expect(actual).not.toBeNull();
  expect(Math.abs(actual! - truth)).toBeLessThanOrEqual(Math.max(truth * HISTOGRAM_RELATIVE_ERROR, 0.0005) + 1e-12);
}

function mean(values: number[]): number | null {
  return values.length === 0 ? null : values.reduce((sum, value) => sum + value, 0) / values.length;
}

/** Every page of a question, walking cursors, with the pages' sizes. */
async function allPages<T>(ask: (cursor: string | undefined) => Promise<InsightsPage<T>>): Promise<{ items: T[]; pages: number[] }> {
  const items: T[] = [];
  const pages: number[] = [];
  let cursor: string | undefined;
  do {
    const page = await ask(cursor);
    items.push(...page.items);
    pages.push(page.items.length);
    cursor = page.nextCursor ?? undefined;
  } while (cursor && pages.length < 1_000);
  return { items, pages };
}

describe('business metrics per day', () => {
  it('match a direct computation from the events, day by day', async () => {
    const page = await tier.insights.businessMetrics({ limit: 1_000 });
    const days = [...new Set(events.map((event) => dayOf(event.timestamp)))].sort((a, b) => a - b);
    expect(page.items.map((item) => item.day)).toEqual(days);
    expect(page.nextCursor).toBeNull();
    const sessions = [...sessionsOf(events).values()];
    for (const item of page.items) {
      const today = events.filter((event) => dayOf(event.timestamp) === item.day);
      const ratings = today.flatMap((event) => (event.userRating === null ? [] : [event.userRating]));
      const started = sessions.filter((session) => dayOf(session.start) === item.day);
      expect(item.date).toBe(new Date(item.day).toISOString().slice(0, 10));
      expect(item.interactions).toBe(today.length);
      expect(item.sessions).toBe(started.length);
      expect(item.convertedSessions).toBe(started.filter(converted).length);
      expect(item.successRate).toBeCloseTo(today.filter((event) => event.success).length / today.length, 12);
      expect(item.avgResponseTime).toBeCloseTo(mean(today.map((event) => event.responseTime))!, 6);
      expect(item.ratedInteractions).toBe(ratings.length);
      if (ratings.length > 0) expect(item.avgRating).toBeCloseTo(mean(ratings)!, 12);
      else expect(item.avgRating).toBeNull();
      expectWithinHistogramError(item.p95ResponseTime, today.map((event) => event.responseTime));
    }
  });

  it('narrow to a range widened to whole hours, and to one role', async () => {
    const role = 'student';
    const range = { from: START + 2 * DAY + 5 * HOUR + 17 * 60_000, to: START + 9 * DAY + 3 * HOUR - 1 };
    const page = await tier.insights.businessMetrics({ range, userRole: role, limit: 1_000 });
    const from = Math.floor(range.from / HOUR) * HOUR;
    const to = Math.ceil(range.to / HOUR) * HOUR;
    expect(page.range).toEqual({ from, to });
    const inRange = events.filter((event) => event.userRole === role && event.timestamp >= from && event.timestamp < to);
    expect(page.items.reduce((sum, item) => sum + item.interactions, 0)).toBe(inRange.length);
    const started = [...sessionsOf(events).values()].filter((session) => session.role === role && session.start >= from && session.start < to);
    expect(page.items.reduce((sum, item) => sum + item.sessions, 0)).toBe(started.length);
    const first = page.items[0]!;
    expect(first.day).toBe(dayOf(from));
    expect(first.interactions).toBe(inRange.filter((event) => dayOf(event.timestamp) === first.day).length);
  });
});

describe('user behaviour by role', () => {
  it('matches a direct computation for every role, most active first', async () => {
    const page = await tier.insights.userBehaviour();
    const roles = [...new Set(events.map((event) => event.userRole))];
    const sessions = [...sessionsOf(events).values()];
    expect(page.items).toHaveLength(roles.length);
    const counts = page.items.map((item) => item.interactions);
    expect(counts).toEqual([...counts].sort((a, b) => b - a));
    for (const item of page.items) {
      const mine = events.filter((event) => event.userRole === item.userRole);
      const started = sessions.filter((session) => session.role === item.userRole);
      expect(item.interactions).toBe(mine.length);
      expect(item.sessions).toBe(started.length);
      expect(item.queriesPerSession).toBeCloseTo(mine.length / started.length, 12);
      expect(item.conversionRate).toBeCloseTo(started.filter(converted).length / started.length, 12);
      expect(item.followUpRate).toBeCloseTo(mine.filter((event) => event.followUpQuery).length / mine.length, 12);
      expect(item.codeSnippetsPerInteraction).toBeCloseTo(mine.reduce((sum, event) => sum + event.codeSnippetsShown, 0) / mine.length, 12);
      expect(item.citationsPerInteraction).toBeCloseTo(mine.reduce((sum, event) => sum + event.citationsProvided, 0) / mine.length, 12);
      const types: Record<string, number> = {};
      for (const event of mine) types[event.queryType] = (types[event.queryType] ?? 0) + 1;
      expect(item.queryTypes).toEqual(types);
      expectWithinHistogramError(item.p95ResponseTime, mine.map((event) => event.responseTime));
    }
  });
});

describe('common questions', () => {
  function expectedQuestions(list: readonly Interaction[]) {
    const byHash = new Map<string, { query: string; asks: number; successes: number }>();
    for (const event of list) {
      const query = normalizeQuery(event.query);
      const hash = hashQuery(query);
      const entry = byHash.get(hash) ?? { query, asks: 0, successes: 0 };
      entry.asks += 1;
      entry.successes += event.success ? 1 : 0;
      byHash.set(hash, entry);
    }
    return [...byHash].map(([hash, entry]) => ({ hash, ...entry })).sort((a, b) => b.asks - a.asks || (a.hash < b.hash ? -1 : 1));
  }

  /** Questions with equal asks come in the order first asked; compare them as sets. */
  const byAsksThenHash = <T extends { asks: number }>(list: T[], hash: (item: T) => string) =>
    [...list].sort((a, b) => b.asks - a.asks || (hash(a) < hash(b) ? -1 : 1));

  it('rank every question over all data by asks, matching the events', async () => {
    const { items } = await allPages((cursor) => tier.insights.commonQuestions({ limit: 1_000, ...(cursor ? { cursor } : {}) }));
    const expected = expectedQuestions(events);
    expect(items.map((item) => item.asks)).toEqual(expected.map((entry) => entry.asks));
    const sorted = byAsksThenHash(items, (item) => item.queryHash);
    expect(sorted.map((item) => [item.queryHash, item.query, item.asks])).toEqual(expected.map((entry) => [entry.hash, entry.query, entry.asks]));
    for (const [index, item] of sorted.entries()) expect(item.successRate).toBeCloseTo(expected[index]!.successes / expected[index]!.asks, 12);
  });

  it('narrow to whole days of a range and to one role', async () => {
    const range = { from: START + 3 * DAY + 7 * HOUR, to: START + 12 * DAY + HOUR };
    const page = await tier.insights.commonQuestions({ range, userRole: 'recruiter', limit: 1_000 });
    const from = dayOf(range.from);
    const to = dayOf(range.to) + DAY;
    expect(page.range).toEqual({ from, to });
    const expected = expectedQuestions(events.filter((event) => event.userRole === 'recruiter' && event.timestamp >= from && event.timestamp < to));
    expect(page.items.map((item) => item.asks)).toEqual(expected.map((entry) => entry.asks));
    expect(byAsksThenHash(page.items, (item) => item.queryHash).map((item) => [item.queryHash, item.asks])).toEqual(expected.map((entry) => [entry.hash, entry.asks]));
  });
});

describe('content effectiveness', () => {
  function expectedContent(list: readonly Interaction[]) {
    const byItem = new Map<string, { type: string; id: string; accesses: number; successes: number; relevance: number[] }>();
    for (const event of list) {
      for (const item of event.content) {
        const key = JSON.stringify([item.type, item.id]);
        const entry = byItem.get(key) ?? { type: item.type, id: item.id, accesses: 0, successes: 0, relevance: [] };
        entry.accesses += 1;
        entry.successes += event.success ? 1 : 0;
        if (item.relevance !== null) entry.relevance.push(item.relevance);
        byItem.set(key, entry);
      }
    }
    return byItem;
  }

  it('scores every item with the documented formula, best first, matching the events', async () => {
    const { items } = await allPages((cursor) => tier.insights.contentEffectiveness({ limit: 1_000, ...(cursor ? { cursor } : {}) }));
    const expected = expectedContent(events);
    expect(items).toHaveLength(expected.size);
    const scores = items.map((item) => item.performanceScore);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    for (const item of items) {
      const entry = expected.get(JSON.stringify([item.contentType, item.contentId]))!;
      const relevanceSum = entry.relevance.reduce((sum, value) => sum + value, 0);
      expect(item.accesses).toBe(entry.accesses);
      expect(item.successRate).toBeCloseTo(entry.successes / entry.accesses, 12);
      expect(item.avgRelevance).toBeCloseTo(mean(entry.relevance)!, 6);
      expect(item.performanceScore).toBeCloseTo((((entry.successes + 1) / (entry.accesses + 2)) * (relevanceSum + 0.5)) / (entry.relevance.length + 1), 6);
      expect(item.performanceScore).toBeGreaterThanOrEqual(0);
      expect(item.performanceScore).toBeLessThanOrEqual(1);
    }
  });

  it('narrows to whole days of a range and to one role', async () => {
    const range = { from: START + 10 * DAY, to: START + 20 * DAY };
    const page = await tier.insights.contentEffectiveness({ range, userRole: 'software_engineer', limit: 1_000 });
    const expected = expectedContent(events.filter((event) => event.userRole === 'software_engineer' && event.timestamp >= range.from && event.timestamp < range.to));
    expect(page.items).toHaveLength(expected.size);
    for (const item of page.items) expect(item.accesses).toBe(expected.get(JSON.stringify([item.contentType, item.contentId]))!.accesses);
  });
});

describe('trending queries', () => {
  it('compare the last 7 days of data with the 28 before, by the documented score', async () => {
    const page = await tier.insights.trendingQueries({ limit: 1_000 });
    const asOf = dayOf(Math.max(...events.map((event) => event.timestamp))) + DAY;
    expect(page.asOf).toBe(asOf);
    const recentFrom = asOf - 7 * DAY;
    const baselineFrom = recentFrom - 28 * DAY;
    const counts = new Map<string, { recent: number; baseline: number }>();
    for (const event of events) {
      if (event.timestamp < baselineFrom || event.timestamp >= asOf) continue;
      const hash = hashQuery(normalizeQuery(event.query));
      const entry = counts.get(hash) ?? { recent: 0, baseline: 0 };
      if (event.timestamp >= recentFrom) entry.recent += 1;
      else entry.baseline += 1;
      counts.set(hash, entry);
    }
    const expected = [...counts]
      .map(([hash, { recent, baseline }]) => ({ hash, recent, baseline, score: trendingScore(recent, (baseline * 7) / 28) }))
      .filter((entry) => entry.recent > 0 && entry.score > 0)
      .sort((a, b) => b.score - a.score || (a.hash < b.hash ? -1 : 1));
    expect(expected.length).toBeGreaterThan(0);
    expect(page.items.map((item) => [item.queryHash, item.recentAsks, item.baselineAsks])).toEqual(expected.map((entry) => [entry.hash, entry.recent, entry.baseline]));
    for (const [index, item] of page.items.entries()) expect(item.trendingScore).toBeCloseTo(expected[index]!.score, 12);
  });

  it('scores a question new this week by its asks, and one at its usual rate at or below zero', () => {
    expect(trendingScore(5, 0)).toBe(5);
    expect(trendingScore(10, 10)).toBe(0);
    expect(trendingScore(50, 40)).toBeCloseTo(10 / Math.sqrt(41), 12);
  });
});

describe('system performance', () => {
  it('rolls metric samples up per bucket, filterable by metric, with every row paged once', async () => {
    const metricsTier = HotSqliteTier.open({ file: join(directory, 'metrics.db') });
    const samples: Metric[] = [];
    for (let minute = 0; minute < 6 * 60; minute += 7) {
      samples.push({ timestamp: START + minute * 60_000, name: 'memory_usage', value: 100 + (minute % 13), unit: 'MB', component: 'rag_engine' });
      samples.push({ timestamp: START + minute * 60_000 + 1, name: 'concurrent_users', value: minute % 5, unit: null, component: null });
    }
    expect(await metricsTier.writeMetrics(samples)).toBe(samples.length);
    const all = await allPages((cursor) => metricsTier.insights.systemPerformance({ limit: 4, ...(cursor ? { cursor } : {}) }));
    const byName = await metricsTier.insights.systemPerformance({ metricName: 'memory_usage', granularity: 'hour', limit: 1_000 });
    const byDay = await metricsTier.insights.systemPerformance({ granularity: 'day', limit: 1_000 });
    await metricsTier.close();
    expect(all.items).toHaveLength(12);
    expect(new Set(all.items.map((item) => JSON.stringify([item.bucketStart, item.metricName]))).size).toBe(12);
    expect(byName.items).toHaveLength(6);
    for (const item of byName.items) {
      const values = samples.filter((sample) => sample.name === 'memory_usage' && Math.floor(sample.timestamp / HOUR) * HOUR === item.bucketStart).map((sample) => sample.value);
      expect(item).toMatchObject({ component: 'rag_engine', unit: 'MB', samples: values.length, min: Math.min(...values), max: Math.max(...values) });
      expect(item.avg).toBeCloseTo(mean(values)!, 12);
    }
    expect(byDay.items.map((item) => [item.metricName, item.component, item.unit, item.samples])).toEqual([
      ['concurrent_users', null, null, samples.length / 2],
      ['memory_usage', 'rag_engine', 'MB', samples.length / 2],
    ]);
  });
});

describe('pagination', () => {
  it('returns every row exactly once, in the order of one big page, for every question', async () => {
    const questions: Array<[string, (cursor: string | undefined, limit: number) => Promise<InsightsPage<unknown>>]> = [
      ['commonQuestions', (cursor, limit) => tier.insights.commonQuestions({ limit, ...(cursor ? { cursor } : {}) })],
      ['commonQuestions by range', (cursor, limit) => tier.insights.commonQuestions({ range: { from: START, to: START + 15 * DAY }, limit, ...(cursor ? { cursor } : {}) })],
      ['contentEffectiveness', (cursor, limit) => tier.insights.contentEffectiveness({ limit, ...(cursor ? { cursor } : {}) })],
      ['contentEffectiveness by role', (cursor, limit) => tier.insights.contentEffectiveness({ userRole: 'student', limit, ...(cursor ? { cursor } : {}) })],
      ['businessMetrics', (cursor, limit) => tier.insights.businessMetrics({ limit, ...(cursor ? { cursor } : {}) })],
      ['userBehaviour', (cursor, limit) => tier.insights.userBehaviour({ limit, ...(cursor ? { cursor } : {}) })],
      ['trendingQueries', (cursor, limit) => tier.insights.trendingQueries({ limit, ...(cursor ? { cursor } : {}) })],
    ];
    for (const [name, ask] of questions) {
      const whole = await ask(undefined, 1_000);
      expect(whole.nextCursor, name).toBeNull();
      const paged = await allPages((cursor) => ask(cursor, 3));
      expect(paged.items, name).toEqual(whole.items);
      expect(paged.pages.slice(0, -1).every((size) => size === 3), name).toBe(true);
      expect(paged.pages.length, name).toBe(Math.max(1, Math.ceil(whole.items.length / 3)));
    }
  });

  it('refuses a cursor issued for another question, saying which cursor to pass', async () => {
    const first = await tier.insights.commonQuestions({ limit: 1 });
    await expect(tier.insights.contentEffectiveness({ cursor: first.nextCursor! })).rejects.toThrow(/not one this tier issued for this question/);
    await expect(tier.insights.businessMetrics({ cursor: 'garbage' })).rejects.toThrow(/pass nextCursor from a previous page/);
  });
});
