import type { Interaction } from '@strata/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { asyncBatches, batches, byMonth, scratch, workload } from './fixtures.js';
import { expectedAggregates, storedAggregates, storedLedger } from './oracle.js';

const START = Date.UTC(2025, 0, 20);

let space: ReturnType<typeof scratch>;

beforeEach(() => {
  space = scratch('aggregates');
});

afterEach(async () => {
  await space.cleanup();
});

describe('addRows', () => {
  for (const seed of [3, 11, 29]) {
    it(`stores exactly what GROUP BY over the rows gives (workload seed ${seed})`, async () => {
      const tier = space.open();
      const rows = workload(2_500, seed, START, 75);
      for (const [month, monthRows] of byMonth(rows)) {
        const result = await tier.aggregates.addRows(`partition-${month}`, asyncBatches(monthRows, 300));
        expect(result).toEqual({ applied: true, rows: monthRows.length });
      }
      expect(storedAggregates(tier.database)).toEqual(expectedAggregates(rows));
    });
  }

  it('adds a late partition of a month already aggregated without recomputing it', async () => {
    const tier = space.open();
    const rows = workload(1_500, 5, START, 40);
    // Every seventh row of each month arrives late, in a second partition of that month.
    for (const [month, monthRows] of byMonth(rows)) {
      await tier.aggregates.addRows(`${month}-a`, batches(monthRows.filter((_, index) => index % 7 !== 0), 200));
    }
    for (const [month, monthRows] of byMonth(rows)) {
      await tier.aggregates.addRows(`${month}-late`, [monthRows.filter((_, index) => index % 7 === 0)]);
    }
    expect(storedAggregates(tier.database)).toEqual(expectedAggregates(rows));
  });

  it('gives the same bytes whatever the sources, batches and order the rows came in', async () => {
    const rows = workload(1_200, 8, START, 45);
    const one = space.open('one.db');
    await one.aggregates.addRows('everything', [rows]);
    const other = space.open('other.db');
    const shuffled = [...rows].sort((a, b) => (a.eventId < b.eventId ? 1 : -1));
    for (const [index, part] of batches(shuffled, 137).entries()) await other.aggregates.addRows(`part-${index}`, batches(part, 10));
    expect(storedAggregates(other.database)).toEqual(storedAggregates(one.database));
  });

  it('changes nothing when the same source is added again', async () => {
    const tier = space.open();
    const rows = workload(800, 4, START, 30);
    expect(await tier.aggregates.addRows('2025-01-p1', [rows])).toEqual({ applied: true, rows: rows.length });
    const before = { aggregates: storedAggregates(tier.database), ledger: storedLedger(tier.database) };
    expect(await tier.aggregates.addRows('2025-01-p1', [rows])).toEqual({ applied: false, rows: rows.length });
    // Different rows under an applied id change nothing either: the id is what counts.
    expect(await tier.aggregates.addRows('2025-01-p1', [rows.slice(0, 10)])).toEqual({ applied: false, rows: rows.length });
    expect({ aggregates: storedAggregates(tier.database), ledger: storedLedger(tier.database) }).toEqual(before);
    expect(await tier.aggregates.hasSource('2025-01-p1')).toBe(true);
    expect(await tier.aggregates.hasSource('2025-01-p2')).toBe(false);
  });

  it('does not read the rows of a source already applied', async () => {
    const tier = space.open();
    await tier.aggregates.addRows('p', [workload(10, 1, START, 1)]);
    let read = false;
    async function* rows(): AsyncIterable<Interaction[]> {
      read = true;
      yield [];
    }
    await tier.aggregates.addRows('p', rows());
    expect(read).toBe(false);
  });

  it('counts a source once when two calls add it at the same time', async () => {
    const tier = space.open();
    const rows = workload(900, 6, START, 20);
    const results = await Promise.all([tier.aggregates.addRows('same', asyncBatches(rows, 100)), tier.aggregates.addRows('same', asyncBatches(rows, 50))]);
    expect(results.map((result) => result.applied).sort()).toEqual([false, true]);
    expect(storedAggregates(tier.database)).toEqual(expectedAggregates(rows));
  });

  it('records each source in the ledger with its rows per month', async () => {
    const tier = space.open();
    const rows = workload(300, 2, Date.UTC(2025, 0, 25), 14);
    await tier.aggregates.addRows('spanning', [rows]);
    await tier.aggregates.addRows('empty', []);
    const months = [...byMonth(rows)].map(([month, monthRows]) => [month, monthRows.length]);
    expect(storedLedger(tier.database)).toEqual([
      { source_id: 'empty', rows: 0, skipped_rows: 0, months: JSON.stringify([[null, null]]) },
      { source_id: 'spanning', rows: rows.length, skipped_rows: 0, months: JSON.stringify(months) },
    ]);
    expect(await tier.aggregates.hasSource('empty')).toBe(true);
  });

  it('writes nothing when a row is not an interaction, and says which row', async () => {
    const tier = space.open();
    const rows = workload(50, 2, START, 3);
    const broken = [...rows.slice(0, 20), { ...rows[20]!, timestamp: 'yesterday' as unknown as number }, ...rows.slice(21)];
    await expect(tier.aggregates.addRows('bad', [broken])).rejects.toThrow(/row 20 of the source has no numeric timestamp.*nothing of this source was added/);
    await expect(tier.aggregates.addRows('bad', [rows.slice(0, 5), 'oops' as unknown as Interaction[]])).rejects.toThrow(/rows must yield arrays of interactions, got string/);
    expect(await tier.aggregates.hasSource('bad')).toBe(false);
    expect(await tier.aggregates.months()).toEqual([]);
  });

  it('writes nothing when reading the source fails part-way', async () => {
    const tier = space.open();
    const rows = workload(400, 2, START, 10);
    async function* failing(): AsyncIterable<Interaction[]> {
      yield rows.slice(0, 200);
      throw new Error('partition 2025-01 failed verification');
    }
    await expect(tier.aggregates.addRows('p', failing())).rejects.toThrow('partition 2025-01 failed verification');
    expect(await tier.aggregates.hasSource('p')).toBe(false);
    expect(storedAggregates(tier.database).interactions_monthly).toEqual([]);
  });

  it('stops when aborted and writes nothing', async () => {
    const tier = space.open();
    const controller = new AbortController();
    const rows = workload(400, 2, START, 10);
    async function* slow(): AsyncIterable<Interaction[]> {
      yield rows.slice(0, 200);
      controller.abort();
      yield rows.slice(200);
    }
    await expect(tier.aggregates.addRows('p', slow(), { signal: controller.signal })).rejects.toThrow(/abort/i);
    expect(await tier.aggregates.hasSource('p')).toBe(false);
  });

  it('refuses a source id that is not a non-empty string', async () => {
    const tier = space.open();
    await expect(tier.aggregates.addRows('', [])).rejects.toThrow(/sourceId must be a non-empty string of at most 512 characters.*got ""/);
    await expect(tier.aggregates.addRows(42 as unknown as string, [])).rejects.toThrow(/sourceId must be a non-empty string.*got 42/);
    await expect(tier.aggregates.hasSource('x'.repeat(513))).rejects.toThrow(/sourceId must be a non-empty string of at most 512/);
  });

  it('lets readers see the state before a source until its transaction commits', async () => {
    const tier = space.open();
    const first = workload(300, 2, START, 5);
    await tier.aggregates.addRows('first', [first]);
    const before = await tier.insights.commonQuestions({ limit: 1_000 });
    // Many distinct keys, so the write runs in several slices and yields to the event loop between them.
    const second = workload(6_000, 9, START, 28);
    const adding = tier.aggregates.addRows('second', asyncBatches(second, 1_000));
    let sawPartial = false;
    let readsInsideTransaction = 0;
    while (!(await Promise.race([adding.then(() => true), new Promise<false>((resolve) => setImmediate(() => resolve(false)))]))) {
      if (tier.database.inTransaction) readsInsideTransaction += 1;
      const during = await tier.insights.commonQuestions({ limit: 1_000 });
      if (JSON.stringify(during) !== JSON.stringify(before)) sawPartial = true;
    }
    expect(readsInsideTransaction).toBeGreaterThan(0);
    expect(sawPartial).toBe(false);
    expect(storedAggregates(tier.database)).toEqual(expectedAggregates([...first, ...second]));
  });
});

