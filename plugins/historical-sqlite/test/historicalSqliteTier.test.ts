import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createStrata, type Interaction } from '@strata/core';
import { hotSqlitePlugin } from '@strata/hot-sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HistoricalSqliteOptionsSchema, HistoricalSqliteTier, historicalSqlitePlugin } from '../src/index.js';
import { DAY, asyncBatches, byMonth, scratch, workload } from './fixtures.js';
import { expectedAggregates, storedAggregates } from './oracle.js';

const START = Date.UTC(2025, 4, 3);

let space: ReturnType<typeof scratch>;

beforeEach(() => {
  space = scratch('tier');
});

afterEach(async () => {
  await space.cleanup();
});

describe('raw interactions', () => {
  it('refuses writes of raw rows and says how the warm tier is fed', async () => {
    const tier = space.open();
    await expect(tier.writeInteractions(workload(3, 1, START, 1))).rejects.toThrow(
      /historical-sqlite: the warm tier keeps monthly aggregates, not raw interactions, and is fed by the retention job through aggregates\.addRows\(partitionId, rows\); write the 3 interaction\(s\) to the hot tier/,
    );
  });

  it('holds none to read, count, scan or delete', async () => {
    const tier = space.open();
    await tier.aggregates.addRows('p', [workload(50, 1, START, 3)]);
    expect(await tier.queryInteractions({})).toEqual({ items: [], nextCursor: null });
    expect(await tier.countInteractions()).toBe(0);
    const scanned: Interaction[][] = [];
    for await (const batch of tier.scanInteractions({})) scanned.push(batch);
    expect(scanned).toEqual([]);
    expect(await tier.deleteInteractions({})).toBe(0);
    expect(await tier.aggregates.months()).toEqual(['2025-05']);
  });
});

describe('the file', () => {
  it('uses WAL and the synchronous mode asked for, and reports what it holds', async () => {
    const tier = HistoricalSqliteTier.open({ file: join(space.directory, 'full.db'), synchronous: 'FULL' });
    await tier.aggregates.addRows('p', [workload(100, 1, START, 40)]);
    const health = await tier.health();
    await tier.close();
    expect(health).toMatchObject({ ok: true, details: { journalMode: 'wal', synchronous: 'FULL', schemaVersion: 1, months: 2, sources: 1, expiredBefore: null } });
  });

  it('keeps aggregates and the ledger across a close and reopen', async () => {
    const file = join(space.directory, 'reopen.db');
    const rows = workload(400, 3, START, 20);
    const first = HistoricalSqliteTier.open({ file });
    await first.aggregates.addRows('p', [rows]);
    await first.close();
    const second = HistoricalSqliteTier.open({ file });
    try {
      expect(await second.aggregates.addRows('p', [rows])).toEqual({ applied: false, rows: rows.length });
      expect(storedAggregates(second.database)).toEqual(expectedAggregates(rows));
    } finally {
      await second.close();
    }
  });

  it('closes once, then refuses work and reports itself closed', async () => {
    const tier = HistoricalSqliteTier.open({ file: join(space.directory, 'closed.db') });
    await Promise.all([tier.close(), tier.close()]);
    await tier.close();
    await expect(tier.aggregates.addRows('p', [])).rejects.toThrow(/historical-sqlite: .*closed\.db is closed/);
    await expect(tier.insights.commonQuestions()).rejects.toThrow(/is closed/);
    expect((await tier.health()).ok).toBe(false);
  });

  it('finishes a source being written before it closes', async () => {
    const tier = HistoricalSqliteTier.open({ file: join(space.directory, 'drain.db') });
    const rows = workload(3_000, 4, START, 25);
    const adding = tier.aggregates.addRows('p', asyncBatches(rows, 500));
    while (!tier.database.inTransaction) await new Promise<void>((resolve) => setImmediate(resolve));
    await tier.close();
    expect(await adding).toEqual({ applied: true, rows: rows.length });
    const reopened = HistoricalSqliteTier.open({ file: join(space.directory, 'drain.db') });
    expect(await reopened.aggregates.hasSource('p')).toBe(true);
    await reopened.close();
  });

  it('refuses a database written by a newer version, naming this package', async () => {
    const file = join(space.directory, 'newer.db');
    await HistoricalSqliteTier.open({ file }).close();
    const raw = new Database(file);
    raw.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, ?, 0)').run('from the future');
    raw.close();
    expect(() => HistoricalSqliteTier.open({ file })).toThrow(/schema version 99, newer than this version of the plugin knows \(1\); upgrade @strata\/historical-sqlite/);
  });

  it('says which file it cannot open and what to do', () => {
    const blocker = join(space.directory, 'not-a-dir');
    new Database(blocker).close();
    expect(() => HistoricalSqliteTier.open({ file: join(blocker, 'x.db') })).toThrow(/historical-sqlite: cannot open .*not-a-dir\/x\.db .*set dataDir to a writable folder/);
  });
});

