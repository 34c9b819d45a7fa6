import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cachedInsights, type CachedInsights, type Interaction, type InsightsCacheCategory, type InsightsCacheStore, type Metric } from '@strata/core';
import { HotSqliteTier } from '@strata/hot-sqlite';
import { sampleInteractions } from '@strata/testing';
import { createClient } from '@redis/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryCacheStore, createRedisCacheStore, type RedisCacheStore } from '../src/index.js';
import { SHARED_REDIS_PORT, recordingLogger, sharedRedisUnavailable } from './helpers.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const START = Date.UTC(2026, 0, 1);
const DAYS = 20;
const NOW = START + DAYS * DAY;
const day = (index: number) => START + index * DAY;
/** The day of the new ingest: its session continues one that started the day before. */
const NEW_DAY = 15;

type Question = [InsightsCacheCategory, Record<string, unknown>];

/** Every question, over open, bounded, role-filtered and paged queries. */
const QUESTIONS: Question[] = [
  ['commonQuestions', {}],
  ['commonQuestions', { range: { from: day(2), to: day(9) }, limit: 1_000 }],
  ['commonQuestions', { range: { from: day(2) + 5 * HOUR, to: day(9) }, userRole: 'student', limit: 5 }],
  ['commonQuestions', { limit: 3 }],
  ['userBehaviour', {}],
  ['userBehaviour', { range: { from: day(5) + 2 * HOUR, to: day(5) + 9 * HOUR } }],
  ['userBehaviour', { range: { from: day(1), to: day(19) }, userRole: 'recruiter' }],
  ['contentEffectiveness', {}],
  ['contentEffectiveness', { range: { from: day(10), to: day(15) } }],
  ['contentEffectiveness', { limit: 5, userRole: 'software_engineer', range: { from: day(0), to: day(7) } }],
  ['businessMetrics', {}],
  ['businessMetrics', { range: { from: day(0), to: day(DAYS) } }],
  ['businessMetrics', { range: { from: day(3), to: day(4) } }],
  ['businessMetrics', { range: { from: day(NEW_DAY - 1), to: day(NEW_DAY) } }],
  ['businessMetrics', { range: { from: day(0), to: day(DAYS) }, limit: 4 }],
  ['trendingQueries', {}],
  ['trendingQueries', { range: { to: day(12) } }],
  ['trendingQueries', { range: { to: day(DAYS) }, recentDays: 3, baselineDays: 7, userRole: 'student' }],
  ['systemPerformance', { granularity: 'day' }],
  ['systemPerformance', { range: { from: day(4), to: day(5) }, granularity: 'hour' }],
  ['systemPerformance', { range: { from: day(NEW_DAY), to: day(NEW_DAY + 1) }, metricName: 'queue_depth' }],
];

const label = ([category, query]: Question) => `${category}(${JSON.stringify(query)})`;

function ask(insights: CachedInsights | HotSqliteTier['insights'], [category, query]: Question): Promise<unknown> {
  return (insights[category] as (query: unknown) => Promise<unknown>)(structuredClone(query));
}

function metricsOn(dayIndex: number, value: number): Metric[] {
  return Array.from({ length: 24 }, (_, hour) => ({ timestamp: day(dayIndex) + hour * HOUR, name: 'queue_depth', value: value + hour, unit: 'events', component: 'pipeline' }));
}

const events = sampleInteractions(4_000, 23, START, DAYS - 1);
const directories: string[] = [];

async function openTier(): Promise<HotSqliteTier> {
  const directory = mkdtempSync(join(tmpdir(), 'strata-cache-hot-'));
  directories.push(directory);
  const tier = HotSqliteTier.open({ file: join(directory, 'hot.db'), writer: 'inline', now: () => NOW });
  for (let index = 0; index < events.length; index += 500) await tier.writeInteractions(events.slice(index, index + 500));
  for (let dayIndex = 0; dayIndex < DAYS; dayIndex += 1) await tier.writeMetrics(metricsOn(dayIndex, dayIndex));
  return tier;
}

