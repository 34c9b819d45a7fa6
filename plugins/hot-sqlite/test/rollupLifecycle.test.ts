import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createStrata, normalizeQuery, type Interaction } from '@strata/core';
import { ERASED_ALONE_QUESTION, archivedErasureWorkload, generateWorkload, sampleInteractions } from '@strata/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_RETENTION_POLICIES, HOT_SQLITE_MIGRATIONS, HotSqliteTier, SchemaMigrator, hotSqlitePlugin } from '../src/index.js';
import { INSERT_COLUMNS, toInsertParams } from '../src/interactionRows.js';
import { expectedRollups, storedRollups } from './rollupOracle.js';

let directory: string;
beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'hot-sqlite-lifecycle-'));
});
afterEach(() => {
  rmSync(directory, { recursive: true, force: true });
});

const DAY = 86_400_000;

describe('rollups are history', () => {
  it('stay as they were when interactions of a range are deleted', async () => {
    const tier = HotSqliteTier.open({ file: join(directory, 'a.db') });
    await tier.writeInteractions(sampleInteractions(600, 3));
    const before = storedRollups(tier.database, true);
    const report = await tier.report({});
    expect(await tier.deleteInteractions({ from: Date.UTC(2025, 11, 3), to: Date.UTC(2025, 11, 6) })).toBeGreaterThan(0);
    expect(storedRollups(tier.database, true)).toEqual(before);
    expect(await tier.report({})).toEqual(report);
    await tier.close();
  });

});

/** Fields a subtraction cannot restore (maxima, first/last times, the category of the first ask), dropped before comparing. */
function revertible(snapshot: ReturnType<typeof storedRollups>): ReturnType<typeof storedRollups> {
  const drop = new Set(['response_us_max', 'first_asked', 'last_asked', 'first_accessed', 'last_accessed', 'query_category', 'query_normalized']);
  return Object.fromEntries(
    Object.entries(snapshot).map(([table, rows]) => [table, rows.map((row) => Object.fromEntries(Object.entries(row).filter(([key]) => !drop.has(key))))]),
  ) as ReturnType<typeof storedRollups>;
}

/** Writes `events` to one tier and, without the erased sessions, to the other, in the same batches. */
async function writeWithAndWithout(withAll: HotSqliteTier, without: HotSqliteTier, events: readonly Interaction[], erased: ReadonlySet<string>): Promise<void> {
  for (let start = 0; start < events.length; start += 200) {
    const batch = events.slice(start, start + 200);
    await withAll.writeInteractions(batch);
    await without.writeInteractions(batch.filter((event) => !erased.has(event.sessionId)));
  }
}

describe('erasing a session', () => {
  it('leaves every rollup as if the session had never been stored', async () => {
    const now = () => Date.UTC(2025, 11, 20);
    const events = sampleInteractions(900, 21);
    const sessions = [...new Set(events.map((event) => event.sessionId))];
    const erased = new Set(sessions.filter((_, index) => index % 7 === 0));
    expect(erased.size).toBeGreaterThan(1);
    const withAll = HotSqliteTier.open({ file: join(directory, 'all.db'), now });
    const without = HotSqliteTier.open({ file: join(directory, 'without.db'), now });
    await writeWithAndWithout(withAll, without, events, erased);
    let removed = 0;
    for (const sessionId of erased) removed += await withAll.eraseSession(sessionId);
    expect(removed).toBe(events.filter((event) => erased.has(event.sessionId)).length);
    expect(revertible(storedRollups(withAll.database))).toEqual(revertible(storedRollups(without.database)));
    for (const sessionId of erased) expect((await withAll.queryInteractions({ sessionId })).items).toEqual([]);
    // A second erasure finds nothing and changes nothing.
    const after = storedRollups(withAll.database, true);
    expect(await withAll.eraseSession([...erased][0]!)).toBe(0);
    expect(storedRollups(withAll.database, true)).toEqual(after);
    await withAll.close();
    await without.close();
  });
});

describe('erasing a session some of whose rows were archived', () => {
  it('subtracts the archived rows given with it too, so rollups and questions are as if it had never been stored', async () => {
    const now = () => Date.UTC(2025, 11, 20);
    const { events, erased, archived, heldOfErased } = archivedErasureWorkload();
    const withAll = HotSqliteTier.open({ file: join(directory, 'all.db'), now });
    const without = HotSqliteTier.open({ file: join(directory, 'without.db'), now });
    await writeWithAndWithout(withAll, without, events, erased);
    // Retention moved these rows to the archive and deleted them here.
    expect(await withAll.deleteEvents(archived.map((event) => event.eventId))).toBe(archived.length);

    let removed = 0;
    for (const sessionId of erased) removed += await withAll.eraseSession(sessionId, { archived: archived.filter((event) => event.sessionId === sessionId) });
    // Only rows held here count as removed here; the archive erases its own copy.
    expect(removed).toBe(heldOfErased);
    // Minute rollups keep archived rows (their stored-at time was not archived; readers use minutes only within a day).
    const beyondMinutes = (snapshot: ReturnType<typeof storedRollups>) => Object.fromEntries(Object.entries(revertible(snapshot)).filter(([table]) => !table.includes('minute')));
    expect(beyondMinutes(storedRollups(withAll.database))).toEqual(beyondMinutes(storedRollups(without.database)));
    expect(withAll.database.prepare('SELECT COUNT(*) AS n FROM query_performance WHERE query_normalized = ?').get(normalizeQuery(ERASED_ALONE_QUESTION))).toEqual({ n: 0 });
    await withAll.close();
    await without.close();
  });
});