describe('backup', () => {
  it('copies a consistent state while a source is being written, and writing carries on', async () => {
    const tier = space.open();
    const first = workload(500, 1, START, 10);
    await tier.aggregates.addRows('first', [first]);
    const second = workload(4_000, 2, START, 28);
    const adding = tier.aggregates.addRows('second', asyncBatches(second, 500));
    // Back up while the second source's transaction is open.
    while (!tier.database.inTransaction) await new Promise<void>((resolve) => setImmediate(resolve));
    const backingUp = tier.backup(join(space.directory, 'backup'));
    const third = workload(300, 3, START, 5);
    const addingMore = tier.aggregates.addRows('third', [third]);
    const [result] = await Promise.all([backingUp, adding, addingMore]);

    const target = join(space.directory, 'backup', 'historical_metrics.db');
    expect(result).toEqual({ files: [{ path: 'historical_metrics.db', restoreTo: tier.file, bytes: statSync(target).size }] });
    expect(existsSync(`${target}.partial`)).toBe(false);
    const copy = new Database(target, { readonly: true });
    try {
      expect(copy.pragma('integrity_check', { simple: true })).toBe('ok');
      // Writes queue behind each other and the backup in call order: it holds the first two sources whole, not the third.
      expect(storedAggregates(copy)).toEqual(expectedAggregates([...first, ...second]));
    } finally {
      copy.close();
    }
    expect(storedAggregates(tier.database)).toEqual(expectedAggregates([...first, ...second, ...third]));
  });

  it('restores to a tier that answers as the original did', async () => {
    const tier = space.open();
    await tier.aggregates.addRows('p', [workload(800, 5, START, 40)]);
    await tier.backup(join(space.directory, 'copy'));
    const restored = HistoricalSqliteTier.open({ file: join(space.directory, 'copy', 'historical_metrics.db') });
    try {
      expect(await restored.insights.commonQuestions({ limit: 1_000 })).toEqual(await tier.insights.commonQuestions({ limit: 1_000 }));
      expect(await restored.aggregates.hasSource('p')).toBe(true);
    } finally {
      await restored.close();
    }
  });

  it('stops when aborted and leaves no file behind', async () => {
    const tier = space.open();
    await tier.aggregates.addRows('p', [workload(2_000, 5, START, 40)]);
    const controller = new AbortController();
    controller.abort(new Error('operator cancelled the backup'));
    await expect(tier.backup(join(space.directory, 'aborted'), { signal: controller.signal })).rejects.toThrow('operator cancelled the backup');
    expect(existsSync(join(space.directory, 'aborted', 'historical_metrics.db'))).toBe(false);
    expect(existsSync(join(space.directory, 'aborted', 'historical_metrics.db.partial'))).toBe(false);
  });

  it('names the folder it cannot write to', async () => {
    const tier = space.open();
    const blocker = join(space.directory, 'file');
    new Database(blocker).close();
    await expect(tier.backup(join(blocker, 'sub'))).rejects.toThrow(/historical-sqlite: cannot write a backup into .*file\/sub .*choose a writable folder/);
  });
});

