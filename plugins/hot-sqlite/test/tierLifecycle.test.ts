import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createInteractionValidator, type Interaction } from '@strata/core';
import { generateWorkload, sampleInteractions } from '@strata/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_RETENTION_POLICIES, HotSqliteTier } from '../src/index.js';

let directory: string;
beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'hot-sqlite-tier-lifecycle-'));
});
afterEach(() => {
  rmSync(directory, { recursive: true, force: true });
});

const DAY = 86_400_000;
const START = Date.UTC(2026, 0, 1);

function count(db: Database.Database, sql: string, ...params: unknown[]): number {
  return (db.prepare(sql).get(...params) as { n: number }).n;
}

describe('pruneDetailedRollups', () => {
  it('drops per-question and per-content days before the horizon, keeps business rollups, and moves coverage forward only', async () => {
    const tier = HotSqliteTier.open({ file: join(directory, 'a.db') });
    const validate = createInteractionValidator();
    const events = [...generateWorkload({ events: 3_000, seed: 4, start: START, days: 60 })].map((input) => {
      const result = validate(input);
      if (!result.ok) throw new Error('workload event invalid');
      return result.value as Interaction;
    });
    await tier.writeInteractions(events);
    expect(await tier.insights.detailCoverage()).toEqual({ from: null });
    const db = tier.database;
    const dayRollupsBefore = count(db, 'SELECT COUNT(*) AS n FROM rollup_day');
    const interactionsBefore = count(db, 'SELECT SUM(interactions) AS n FROM rollup_day');
    const horizon = Date.UTC(2026, 1, 1);
    const expectedRemoved = ['query_daily', 'query_daily_by_role', 'content_daily', 'content_daily_by_role']
      .map((table) => count(db, `SELECT COUNT(*) AS n FROM ${table} WHERE day < ?`, horizon))
      .reduce((sum, n) => sum + n, 0);
    expect(expectedRemoved).toBeGreaterThan(0);

    // A horizon inside a day is rounded down to its start.
    expect(await tier.pruneDetailedRollups(horizon + 5 * 3_600_000)).toBe(expectedRemoved);
    expect(await tier.insights.detailCoverage()).toEqual({ from: horizon });
    for (const table of ['query_daily', 'query_daily_by_role', 'content_daily', 'content_daily_by_role']) {
      expect(count(db, `SELECT COUNT(*) AS n FROM ${table} WHERE day < ?`, horizon)).toBe(0);
      expect(count(db, `SELECT COUNT(*) AS n FROM ${table} WHERE day >= ?`, horizon)).toBeGreaterThan(0);
    }
    expect(count(db, 'SELECT COUNT(*) AS n FROM rollup_day')).toBe(dayRollupsBefore);
    expect(count(db, 'SELECT SUM(interactions) AS n FROM rollup_day')).toBe(interactionsBefore);

    // An older horizon never moves coverage back.
    await tier.pruneDetailedRollups(START);
    expect(await tier.insights.detailCoverage()).toEqual({ from: horizon });
    await tier.close();
    const reopened = HotSqliteTier.open({ file: join(directory, 'a.db') });
    expect(await reopened.insights.detailCoverage()).toEqual({ from: horizon });
    await reopened.close();
  });
});

describe('retention policies', () => {
  it('starts with the plan defaults, saves overrides and records cleanups', async () => {
    const tier = HotSqliteTier.open({ file: join(directory, 'b.db'), now: () => START });
    const defaults = await tier.retentionPolicies();
    expect(defaults.map((policy) => policy.table).sort()).toEqual(DEFAULT_RETENTION_POLICIES.map((policy) => policy.table).sort());
    const interactions = defaults.find((policy) => policy.table === 'user_interactions')!;
    expect(interactions).toMatchObject({ archiveAfterDays: 90, warmRetentionDays: 730, retentionDays: 1_095, cleanupEnabled: true, lastCleanup: null });

    await tier.saveRetentionPolicies([{ ...interactions, archiveAfterDays: 30, description: 'shorter' }, { table: 'alerts', archiveAfterDays: null, warmRetentionDays: null, retentionDays: 365, cleanupEnabled: true, description: 'alert history' }]);
    await tier.markRetentionCleanup('user_interactions', START + DAY);
    const saved = await tier.retentionPolicies();
    expect(saved.find((policy) => policy.table === 'user_interactions')).toMatchObject({ archiveAfterDays: 30, description: 'shorter', lastCleanup: START + DAY });
    expect(saved.find((policy) => policy.table === 'alerts')).toMatchObject({ retentionDays: 365, archiveAfterDays: null });
    expect(saved.find((policy) => policy.table === 'rollup_day')).toMatchObject({ retentionDays: null, cleanupEnabled: false });
    await tier.close();
  });
});

describe('deleteMetrics', () => {
  it('removes raw samples in the range and keeps their rollups', async () => {
    const tier = HotSqliteTier.open({ file: join(directory, 'c.db') });
    const samples = Array.from({ length: 7_000 }, (_, index) => ({ timestamp: START + index * 60_000, name: 'queue_depth', value: index % 50, unit: null, component: null }));
    await tier.writeMetrics(samples);
    const db = tier.database;
    const rolled = count(db, 'SELECT SUM(samples) AS n FROM metric_rollup_day');
    const cut = START + 6_000 * 60_000;
    expect(await tier.deleteMetrics({ to: cut })).toBe(6_000);
    expect(count(db, 'SELECT COUNT(*) AS n FROM system_performance')).toBe(1_000);
    expect(count(db, 'SELECT SUM(samples) AS n FROM metric_rollup_day')).toBe(rolled);
    await tier.close();
  });
});

describe('backup', () => {
  it('copies a consistent snapshot while a writer thread keeps committing', async () => {
    const file = join(directory, 'live.db');
    const tier = HotSqliteTier.open({ file, writer: 'thread' });
    const events = sampleInteractions(20_000, 11);
    await tier.writeInteractions(events.slice(0, 5_000));
    let writing = true;
    const writer = (async () => {
      for (let start = 5_000; writing && start < events.length; start += 250) await tier.writeInteractions(events.slice(start, start + 250));
    })();
    const target = join(directory, 'backup');
    const result = await tier.backup(target);
    writing = false;
    await writer;
    expect(result.files).toHaveLength(1);
    expect(result.files[0]).toMatchObject({ path: 'live.db', restoreTo: file });
    const copy = new Database(join(target, 'live.db'), { readonly: true });
    expect(copy.pragma('integrity_check', { simple: true })).toBe('ok');
    const raw = count(copy, 'SELECT COUNT(*) AS n FROM user_interactions');
    expect(raw).toBeGreaterThanOrEqual(5_000);
    // The copy is one snapshot: its rollups count exactly its raw rows.
    expect(count(copy, 'SELECT SUM(interactions) AS n FROM rollup_day')).toBe(raw);
    copy.close();
    await tier.close();
  });

  it('removes a partial copy when aborted', async () => {
    const tier = HotSqliteTier.open({ file: join(directory, 'd.db') });
    await tier.writeInteractions(sampleInteractions(100));
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await expect(tier.backup(join(directory, 'bk'), { signal: controller.signal })).rejects.toThrow();
    expect(existsSync(join(directory, 'bk', 'd.db'))).toBe(false);
    await tier.close();
  });
});
