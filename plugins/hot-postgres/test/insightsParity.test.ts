import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInteractionValidator, type InsightsPage, type InsightsProvider, type Interaction, type Metric, type StorageTier } from '@strata/core';
import { HotSqliteTier } from '@strata/hot-sqlite';
import { generateWorkload } from '@strata/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HotPostgresTier } from '../src/index.js';
import { dropSchemas, openTier, postgresSkipReason, uniqueSchema } from './postgresServer.js';

const skip = await postgresSkipReason();

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
// Mid-minute, so ranges inside the last day widen to whole minutes and older ones to whole hours.
const NOW = Date.UTC(2026, 0, 20, 13, 27, 41);
const START = NOW - 45 * DAY;
const ROLES = ['software_engineer', 'recruiter', 'student', 'no_such_role'];

let directory: string;
let schema: string;
let sqlite: HotSqliteTier;
let postgres: HotPostgresTier;

/** The same workload for both tiers: generated, validated, written in the same batches, with late and repeated events. */
function workload(): Interaction[][] {
  const validate = createInteractionValidator(undefined, () => NOW);
  const events: Interaction[] = [];
  for (const input of generateWorkload({ events: 6_000, seed: 31, start: START, days: 45, networkFields: false })) {
    const checked = validate(input);
    if (!checked.ok) throw new Error(`invalid workload event: ${JSON.stringify(checked.issues)}`);
    if (checked.value.timestamp <= NOW) events.push(checked.value);
  }
  // Every 11th event arrives three batches late: sessions whose start moves when it lands.
  const late = events.filter((_, index) => index % 11 === 5);
  const onTime = events.filter((_, index) => index % 11 !== 5);
  const batches: Interaction[][] = [];
  for (let index = 0; index < onTime.length; index += 400) batches.push(onTime.slice(index, index + 400));
  late.forEach((event, index) => batches[Math.min(batches.length - 1, Math.floor((index * 10) / 400) + 3)]!.push(event));
  // And a re-sent slice: duplicates change nothing.
  batches.push(events.slice(1_000, 1_300));
  return batches;
}

function metrics(): Metric[] {
  const samples: Metric[] = [];
  for (let minute = 0; minute < 3 * 24 * 60; minute += 13) {
    const timestamp = NOW - 3 * DAY + minute * MINUTE;
    samples.push({ timestamp, name: 'memory_usage', value: 100 + (minute % 17) * 0.37, unit: 'MB', component: 'rag_engine' });
    samples.push({ timestamp: timestamp + 1, name: 'concurrent_users', value: minute % 5, unit: null, component: null });
    samples.push({ timestamp: timestamp + 2, name: 'response_time', value: 0.1 * (minute % 7), unit: 's', component: 'api' });
  }
  return samples;
}

/** Every page of an answer, walking its cursors. */
async function pages<T>(ask: (cursor: string | undefined) => Promise<InsightsPage<T>>): Promise<Array<InsightsPage<T>>> {
  const out: Array<InsightsPage<T>> = [];
  let cursor: string | undefined;
  do {
    const page = await ask(cursor);
    out.push(page);
    cursor = page.nextCursor ?? undefined;
  } while (cursor && out.length < 2_000);
  return out;
}

/** Ranges that exercise days, hours around them, and minutes inside the last day. */
const RANGES = [
  undefined,
  { from: START + 3 * DAY + 7 * HOUR + 13 * MINUTE, to: START + 17 * DAY + 2 * HOUR + 1 },
  { from: NOW - 20 * HOUR - 7 * MINUTE - 5_000, to: NOW - 2 * HOUR + 11 * MINUTE },
  { from: NOW - 5 * DAY - 30 * MINUTE, to: NOW },
  { to: START + 10 * DAY },
  { from: NOW - 3 * HOUR },
];

