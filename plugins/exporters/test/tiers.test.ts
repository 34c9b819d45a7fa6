import { monthRange, type Interaction, type StorageTier } from '@strata/core';
import type { HistoricalSqliteTier } from '@strata/historical-sqlite';
import type { JsonArchiveTier } from '@strata/json-archive';
import { generateWorkload, sampleInteractions } from '@strata/testing';
import { describe, expect, it } from 'vitest';
import { exportEnvironmentOf, exportToStream } from '../src/index.js';
import { ingestAll, memoryStream, openStrata, tempDir } from './helpers.js';

const START = Date.UTC(2026, 0, 5);

async function monthRows(tier: StorageTier, month: string): Promise<Interaction[]> {
  const rows: Interaction[] = [];
  for await (const batch of tier.scanInteractions(monthRange(month), { batchSize: 500 })) rows.push(...batch);
  return rows;
}

async function exportedRows(strata: Parameters<typeof exportEnvironmentOf>[0], dataset: string, query = {}) {
  const out = memoryStream();
  const result = await exportToStream(exportEnvironmentOf(strata), { dataset, format: 'jsonl', query }, out);
  const rows = out
    .text()
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { result, rows };
}

/**
 * 2,400 events from 2026-01-05 over 70 days. January is archived to the cold tier and deleted from
 * the hot tier; February is archived but (as while retention moves it) still in the hot tier too.
 */
async function spreadOverTiers() {
  const strata = await openStrata(tempDir(), { cold: true });
  const events = [...generateWorkload({ events: 2_400, seed: 21, start: START, days: 70, networkFields: false })];
  await ingestAll(strata, events);
  const hot = strata.storage('hot')!;
  const cold = strata.storage('cold') as JsonArchiveTier;
  const january = await monthRows(hot, '2026-01');
  const february = await monthRows(hot, '2026-02');
  await cold.archive.writePartition('2026-01-a', '2026-01', [january]);
  await cold.archive.writePartition('2026-02-a', '2026-02', [february]);
  await hot.deleteEvents!(january.map((row) => row.eventId));
  const march = await monthRows(hot, '2026-03');
  return { strata, events, january, february, march, total: january.length + february.length + march.length };
}

describe('exporting interactions across the hot and cold tiers', () => {
  it('exports every row of a range spanning both tiers exactly once, oldest first', async () => {
    const { strata, january, february, total } = await spreadOverTiers();
    expect(january.length).toBeGreaterThan(0);
    const { result, rows } = await exportedRows(strata, 'interactions');
    expect(rows).toHaveLength(total);
    expect(new Set(rows.map((row) => row.eventId)).size).toBe(total);
    const times = rows.map((row) => row.timestamp as number);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(result.counts).toEqual({ cold: january.length, hot: total - january.length, duplicatesSkipped: february.length });
    // The cold copy is the same row as the hot one was.
    expect(rows.find((row) => row.eventId === january[0]!.eventId)).toEqual(january[0]);
  });

  it('applies the range, role and query type to both tiers', async () => {
    const { strata, events } = await spreadOverTiers();
    const range = { from: Date.UTC(2026, 0, 20), to: Date.UTC(2026, 1, 10) };
    const { rows } = await exportedRows(strata, 'interactions', { range, userRole: 'student', queryType: 'technical' });
    const expected = events
      .filter((event) => {
        const at = Date.parse(event.timestamp as string);
        return at >= range.from && at < range.to && event.userRole === 'student' && event.queryType === 'technical';
      })
      .map((event) => event.eventId)
      .sort();
    expect(expected.length).toBeGreaterThan(5);
    expect(rows.map((row) => row.eventId).sort()).toEqual(expected);
  });
});