describe('months and expireBefore', () => {
  it('lists the months that hold aggregates, oldest first', async () => {
    const tier = space.open();
    expect(await tier.aggregates.months()).toEqual([]);
    const rows = workload(600, 3, Date.UTC(2024, 10, 10), 80);
    for (const [month, monthRows] of [...byMonth(rows)].reverse()) await tier.aggregates.addRows(month, [monthRows]);
    expect(await tier.aggregates.months()).toEqual(['2024-11', '2024-12', '2025-01']);
  });

  it('removes whole months before the one given and keeps daily business metrics and baselines', async () => {
    const tier = space.open();
    const rows = workload(900, 3, Date.UTC(2024, 10, 10), 80);
    for (const [month, monthRows] of byMonth(rows)) await tier.aggregates.addRows(month, [monthRows]);
    const before = storedAggregates(tier.database);
    expect(await tier.aggregates.expireBefore('2024-12')).toBe(1);
    expect(await tier.aggregates.months()).toEqual(['2024-12', '2025-01']);
    const after = storedAggregates(tier.database);
    for (const table of ['interactions_monthly', 'questions_monthly', 'content_monthly'] as const) {
      expect(after[table]).toEqual(before[table]!.filter((row) => (row.month as string) >= '2024-12'));
    }
    expect(after.business_daily).toEqual(before.business_daily);
    expect(after.performance_baselines).toEqual(before.performance_baselines);
    expect(await tier.aggregates.expireBefore('2024-12')).toBe(0);
    expect(await tier.aggregates.expireBefore('2026-01')).toBe(2);
    expect(await tier.aggregates.months()).toEqual([]);
    expect(await tier.insights.detailCoverage()).toEqual({ from: Date.UTC(2026, 0, 1) });
  });

  it('does not bring an expired month back when late rows or a retried source arrive', async () => {
    const tier = space.open();
    const rows = workload(600, 3, Date.UTC(2024, 10, 10), 60);
    const months = byMonth(rows);
    const november = months.get('2024-11')!;
    await tier.aggregates.addRows('2024-11', [november.slice(0, 100)]);
    await tier.aggregates.addRows('2024-12', [months.get('2024-12')!]);
    await tier.aggregates.expireBefore('2024-12');
    const daysBefore = storedAggregates(tier.database).business_daily;
    expect(await tier.aggregates.addRows('2024-11', [november])).toEqual({ applied: false, rows: 100 });
    expect(await tier.aggregates.addRows('2024-11-late', [november.slice(100)])).toEqual({ applied: true, rows: november.length - 100 });
    expect(await tier.aggregates.months()).toEqual(['2024-12']);
    // The late rows still count in the permanent daily business metrics.
    const stored = storedAggregates(tier.database);
    expect(stored.business_daily).not.toEqual(daysBefore);
    expect(stored.business_daily).toEqual(expectedAggregates([...november, ...months.get('2024-12')!]).business_daily);
    expect(storedLedger(tier.database).find((row) => row.source_id === '2024-11-late')).toMatchObject({ skipped_rows: november.length - 100 });
  });

  it('refuses a month that is not YYYY-MM', async () => {
    const tier = space.open();
    await expect(tier.aggregates.expireBefore('2025-13')).rejects.toThrow(/expireBefore\(month\) must be a month as YYYY-MM.*got "2025-13"/);
    await expect(tier.aggregates.expireBefore('March' as string)).rejects.toThrow(/got "March"/);
  });
});

