import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DiskFullError, StorageError, normalizeQuery } from '@strata/core';
import { sampleInteractions } from '@strata/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HISTOGRAM_RELATIVE_ERROR, HOT_SQLITE_MIGRATIONS, HotSqliteTier, SchemaMigrator } from '../src/index.js';

const MINUTE = 60_000;
const HOUR = 3_600_000;

let directory: string;
beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'hot-sqlite-'));
});
afterEach(() => {
  rmSync(directory, { recursive: true, force: true });
});

describe('opening', () => {
  it('uses WAL and the configured synchronous mode', async () => {
    const tier = HotSqliteTier.open({ file: join(directory, 'a.db'), synchronous: 'FULL' });
    const health = await tier.health();
    expect(health.details.journalMode).toBe('wal');
    expect(health.details.synchronous).toBe('FULL');
    await tier.close();
  });

  it('names the file and the fix when the location is not writable', () => {
    const blocker = join(directory, 'not-a-dir');
    writeFileSync(blocker, 'x');
    expect(() => HotSqliteTier.open({ file: join(blocker, 'a.db') })).toThrow(StorageError);
    expect(() => HotSqliteTier.open({ file: join(blocker, 'a.db') })).toThrow(/not-a-dir.*set dataDir to a writable folder/);
  });

  it('says the database is read-only when a write is refused, and stores nothing of the batch', async () => {
    const tier = HotSqliteTier.open({ file: join(directory, 'ro.db') });
    tier.database.pragma('query_only = ON');
    await expect(tier.writeInteractions(sampleInteractions(10))).rejects.toThrow(/ro\.db is read-only/);
    tier.database.pragma('query_only = OFF');
    expect(await tier.countInteractions()).toBe(0);
    await tier.close();
  });

  it('says the disk is full when the database cannot grow, and keeps earlier rows intact', async () => {
    const tier = HotSqliteTier.open({ file: join(directory, 'full.db') });
    await tier.writeInteractions(sampleInteractions(10, 1));
    const pages = tier.database.pragma('page_count', { simple: true }) as number;
    tier.database.pragma(`max_page_count = ${pages + 2}`);
    const error = await tier.writeInteractions(sampleInteractions(2_000, 2)).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DiskFullError);
    expect((error as DiskFullError).code).toBe('STRATA_DISK_FULL');
    expect((error as Error).message).toMatch(/full.*nothing of this batch was stored/);
    expect(await tier.countInteractions()).toBe(10);
    tier.database.pragma('max_page_count = 1073741823');
    expect((await tier.writeInteractions(sampleInteractions(2_000, 2))).inserted).toBe(2_000);
    await tier.close();
  });

  it('refuses an operation after close with a message naming the file', async () => {
    const tier = HotSqliteTier.open({ file: join(directory, 'a.db') });
    await tier.close();
    await expect(tier.countInteractions()).rejects.toThrow(/a\.db is closed/);
  });
});

describe('schema migrations', () => {
  it('records every applied migration with its version', async () => {
    const tier = HotSqliteTier.open({ file: join(directory, 'a.db') });
    await tier.close();
    const db = new Database(join(directory, 'a.db'), { readonly: true });
    const rows = db.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all();
    db.close();
    expect(rows).toEqual(HOT_SQLITE_MIGRATIONS.map((migration) => ({ version: migration.version, name: migration.name })));
  });

  it('applies nothing on a second open', () => {
    const db = new Database(join(directory, 'b.db'));
    const migrator = new SchemaMigrator(db, HOT_SQLITE_MIGRATIONS, 'test');
    expect(migrator.migrate().applied).toHaveLength(HOT_SQLITE_MIGRATIONS.length);
    expect(migrator.migrate().applied).toEqual([]);
    db.close();
  });

  it('leaves the old schema intact when a migration fails half-way', () => {
    const db = new Database(join(directory, 'c.db'));
    const broken = [
      ...HOT_SQLITE_MIGRATIONS,
      {
        version: HOT_SQLITE_MIGRATIONS.length + 1,
        name: 'half_done',
        up(connection: Database.Database) {
          connection.exec('CREATE TABLE half_done (id INTEGER)');
          connection.exec('ALTER TABLE user_interactions ADD COLUMN extra TEXT');
          throw new Error('crash in the middle');
        },
      },
    ];
    expect(() => new SchemaMigrator(db, broken, 'test').migrate()).toThrow('crash in the middle');
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'half_done'").all();
    const columns = (db.prepare('PRAGMA table_info(user_interactions)').all() as Array<{ name: string }>).map((column) => column.name);
    const version = (db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number }).v;
    db.close();
    expect(tables).toEqual([]);
    expect(columns).not.toContain('extra');
    expect(version).toBe(HOT_SQLITE_MIGRATIONS.length);
  });

  it('refuses a database written by a newer version', async () => {
    const tier = HotSqliteTier.open({ file: join(directory, 'd.db') });
    await tier.close();
    const db = new Database(join(directory, 'd.db'));
    db.prepare("INSERT INTO schema_migrations VALUES (999, 'from_the_future', 0)").run();
    db.close();
    expect(() => HotSqliteTier.open({ file: join(directory, 'd.db') })).toThrow(/schema version 999.*upgrade @strata\/hot-sqlite/);
  });
});