describe('exporting aggregates', () => {
  it('filters sessions by start, role and first query type', async () => {
    const strata = await openStrata(tempDir());
    const events = [...generateWorkload({ events: 600, seed: 5, start: START, days: 10, networkFields: false })];
    await ingestAll(strata, events);
    const from = START + 3 * 86_400_000;
    const { rows } = await exportedRows(strata, 'sessions', { range: { from }, userRole: 'recruiter' });
    const firstBySession = new Map<string, (typeof events)[number]>();
    for (const event of events) if (!firstBySession.has(event.sessionId)) firstBySession.set(event.sessionId, event);
    const expected = [...firstBySession.values()].filter((event) => event.userRole === 'recruiter' && Date.parse(event.timestamp as string) >= from).map((event) => event.sessionId);
    expect(rows.map((row) => row.sessionId)).toEqual(expected.sort());
    expect(rows[0]).toMatchObject({ userRole: 'recruiter', conversionAchieved: expect.any(Boolean), totalQueries: expect.any(Number) });
    const byType = await exportedRows(strata, 'sessions', { queryType: 'mma' });
    expect(byType.rows.every((row) => row.startQueryType === 'mma')).toBe(true);
  });

  it('sums query and content exports to the interactions of the range and role', async () => {
    const strata = await openStrata(tempDir());
    const events = [...generateWorkload({ events: 800, seed: 8, start: START, days: 10, networkFields: false })];
    await ingestAll(strata, events);
    const range = { from: START + 2 * 86_400_000, to: START + 6 * 86_400_000 };
    const inRange = events.filter((event) => Date.parse(event.timestamp as string) >= range.from && Date.parse(event.timestamp as string) < range.to && event.userRole === 'student');
    const queries = await exportedRows(strata, 'queries', { range, userRole: 'student' });
    expect(queries.rows.reduce((sum, row) => sum + (row.asks as number), 0)).toBe(inRange.length);
    expect(Object.keys(queries.rows[0]!)).toEqual(['queryHash', 'query', 'category', 'asks', 'successRate', 'avgResponseTime', 'avgRating', 'ratedAsks', 'popularRoles', 'lastAsked']);
    const technical = await exportedRows(strata, 'queries', { queryType: 'technical' });
    expect(technical.rows.length).toBeGreaterThan(0);
    expect(technical.rows.every((row) => row.category === 'technical')).toBe(true);
    const content = await exportedRows(strata, 'content', { range, userRole: 'student' });
    expect(content.rows.reduce((sum, row) => sum + (row.accesses as number), 0)).toBe(inRange.reduce((sum, event) => sum + (event.content?.length ?? 0), 0));
  });

  it('reads question and content aggregates of months retention moved to the warm tier', async () => {
    const strata = await openStrata(tempDir(), { warm: true, cold: true });
    const events = [...generateWorkload({ events: 1_200, seed: 31, start: START, days: 50, networkFields: false })];
    await ingestAll(strata, events);
    const hot = strata.storage('hot')!;
    const warm = strata.storage('warm') as HistoricalSqliteTier;
    // What retention does with January: aggregate it into the warm tier, delete the rows, prune the hot tier's detail.
    const january = await monthRows(hot, '2026-01');
    await warm.aggregates.addRows('2026-01-a', [january]);
    await hot.deleteEvents!(january.map((row) => row.eventId));
    await hot.pruneDetailedRollups!(Date.UTC(2026, 1, 1));
    const range = { from: Date.UTC(2026, 0, 1), to: Date.UTC(2026, 2, 1) };
    const inRange = events.filter((event) => Date.parse(event.timestamp as string) >= range.from && Date.parse(event.timestamp as string) < range.to);
    const queries = await exportedRows(strata, 'queries', { range });
    expect(queries.rows.reduce((sum, row) => sum + (row.asks as number), 0)).toBe(inRange.length);
    const content = await exportedRows(strata, 'content', { range });
    expect(content.rows.reduce((sum, row) => sum + (row.accesses as number), 0)).toBe(inRange.reduce((sum, event) => sum + (event.content?.length ?? 0), 0));
  });

  it('exports business metrics per day from the hot tier, with days only the warm tier holds', async () => {
    const strata = await openStrata(tempDir(), { warm: true });
    await ingestAll(strata, sampleInteractions(300, 4, START, 3));
    const warm = strata.storage('warm') as HistoricalSqliteTier;
    // Days from before this hot tier existed (as after restoring only the warm tier), and one day both hold.
    await warm.aggregates.addRows('older', [sampleInteractions(200, 9, Date.UTC(2025, 10, 1), 2), sampleInteractions(50, 10, START, 1)]);
    const { rows, result } = await exportedRows(strata, 'business-metrics');
    expect(rows.map((row) => [row.date, row.tier])).toEqual([
      ['2025-11-01', 'warm'],
      ['2025-11-02', 'warm'],
      ['2026-01-05', 'hot'],
      ['2026-01-06', 'hot'],
      ['2026-01-07', 'hot'],
    ]);
    expect(rows[0]).toMatchObject({ sessions: null, convertedSessions: null, interactions: expect.any(Number) });
    expect(rows[2]!.sessions).toEqual(expect.any(Number));
    expect(result.counts).toEqual({ hot: 3, warm: 2 });
    const student = await exportedRows(strata, 'business-metrics', { userRole: 'student', range: { from: Date.UTC(2026, 0, 6) } });
    expect(student.rows.map((row) => row.date)).toEqual(['2026-01-06', '2026-01-07']);
  });
});