describe('schema 2 on a database written by schema 1', () => {
  it('backfills every rollup from the interactions already stored', async () => {
    const file = join(directory, 'old.db');
    const events = sampleInteractions(900, 12);
    const db = new Database(file);
    new SchemaMigrator(db, HOT_SQLITE_MIGRATIONS.slice(0, 1), 'test').migrate(0);
    const insert = db.prepare(`INSERT INTO user_interactions (${INSERT_COLUMNS.join(', ')}) VALUES (${INSERT_COLUMNS.map(() => '?').join(', ')})`);
    // Three ingest batches, the last stored the day after its events: only it has minute rollups.
    const storedAt = [Date.UTC(2026, 5, 1), Date.UTC(2026, 5, 2), events[899]!.timestamp + DAY / 2];
    db.transaction(() => events.forEach((event, index) => insert.run(toInsertParams(event, storedAt[Math.floor(index / 300)]!))))();
    db.close();

    const tier = HotSqliteTier.open({ file });
    expect((tier.database.prepare('SELECT COUNT(*) AS n FROM rollup_minute').get() as { n: number }).n).toBeGreaterThan(0);
    expect(storedRollups(tier.database)).toEqual(expectedRollups(tier.database, 3));
    expect((await tier.report({})).totals.interactions).toBe(900);
    await tier.close();
  });

  it('seeds the retention policies of the plan', async () => {
    const tier = HotSqliteTier.open({ file: join(directory, 'c.db') });
    const rows = tier.database
      .prepare('SELECT table_name, archive_after_days, warm_retention_days, retention_days, cleanup_enabled FROM data_retention_policy ORDER BY id')
      .all();
    await tier.close();
    expect(rows).toEqual(
      DEFAULT_RETENTION_POLICIES.map((policy) => ({
        table_name: policy.table,
        archive_after_days: policy.archiveAfterDays,
        warm_retention_days: policy.warmRetentionDays,
        retention_days: policy.retentionDays,
        cleanup_enabled: policy.cleanupEnabled ? 1 : 0,
      })),
    );
    expect(rows).toContainEqual({ table_name: 'user_interactions', archive_after_days: 90, warm_retention_days: 730, retention_days: 1_095, cleanup_enabled: 1 });
  });
});

describe('metrics', () => {
  it('stores every sample in system_performance, even a repeated one', async () => {
    const tier = HotSqliteTier.open({ file: join(directory, 'm.db') });
    const sample = { timestamp: Date.UTC(2026, 0, 1), name: 'memory_usage', value: 512, unit: 'MB', component: 'rag_engine' };
    expect(await tier.writeMetrics([sample, sample, { ...sample, value: 256 }])).toBe(3);
    expect(await tier.writeMetrics([])).toBe(0);
    const rows = tier.database.prepare('SELECT metric_name, metric_value, metric_unit, component FROM system_performance').all();
    const [point] = (await tier.insights.systemPerformance({ granularity: 'minute' })).items;
    await tier.close();
    expect(rows).toHaveLength(3);
    expect(point).toMatchObject({ metricName: 'memory_usage', samples: 3, min: 256, max: 512 });
  });
});

describe('conversion depth', () => {
  it('counts a session as converted once it reaches the configured depth', async () => {
    const strict = HotSqliteTier.open({ file: join(directory, 'd1.db'), conversionDepth: 5 });
    const loose = HotSqliteTier.open({ file: join(directory, 'd2.db'), conversionDepth: 1 });
    const events = sampleInteractions(300, 5);
    await strict.writeInteractions(events);
    await loose.writeInteractions(events);
    const count = (tier: HotSqliteTier) => (tier.database.prepare('SELECT SUM(conversion_achieved) AS n, COUNT(*) AS sessions FROM session_analytics').get() as { n: number; sessions: number });
    const strictCount = count(strict);
    const looseCount = count(loose);
    await strict.close();
    await loose.close();
    expect(looseCount.n).toBe(looseCount.sessions);
    expect(strictCount.n).toBeLessThan(looseCount.n);
  });
});