describe('session lookups', () => {
  it('reads a session through the time index, inside its session_analytics window', async () => {
    const tier = HotSqliteTier.open({ file: join(directory, 's.db') });
    const events = sampleInteractions(400, 5);
    await tier.writeInteractions(events);
    const plan = tier.database
      .prepare("EXPLAIN QUERY PLAN SELECT * FROM user_interactions WHERE timestamp >= COALESCE((SELECT start_time FROM session_analytics WHERE session_id = 'x'), 0) AND session_id = 'x'")
      .all() as Array<{ detail: string }>;
    expect(plan.map((row) => row.detail).join(' ')).toMatch(/USING (COVERING )?INDEX idx_user_interactions_time_session/);
    const indexed = (tier.database.pragma('index_list(user_interactions)') as Array<{ name: string }>).map((index) => index.name).sort();
    expect(indexed).toEqual(['idx_user_interactions_event_id', 'idx_user_interactions_time_session']);
    for (const sessionId of new Set(events.slice(0, 60).map((event) => event.sessionId))) {
      const expected = events.filter((event) => event.sessionId === sessionId).map((event) => event.eventId).sort();
      const page = await tier.queryInteractions({ sessionId, limit: 100 });
      expect(page.items.map((event) => event.eventId).sort()).toEqual(expected);
    }
    await tier.close();
  });

  it('still finds a session whose session_analytics row is gone, and erases it', async () => {
    const tier = HotSqliteTier.open({ file: join(directory, 'g.db') });
    const events = sampleInteractions(200, 6);
    await tier.writeInteractions(events);
    const sessionId = events[10]!.sessionId;
    const count = events.filter((event) => event.sessionId === sessionId).length;
    tier.database.prepare('DELETE FROM session_analytics WHERE session_id = ?').run(sessionId);
    expect((await tier.queryInteractions({ sessionId, limit: 100 })).items).toHaveLength(count);
    expect(await tier.eraseSession(sessionId)).toBe(count);
    expect((await tier.queryInteractions({ sessionId, limit: 100 })).items).toHaveLength(0);
    expect(await tier.countInteractions()).toBe(200 - count);
    await tier.close();
  });
});

describe('health', () => {
  it('counts rows only when not asked for a quick look, which the system monitor asks for every minute', async () => {
    const tier = HotSqliteTier.open({ file: join(directory, 'h.db'), writer: 'inline' });
    await tier.writeInteractions(sampleInteractions(50, 3));
    expect((await tier.health()).details).toMatchObject({ rows: 50, journalMode: 'wal' });
    const quick = await tier.health({ quick: true });
    expect(quick.ok).toBe(true);
    expect(quick.details).not.toHaveProperty('rows');
    expect(quick.details.bytes).toBeGreaterThan(0);
    await tier.close();
  });
});