describe('baselines and business days', () => {
  it('reads the baselines of each month for a role, a query type, both or neither', async () => {
    const tier = space.open();
    const rows = workload(2_000, 7, Date.UTC(2025, 0, 10), 70);
    for (const [month, monthRows] of byMonth(rows)) await tier.aggregates.addRows(month, [monthRows]);
    const expected = expectedAggregates(rows).performance_baselines!;
    const pick = (role: string, type: string) =>
      expected
        .filter((row) => row.user_role === role && row.query_type === type)
        .map((row) => ({
          month: row.month,
          userRole: role === '' ? null : role,
          queryType: type === '' ? null : type,
          interactions: row.interactions,
          p50ResponseTime: row.p50_response_time,
          p95ResponseTime: row.p95_response_time,
          maxResponseTime: row.max_response_time,
          successRate: (row.successes as number) / (row.interactions as number),
          avgResponseTime: (row.response_us_sum as number) / 1e6 / (row.interactions as number),
        }));
    const strip = (list: Awaited<ReturnType<typeof tier.baselines>>) => list.map(({ monthStart: _monthStart, ...rest }) => rest);
    expect(strip(await tier.baselines())).toEqual(pick('', ''));
    expect(strip(await tier.baselines({ userRole: 'student' }))).toEqual(pick('student', ''));
    expect(strip(await tier.baselines({ queryType: 'technical' }))).toEqual(pick('', 'technical'));
    expect(strip(await tier.baselines({ userRole: 'recruiter', queryType: 'career' }))).toEqual(pick('recruiter', 'career'));
    const february = await tier.baselines({ range: { from: Date.UTC(2025, 1, 14), to: Date.UTC(2025, 1, 15) } });
    expect(february.map((row) => [row.month, row.monthStart])).toEqual([['2025-02', Date.UTC(2025, 1, 1)]]);
    await expect(tier.baselines({ userRole: '' })).rejects.toThrow(/userRole: must be a non-empty string \(or absent for all\), got ""/);
    await expect(tier.baselines({ range: { from: Number.NaN } })).rejects.toThrow(/range\.from: must be epoch milliseconds/);
  });

  it('keeps daily business metrics that match the rows', async () => {
    const tier = space.open();
    const rows = workload(1_000, 8, START, 12);
    await tier.aggregates.addRows('p', [rows]);
    const days = await tier.businessDays({ userRole: 'student' });
    const students = rows.filter((row) => row.userRole === 'student');
    const expectedDays = [...new Set(students.map((row) => Math.floor(row.timestamp / DAY) * DAY))].sort((a, b) => a - b);
    expect(days.map((day) => day.day)).toEqual(expectedDays);
    for (const day of days) {
      const dayRows = students.filter((row) => Math.floor(row.timestamp / DAY) * DAY === day.day);
      expect(day.interactions).toBe(dayRows.length);
      expect(day.successRate).toBe(dayRows.filter((row) => row.success).length / dayRows.length);
      expect(day.date).toBe(new Date(day.day).toISOString().slice(0, 10));
      const max = Math.max(...dayRows.map((row) => row.responseTime));
      expect(day.p95ResponseTime).toBeLessThanOrEqual(max);
    }
    const oneDay = await tier.businessDays({ range: { from: START + DAY + 5, to: START + DAY + 6 } });
    expect(oneDay.map((day) => day.day)).toEqual([Math.floor((START + DAY) / DAY) * DAY]);
  });
});

describe('the plugin', () => {
  const catalog = { 'hot-sqlite': () => hotSqlitePlugin, 'historical-sqlite': () => historicalSqlitePlugin };

  it('opens analytics/historical_metrics.db as the warm tier with its options', async () => {
    const strata = await createStrata({
      config: { plugins: ['hot-sqlite', { name: 'historical-sqlite', options: { synchronous: 'FULL', busyTimeoutMs: 100 } }] },
      cwd: space.directory,
      catalog,
      logLevel: 'silent',
      scheduleJobs: false,
      monitor: false,
    });
    try {
      const warm = strata.storage('warm');
      expect(warm).toBeInstanceOf(HistoricalSqliteTier);
      expect((warm as HistoricalSqliteTier).file).toBe(join(space.directory, 'analytics', 'historical_metrics.db'));
      expect((await warm!.health()).details).toMatchObject({ synchronous: 'FULL' });
    } finally {
      await strata.close();
    }
  });

  it('applies its defaults', () => {
    expect(HistoricalSqliteOptionsSchema.parse({})).toEqual({ file: 'historical_metrics.db', synchronous: 'NORMAL', busyTimeoutMs: 5_000 });
  });

  for (const [options, path] of [
    [{ synchronous: 'OFF' }, 'synchronous'],
    [{ busyTimeoutMs: -1 }, 'busyTimeoutMs'],
    [{ busyTimeoutMs: 1.5 }, 'busyTimeoutMs'],
    [{ file: '' }, 'file'],
    [{ fiel: 'x.db' }, ''],
  ] as const) {
    it(`refuses bad options, naming the field (${JSON.stringify(options)})`, async () => {
      const failure = createStrata({
        config: { plugins: ['hot-sqlite', { name: 'historical-sqlite', options }] },
        cwd: space.directory,
        catalog,
        logLevel: 'silent',
        scheduleJobs: false,
        monitor: false,
      });
      await expect(failure).rejects.toThrow(path ? new RegExp(`plugins\\[1\\]\\.options\\.${path}`) : /plugins\[1\]\.options.*fiel/);
    });
  }
});