describe('subtractRows (erasure)', () => {
  /**
   * Fields a subtraction cannot restore, dropped before comparing: maxima, first/last times, a
   * question's first category, and a baseline's p95, which is capped at the maximum that stays.
   */
  function revertible(snapshot: ReturnType<typeof storedAggregates>): ReturnType<typeof storedAggregates> {
    const drop = new Set(['response_us_max', 'max_response_time', 'p95_response_time', 'first_asked', 'last_asked', 'first_accessed', 'last_accessed', 'query_category']);
    return Object.fromEntries(Object.entries(snapshot).map(([table, rows]) => [table, rows.map((row) => Object.fromEntries(Object.entries(row).filter(([key]) => !drop.has(key))))]));
  }

  it('leaves every aggregate as if the erased sessions’ rows had never been added, and deletes what only they made', async () => {
    const tier = space.open();
    const rows: Interaction[] = workload(2_000, 13, START, 60);
    const sessions = [...new Set(rows.map((row) => row.sessionId))];
    const erased = new Set(sessions.filter((_, index) => index % 6 === 0));
    const subject = rows.find((row) => erased.has(row.sessionId))!;
    rows.push({ ...subject, eventId: 'alone-1', query: 'Who reviewed the Ferris contract for Ms Example?' });
    for (const [month, monthRows] of byMonth(rows)) await tier.aggregates.addRows(`partition-${month}`, batches(monthRows, 250));
    const ledger = storedLedger(tier.database);

    const result = await tier.aggregates.subtractRows(rows.filter((row) => erased.has(row.sessionId)));
    expect(result.deleted).toBeGreaterThanOrEqual(1);
    expect(result.months.length).toBeGreaterThan(1);
    expect(revertible(storedAggregates(tier.database))).toEqual(revertible(expectedAggregates(rows.filter((row) => !erased.has(row.sessionId)))));
    expect(tier.database.prepare("SELECT COUNT(*) AS n FROM questions_monthly WHERE query_normalized LIKE '%ferris%'").get()).toEqual({ n: 0 });
    // The ledger records what was added, so a retried partition is still recognised.
    expect(storedLedger(tier.database)).toEqual(ledger);
  });

  it('changes nothing for rows of an expired month, which the aggregates no longer hold', async () => {
    const tier = space.open();
    const rows = workload(300, 2, START, 20);
    await tier.aggregates.addRows('p', [rows]);
    await tier.aggregates.expireBefore('2025-03');
    const before = storedAggregates(tier.database);
    expect(await tier.aggregates.subtractRows(rows.filter((row) => row.timestamp < Date.UTC(2025, 1, 1)))).toMatchObject({ months: [] });
    // business_daily keeps every day permanently, so the expired days' rows still come out there.
    const { business_daily: _days, ...monthly } = storedAggregates(tier.database);
    const { business_daily: _before, ...monthlyBefore } = before;
    expect(monthly).toEqual(monthlyBefore);
  });
});