describe('expiring sessions', () => {
  it('deletes exactly the session rows inactive before the time, across many chunks, and nothing else', async () => {
    const tier = HotSqliteTier.open({ file: join(directory, 'x.db'), writer: 'inline' });
    const insert = tier.database.prepare(
      `INSERT INTO session_analytics (session_id, user_role, start_time, start_query_type, last_activity, total_queries, successful_queries, response_us_sum,
         total_code_snippets, total_citations, rating_sum, rating_count, max_turn, conversion_achieved, created_at, updated_at)
       VALUES (?, 'student', ?, 'technical', ?, 1, 1, 1000, 0, 0, 0, 0, 1, 0, ?, ?)`,
    );
    // 12,000 sessions, ids in an order unrelated to their activity, a third of them inactive.
    tier.database.transaction(() => {
      for (let index = 0; index < 12_000; index += 1) {
        const last = index % 3 === 0 ? Date.UTC(2024, 0, 1) + index : Date.UTC(2026, 0, 1) + index;
        insert.run(`s-${(index * 7_919) % 12_000}`, last, last, last, last);
      }
    })();
    expect(await tier.expireSessions(Date.UTC(2025, 0, 1))).toBe(4_000);
    expect(tier.database.prepare('SELECT COUNT(*) AS n, MIN(last_activity) AS oldest FROM session_analytics').get()).toEqual({ n: 8_000, oldest: Date.UTC(2026, 0, 1) + 1 });
    expect(await tier.expireSessions(Date.UTC(2025, 0, 1))).toBe(0);
    await tier.close();
  });
});