afterAll(() => {
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

/**
 * New events on NEW_DAY: two more turns of a session that started the day before (which converts
 * it: that day's business metrics change), asking a question listed for days 2–9 that was last
 * asked before NEW_DAY (its all-time `lastAsked` changes in the answer about days 2–9).
 */
async function newBatch(tier: HotSqliteTier): Promise<Interaction[]> {
  const turns = new Map<string, Interaction[]>();
  for (const event of events) turns.set(event.sessionId, [...(turns.get(event.sessionId) ?? []), event]);
  const [sessionId, sessionEvents] = [...turns].find(
    ([, list]) => list.length === 1 && list[0]!.conversationTurn === 1 && list[0]!.timestamp >= day(NEW_DAY - 1) && list[0]!.timestamp < day(NEW_DAY),
  )!;
  const listed = await tier.insights.commonQuestions({ range: { from: day(2), to: day(9) }, limit: 1_000 });
  const question = listed.items.find((item) => item.lastAsked < day(NEW_DAY));
  expect(question).toBeDefined();
  return [2, 3].map((turn) => ({
    ...sessionEvents[0]!,
    eventId: `${sessionId}-late-${turn}`,
    timestamp: day(NEW_DAY) + turn * 60_000,
    conversationTurn: turn,
    query: question!.query,
  }));
}

interface StoreCase {
  name: string;
  unavailable?: () => Promise<string | undefined>;
  open(): Promise<InsightsCacheStore>;
  cleanUp?(): Promise<void>;
}

const prefix = `strata-test:${randomUUID()}:`;
let redisStore: RedisCacheStore | undefined;

const storeCases: StoreCase[] = [
  { name: 'memory', open: async () => createMemoryCacheStore() },
  {
    name: 'redis',
    unavailable: sharedRedisUnavailable,
    async open() {
      redisStore = await createRedisCacheStore({ url: `redis://127.0.0.1:${SHARED_REDIS_PORT}`, keyPrefix: prefix, connectTimeoutMs: 2_000, commandTimeoutMs: 2_000, logger: recordingLogger().logger });
      expect(await redisStore.connect()).toBe(true);
      return redisStore;
    },
    async cleanUp() {
      await redisStore?.close();
      const client = createClient({ url: `redis://127.0.0.1:${SHARED_REDIS_PORT}` });
      await client.connect();
      for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 1_000 })) if (keys.length > 0) await client.unlink(keys);
      await client.close();
    },
  },
];

for (const storeCase of storeCases) {
  const reason = storeCase.unavailable ? await storeCase.unavailable() : undefined;
  describe.skipIf(reason !== undefined)(`insights through the ${storeCase.name} store on a hot-sqlite tier`, () => {
    let tier: HotSqliteTier;
    let store: InsightsCacheStore;
    let insights: CachedInsights;

    beforeAll(async () => {
      tier = await openTier();
      store = await storeCase.open();
      insights = cachedInsights(tier.insights, store);
    });

    afterAll(async () => {
      await storeCase.cleanUp?.();
      await tier.close();
    });

    it('answers every question cold and warm exactly as the tier does uncached', async () => {
      const questions: Question[] = [...QUESTIONS];
      // A second page, by the cursor of the first.
      const firstPage = (await tier.insights.commonQuestions({ limit: 3 })) as { nextCursor: string | null };
      expect(firstPage.nextCursor).not.toBeNull();
      questions.push(['commonQuestions', { limit: 3, cursor: firstPage.nextCursor }]);
      const hitsBefore = store.stats().hits;
      for (const question of questions) {
        const uncached = await ask(tier.insights, question);
        const cold = await ask(insights, question);
        const warm = await ask(insights, question);
        expect(cold, label(question)).toEqual(uncached);
        expect(warm, label(question)).toEqual(uncached);
      }
      expect(store.stats().hits - hitsBefore).toBe(questions.length);
    });

    it('after new ingest recomputes every answer it changed, and keeps the answers of other days', async () => {
      for (const question of QUESTIONS) await ask(insights, question);
      const before = await Promise.all(QUESTIONS.map((question) => ask(tier.insights, question)));

      const batch = await newBatch(tier);
      const written = await tier.writeInteractions(batch);
      expect(written.inserted).toBe(batch.length);
      await insights.invalidateForBatch(batch);
      const metrics = metricsOn(NEW_DAY, 1_000);
      await tier.writeMetrics(metrics);
      await insights.invalidateForMetrics(metrics);

      const changed: string[] = [];
      for (const [index, question] of QUESTIONS.entries()) {
        const truth = await ask(tier.insights, question);
        const hits = store.stats().hits;
        const answer = await ask(insights, question);
        expect(answer, label(question)).toEqual(truth);
        const changedHere = JSON.stringify(truth) !== JSON.stringify(before[index]);
        if (changedHere) {
          changed.push(label(question));
          // A changed answer can only be right if it was recomputed.
          expect(store.stats().hits, `${label(question)} was served stale`).toBe(hits);
        }
      }
      // The batch changed the answers this test is about (and not only the open ranges).
      expect(changed).toEqual(
        expect.arrayContaining([
          label(['commonQuestions', { range: { from: day(2), to: day(9) }, limit: 1_000 }]),
          label(['businessMetrics', { range: { from: day(NEW_DAY - 1), to: day(NEW_DAY) } }]),
          label(['systemPerformance', { range: { from: day(NEW_DAY), to: day(NEW_DAY + 1) }, metricName: 'queue_depth' }]),
        ]),
      );
      // Answers about other days stayed cached.
      for (const question of [
        ['businessMetrics', { range: { from: day(3), to: day(4) } }],
        ['userBehaviour', { range: { from: day(5) + 2 * HOUR, to: day(5) + 9 * HOUR } }],
        ['trendingQueries', { range: { to: day(12) } }],
        ['systemPerformance', { range: { from: day(4), to: day(5) }, granularity: 'hour' }],
      ] as Question[]) {
        const hits = store.stats().hits;
        await ask(insights, question);
        expect(store.stats().hits, `${label(question)} should still be cached`).toBe(hits + 1);
      }
    });
  });
}