describe('strata.insights', () => {
  it('answers from the hot tier under createStrata', async () => {
    const catalog = { 'hot-sqlite': () => hotSqlitePlugin };
    const strata = await createStrata({ config: { plugins: [{ name: 'hot-sqlite', options: { conversionDepth: 2 } }] }, cwd: directory, catalog, logLevel: 'silent' });
    const inputs = [...generateWorkload({ events: 500, seed: 4 })];
    for (const input of inputs) expect(strata.record(input)).toBe(true);
    await strata.flush();
    const days = await strata.insights.businessMetrics({ limit: 1_000 });
    const roles = await strata.insights.userBehaviour();
    await strata.close();
    expect(days.items.reduce((sum, day) => sum + day.interactions, 0)).toBe(500);
    expect(days.items.reduce((sum, day) => sum + day.sessions, 0)).toBe(new Set(inputs.map((input) => input.sessionId)).size);
    expect(roles.items.reduce((sum, role) => sum + role.interactions, 0)).toBe(500);
  });
});

describe('rating after the fact', () => {
  it('leaves every rollup as if the event had carried the rating when stored', async () => {
    const now = () => Date.UTC(2025, 11, 20);
    const events = sampleInteractions(600, 23);
    const later = events.map((event, index) => (index % 3 === 0 ? { ...event, userRating: ((index % 5) + 1) as number } : event));
    const final = later.map((event, index) => (index % 7 === 0 ? { ...event, userRating: null } : event));
    const rated = HotSqliteTier.open({ file: join(directory, 'rated-later.db'), now });
    const direct = HotSqliteTier.open({ file: join(directory, 'rated-at-once.db'), now });
    for (let start = 0; start < events.length; start += 150) {
      await rated.writeInteractions(events.slice(start, start + 150));
      await direct.writeInteractions(final.slice(start, start + 150));
    }
    // Rate, then change or withdraw some ratings: only the final state counts.
    for (const event of later) if (event.userRating !== events[later.indexOf(event)]!.userRating) await rated.rateInteraction(event.eventId, event.userRating);
    for (const [index, event] of final.entries()) if (event.userRating !== later[index]!.userRating) expect(await rated.rateInteraction(event.eventId, event.userRating)).toBe('updated');
    expect(storedRollups(rated.database)).toEqual(storedRollups(direct.database));
    expect(await rated.rateInteraction(final[0]!.eventId, final[0]!.userRating)).toBe('unchanged');
    expect(await rated.rateInteraction('no-such-event', 4)).toBe('not-found');
    await rated.close();
    await direct.close();
  });
});

describe('batches aggregated on the host thread', () => {
  it('give the writer thread the same rollups as writing inline, duplicates and re-sent batches included', async () => {
    const now = () => Date.UTC(2025, 11, 20);
    const events = sampleInteractions(1_200, 31);
    const inline = HotSqliteTier.open({ file: join(directory, 'inline.db'), now });
    const thread = HotSqliteTier.open({ file: join(directory, 'thread.db'), now, writer: 'thread' });
    const batches = [events.slice(0, 400), events.slice(300, 700), events.slice(0, 400), [...events.slice(700, 1_200), events[5]!]];
    for (const batch of batches) {
      const a = await inline.writeInteractions(batch);
      const b = await thread.writeInteractions(batch);
      expect(b).toEqual(a);
    }
    await thread.close();
    const reopened = HotSqliteTier.open({ file: join(directory, 'thread.db'), now });
    expect(storedRollups(reopened.database)).toEqual(storedRollups(inline.database));
    await reopened.close();
    await inline.close();
  });

  it('give the same rollups and answers when the thread commits batches queued behind each other together', async () => {
    const now = () => Date.UTC(2025, 11, 20);
    const events = sampleInteractions(1_500, 37);
    const inline = HotSqliteTier.open({ file: join(directory, 'inline.db'), now });
    // A group limit below the total, so the batches commit as more than one group.
    const thread = HotSqliteTier.open({ file: join(directory, 'grouped.db'), now, writer: 'thread', groupCommitEvents: 700 });
    const batches = [events.slice(0, 400), events.slice(300, 700), events.slice(0, 100), events.slice(700, 1_100), [...events.slice(1_100, 1_500), events[5]!]];
    const expected = [];
    for (const batch of batches) expected.push(await inline.writeInteractions(batch));
    // All posted before any is answered: the thread finds them queued and groups them.
    expect(await Promise.all(batches.map((batch) => thread.writeInteractions(batch)))).toEqual(expected);
    await thread.close();
    const reopened = HotSqliteTier.open({ file: join(directory, 'grouped.db'), now });
    expect(storedRollups(reopened.database)).toEqual(storedRollups(inline.database));
    await reopened.close();
    await inline.close();
  });
});