describe('report', () => {
  it('matches figures computed directly from the events', async () => {
    const tier = HotSqliteTier.open({ file: join(directory, 'r.db') });
    const events = sampleInteractions(2_000, 5);
    await tier.writeInteractions(events);
    const report = await tier.report({ topN: 5 });
    await tier.close();

    const successes = events.filter((event) => event.success).length;
    const ratings = events.flatMap((event) => (event.userRating === null ? [] : [event.userRating]));
    const times = events.map((event) => event.responseTime).sort((a, b) => a - b);
    expect(report.totals.interactions).toBe(2_000);
    expect(report.totals.sessions).toBe(new Set(events.map((event) => event.sessionId)).size);
    expect(report.totals.successRate).toBeCloseTo(successes / 2_000, 10);
    expect(report.totals.avgResponseTime).toBeCloseTo(times.reduce((a, b) => a + b, 0) / 2_000, 10);
    // The p95 comes from merged rollup histograms: within their documented relative error.
    const p95 = times[Math.ceil(0.95 * 2_000) - 1]!;
    expect(Math.abs(report.totals.p95ResponseTime! - p95)).toBeLessThanOrEqual(p95 * HISTOGRAM_RELATIVE_ERROR);
    expect(report.totals.avgRating).toBeCloseTo(ratings.reduce((a, b) => a + b, 0) / ratings.length, 10);
    expect(report.totals.ratedInteractions).toBe(ratings.length);

    const roleCounts = new Map<string, number>();
    for (const event of events) roleCounts.set(event.userRole, (roleCounts.get(event.userRole) ?? 0) + 1);
    expect(Object.fromEntries(report.byRole.map((row) => [row.userRole, row.interactions]))).toEqual(Object.fromEntries(roleCounts));
    expect(report.byQueryType.reduce((sum, row) => sum + row.interactions, 0)).toBe(2_000);

    const queryCounts = new Map<string, number>();
    for (const event of events) {
      const key = normalizeQuery(event.query);
      queryCounts.set(key, (queryCounts.get(key) ?? 0) + 1);
    }
    const topCount = Math.max(...queryCounts.values());
    expect(report.topQueries).toHaveLength(5);
    expect(report.topQueries[0]!.count).toBe(topCount);
    expect(queryCounts.get(report.topQueries[0]!.query)).toBe(topCount);
  });

  it('narrows to a time range and a role', async () => {
    const tier = HotSqliteTier.open({ file: join(directory, 'r2.db') });
    const events = sampleInteractions(1_000, 9);
    await tier.writeInteractions(events);
    const role = events[0]!.userRole;
    const from = Math.floor(events[300]!.timestamp / HOUR) * HOUR;
    const report = await tier.report({ range: { from }, userRole: role });
    await tier.close();
    expect(report.totals.interactions).toBe(events.filter((event) => event.userRole === role && event.timestamp >= from).length);
    expect(report.byRole.map((row) => row.userRole)).toEqual([role]);
  });

  it('widens a range older than a day to whole hours, and says so', async () => {
    const tier = HotSqliteTier.open({ file: join(directory, 'r4.db') });
    const events = sampleInteractions(500, 4);
    await tier.writeInteractions(events);
    const from = events[100]!.timestamp + 1;
    const to = events[400]!.timestamp + 1;
    const report = await tier.report({ range: { from, to } });
    await tier.close();
    const alignedFrom = Math.floor(from / HOUR) * HOUR;
    const alignedTo = Math.ceil(to / HOUR) * HOUR;
    expect(report.range).toEqual({ from: alignedFrom, to: alignedTo });
    expect(report.totals.interactions).toBe(events.filter((event) => event.timestamp >= alignedFrom && event.timestamp < alignedTo).length);
  });

  it('widens a range within the last day to whole minutes, counting sessions by the hour', async () => {
    const events = sampleInteractions(3_000, 6, Date.UTC(2026, 2, 1), 2);
    const now = events[events.length - 1]!.timestamp + 60_000;
    const tier = HotSqliteTier.open({ file: join(directory, 'r5.db'), now: () => now });
    await tier.writeInteractions(events);
    const from = now - 5 * HOUR - 12_345;
    const to = now - 2 * HOUR + 4_321;
    const report = await tier.report({ range: { from, to } });
    await tier.close();
    const alignedFrom = Math.floor(from / MINUTE) * MINUTE;
    const alignedTo = Math.ceil(to / MINUTE) * MINUTE;
    expect(report.range).toEqual({ from: alignedFrom, to: alignedTo });
    expect(report.totals.interactions).toBe(events.filter((event) => event.timestamp >= alignedFrom && event.timestamp < alignedTo).length);
    const firstEvents = new Map<string, number>();
    for (const event of events) firstEvents.set(event.sessionId, Math.min(firstEvents.get(event.sessionId) ?? Infinity, event.timestamp));
    const [hourFrom, hourTo] = [Math.floor(from / HOUR) * HOUR, Math.ceil(to / HOUR) * HOUR];
    expect(report.totals.sessions).toBe([...firstEvents.values()].filter((start) => start >= hourFrom && start < hourTo).length);
  });

  it('answers an empty range with zeros and nulls, not errors', async () => {
    const tier = HotSqliteTier.open({ file: join(directory, 'r3.db') });
    const report = await tier.report({});
    await tier.close();
    expect(report.totals).toMatchObject({ interactions: 0, sessions: 0, successRate: null, avgResponseTime: null, p95ResponseTime: null, avgRating: null });
    expect(report.topQueries).toEqual([]);
  });
});

describe('cursors', () => {
  it('rejects a cursor it did not issue with a clear message', async () => {
    const tier = HotSqliteTier.open({ file: join(directory, 'c.db') });
    await expect(tier.queryInteractions({ cursor: 'garbage' })).rejects.toThrow(/not one this tier issued/);
    // The caller's mistake, named by field, not a storage failure a client would retry.
    await expect(tier.queryInteractions({ cursor: 'garbage' })).rejects.toMatchObject({ code: 'STRATA_VALIDATION_FAILED', issues: [{ path: 'cursor' }] });
    await expect(tier.insights.commonQuestions({ cursor: 'garbage' })).rejects.toMatchObject({ code: 'STRATA_VALIDATION_FAILED', issues: [{ path: 'cursor' }] });
    // So is any other bad question input that reaches the tier.
    await expect(tier.insights.systemPerformance({ granularity: 'week' as 'day' })).rejects.toMatchObject({ code: 'STRATA_VALIDATION_FAILED', issues: [{ path: 'granularity' }] });
    await expect(tier.insights.trendingQueries({ recentDays: 0 })).rejects.toMatchObject({ code: 'STRATA_VALIDATION_FAILED', issues: [{ path: 'recentDays' }] });
    await tier.close();
  });
});
