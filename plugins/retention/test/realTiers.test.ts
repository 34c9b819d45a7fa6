import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { monthOf } from '@strata/core';
import { createFakeClock, sampleInteractions } from '@strata/testing';
import { describe, expect, it } from 'vitest';
import { runRetention, type RetentionRunSettings } from '../src/index.js';
import { NOW, fileDigests, hotEventIds, jobContext, pastAndRecentEvents, tempDir } from './helpers.js';
import { WARM_FILE, archivedRows, openRealTiers, rawTotals, warmTotals } from './realTiers.js';

function settingsFor(dataDir: string, extra: Partial<RetentionRunSettings> = {}): RetentionRunSettings {
  return { policies: {}, batchSize: 200, partitionRows: 250_000, stateDir: join(dataDir, 'retention'), reportDir: join(dataDir, 'reports'), ...extra };
}

/** One run on freshly opened tiers, closed afterwards so every file is settled (WAL folded back). */
async function runOnce(dataDir: string, now = NOW, extra: Partial<RetentionRunSettings> = {}) {
  const clock = createFakeClock(now);
  const tiers = await openRealTiers(dataDir, clock);
  try {
    return await runRetention({ hot: tiers.hot, aggregates: tiers.warm.aggregates, archive: tiers.archive }, settingsFor(dataDir, extra), jobContext(clock));
  } finally {
    await tiers.close();
  }
}

async function seed(dataDir: string, events: Parameters<Awaited<ReturnType<typeof openRealTiers>>['hot']['writeInteractions']>[0]) {
  const clock = createFakeClock(NOW);
  const tiers = await openRealTiers(dataDir, clock);
  await tiers.hot.writeInteractions(events);
  await tiers.close();
}

async function inspect(dataDir: string) {
  const tiers = await openRealTiers(dataDir, createFakeClock(NOW));
  try {
    return { hot: await hotEventIds(tiers.hot), archived: await archivedRows(tiers.archive), partitions: await tiers.archive.listPartitions() };
  } finally {
    await tiers.close();
  }
}

describe('retention over hot-sqlite, historical-sqlite and json-archive', () => {
  it('leaves every interaction in exactly one place and the warm aggregates equal to what was archived', async () => {
    const dataDir = tempDir();
    const { old, recent } = pastAndRecentEvents();
    await seed(dataDir, [...old, ...recent]);

    const report = await runOnce(dataDir, NOW, { partitionRows: 1_000 });

    expect(report).toMatchObject({ status: 'ok', rowsMoved: old.length, partitionsWritten: 3 });
    const { hot, archived } = await inspect(dataDir);
    expect([...hot].sort()).toEqual(recent.map((event) => event.eventId).sort());
    const archivedIds = archived.map((row) => row.eventId);
    expect(new Set(archivedIds).size).toBe(archivedIds.length);
    expect(archivedIds.sort()).toEqual(old.map((event) => event.eventId).sort());
    expect(warmTotals(dataDir)).toEqual(rawTotals(archived));
    expect(report.bytesWritten).toBeGreaterThan(0);
    expect(report.bytesWritten / report.rawBytesMoved).toBeLessThan(0.3);
  });

  it('changes nothing when run twice in a row: 0 moved, every file but the reports byte-identical', async () => {
    const dataDir = tempDir();
    const { old, recent } = pastAndRecentEvents();
    await seed(dataDir, [...old, ...recent]);
    await runOnce(dataDir);
    const before = fileDigests(dataDir, /^reports/);

    const second = await runOnce(dataDir);

    expect(second.rowsMoved).toBe(0);
    expect(second.partitionsWritten).toBe(0);
    expect(second.summary).toContain('moved 0 interaction(s)');
    expect(fileDigests(dataDir, /^reports/)).toEqual(before);
  });

  it('archives a late event into an archived month as a second partition, counted once', async () => {
    const dataDir = tempDir();
    const { old } = pastAndRecentEvents();
    await seed(dataDir, old);
    await runOnce(dataDir);
    const late = { ...sampleInteractions(1, 99, Date.UTC(2025, 1, 14), 1)[0]!, eventId: 'late-feb' };
    await seed(dataDir, [late]);

    const report = await runOnce(dataDir);
    const again = await runOnce(dataDir);

    expect(report.rowsMoved).toBe(1);
    expect(again.rowsMoved).toBe(0);
    const { hot, archived, partitions } = await inspect(dataDir);
    expect(hot.size).toBe(0);
    expect(partitions.filter((partition) => partition.month === '2025-02')).toHaveLength(2);
    expect(archived.filter((row) => row.eventId === 'late-feb')).toHaveLength(1);
    expect(warmTotals(dataDir)).toEqual(rawTotals(archived));
    expect(warmTotals(dataDir).get('2025-02')!.interactions).toBe(old.filter((event) => monthOf(event.timestamp) === '2025-02').length + 1);
  });

  it('gives a warm tier that lost its aggregates (restored from an older backup) back the archived months', async () => {
    const dataDir = tempDir();
    const { old, recent } = pastAndRecentEvents();
    await seed(dataDir, [...old, ...recent]);
    await runOnce(dataDir, NOW, { partitionRows: 250 });
    const expected = warmTotals(dataDir);
    for (const suffix of ['', '-wal', '-shm']) rmSync(join(dataDir, `${WARM_FILE}${suffix}`), { force: true });

    const report = await runOnce(dataDir);

    expect(report.rowsMoved).toBe(0);
    const reconcile = report.steps.find((step) => step.step === 'reconcile')!;
    expect(reconcile.rows).toBe(old.length);
    expect(reconcile.partitions).toBeGreaterThanOrEqual(3);
    expect(warmTotals(dataDir)).toEqual(expected);
    expect((await runOnce(dataDir)).steps.find((step) => step.step === 'reconcile')).toMatchObject({ rows: 0, partitions: 0 });
  });

  it('prunes the hot tier\'s detailed rollups of archived months and keeps its business metrics', async () => {
    const dataDir = tempDir();
    const { old, recent } = pastAndRecentEvents();
    await seed(dataDir, [...old, ...recent]);
    await runOnce(dataDir);
    const clock = createFakeClock(NOW);
    const tiers = await openRealTiers(dataDir, clock);
    try {
      expect(await tiers.hot.insights.detailCoverage()).toEqual({ from: Date.UTC(2025, 3, 1) });
      const days = await tiers.hot.insights.businessMetrics({ range: { from: Date.UTC(2025, 0, 1), to: Date.UTC(2025, 3, 1) }, limit: 500 });
      expect(days.items.reduce((sum, day) => sum + day.interactions, 0)).toBe(old.length);
    } finally {
      await tiers.close();
    }
  });

  it('expires warm months after two years and cold partitions after three', async () => {
    const dataDir = tempDir();
    const { old } = pastAndRecentEvents();
    await seed(dataDir, old);
    await runOnce(dataDir);

    await runOnce(dataDir, Date.UTC(2027, 2, 20));
    expect([...warmTotals(dataDir).keys()]).toEqual(['2025-03']);
    expect((await inspect(dataDir)).partitions).toHaveLength(3);

    const report = await runOnce(dataDir, Date.UTC(2028, 2, 20));
    expect(report.steps.find((step) => step.step === 'expire-cold')).toMatchObject({ partitions: 2 });
    expect((await inspect(dataDir)).partitions.map((partition) => partition.month)).toEqual(['2025-03']);
  });
});