/** Every question, with ranges, role filters and page sizes, asked of one tier. */
async function everyAnswer(tier: StorageTier): Promise<Record<string, unknown>> {
  const insights = tier.insights as InsightsProvider;
  const answers: Record<string, unknown> = {};
  for (const [rangeIndex, range] of RANGES.entries()) {
    for (const userRole of [undefined, ...ROLES]) {
      for (const limit of [3, 50]) {
        const base = { ...(range ? { range } : {}), ...(userRole !== undefined ? { userRole } : {}), limit };
        const label = `range${rangeIndex}:${userRole ?? 'all'}:${limit}`;
        answers[`commonQuestions:${label}`] = await pages((cursor) => insights.commonQuestions({ ...base, ...(cursor ? { cursor } : {}) }));
        answers[`contentEffectiveness:${label}`] = await pages((cursor) => insights.contentEffectiveness({ ...base, ...(cursor ? { cursor } : {}) }));
        answers[`userBehaviour:${label}`] = await pages((cursor) => insights.userBehaviour({ ...base, ...(cursor ? { cursor } : {}) }));
        answers[`businessMetrics:${label}`] = await pages((cursor) => insights.businessMetrics({ ...base, ...(cursor ? { cursor } : {}) }));
        answers[`trendingQueries:${label}`] = await pages((cursor) => insights.trendingQueries({ ...base, ...(cursor ? { cursor } : {}) }));
        answers[`trendingQueries:short:${label}`] = await pages((cursor) => insights.trendingQueries({ ...base, recentDays: 3, baselineDays: 10, ...(cursor ? { cursor } : {}) }));
      }
      answers[`report:range${rangeIndex}:${userRole ?? 'all'}`] = await tier.report!({ ...(range ? { range } : {}), ...(userRole !== undefined ? { userRole } : {}), topN: 7 });
    }
    for (const granularity of ['minute', 'hour', 'day'] as const) {
      for (const metricName of [undefined, 'memory_usage', 'absent']) {
        const base = { ...(range ? { range } : {}), granularity, ...(metricName ? { metricName } : {}), limit: 40 };
        answers[`systemPerformance:range${rangeIndex}:${granularity}:${metricName ?? 'all'}`] = await pages((cursor) =>
          insights.systemPerformance({ ...base, ...(cursor ? { cursor } : {}) }),
        );
      }
    }
  }
  answers.detailCoverage = await insights.detailCoverage!();
  return answers;
}

describe.skipIf(skip)('insights on PostgreSQL and on SQLite', () => {
  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'hot-postgres-parity-'));
    schema = uniqueSchema('parity');
    sqlite = HotSqliteTier.open({ file: join(directory, 'hot.db'), writer: 'inline', now: () => NOW });
    postgres = await openTier(schema, { now: () => NOW });
    for (const batch of workload()) {
      const [a, b] = await Promise.all([sqlite.writeInteractions(batch), postgres.writeInteractions(batch)]);
      expect(b).toEqual(a);
    }
    const samples = metrics();
    for (let index = 0; index < samples.length; index += 250) {
      await sqlite.writeMetrics(samples.slice(index, index + 250));
      await postgres.writeMetrics(samples.slice(index, index + 250));
    }
  }, 120_000);

  afterAll(async () => {
    await sqlite?.close();
    await postgres?.close();
    await dropSchemas(schema);
    rmSync(directory, { recursive: true, force: true });
  });

  it('stored the same events', async () => {
    expect(await postgres.countInteractions()).toBe(await sqlite.countInteractions());
  });

  it('answer every question identically: all six, with ranges, role filters, pagination, and the report', async () => {
    const expected = await everyAnswer(sqlite);
    const actual = await everyAnswer(postgres);
    expect(Object.keys(actual)).toEqual(Object.keys(expected));
    // Sanity: the answers are not trivially empty.
    expect((expected['commonQuestions:range0:all:3'] as unknown[]).length).toBeGreaterThan(10);
    expect((expected['trendingQueries:range0:all:50'] as Array<InsightsPage<unknown>>)[0]!.items.length).toBeGreaterThan(0);
    expect((expected['userBehaviour:range2:all:50'] as Array<InsightsPage<unknown>>)[0]!.items.length).toBeGreaterThan(0);
    for (const key of Object.keys(expected)) expect(actual[key], key).toEqual(expected[key]);
  }, 300_000);

  it('still answer identically after the same sessions are erased and detailed rollups pruned', async () => {
    const sessions = (await sqlite.queryInteractions({ limit: 10_000 })).items.map((event) => event.sessionId);
    const doomed = [...new Set(sessions)].filter((_, index) => index % 9 === 0).slice(0, 40);
    for (const sessionId of doomed) expect(await postgres.eraseSession(sessionId)).toBe(await sqlite.eraseSession(sessionId));
    const horizon = START + 20 * DAY + 5 * HOUR;
    expect(await postgres.pruneDetailedRollups(horizon)).toBe(await sqlite.pruneDetailedRollups(horizon));
    const expected = await everyAnswer(sqlite);
    const actual = await everyAnswer(postgres);
    expect(actual.detailCoverage).toEqual({ from: Math.floor(horizon / DAY) * DAY });
    for (const key of Object.keys(expected)) expect(actual[key], key).toEqual(expected[key]);
  }, 300_000);
});
