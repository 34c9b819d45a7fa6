import { existsSync, readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, monthOf, type Interaction } from '@strata/core';
import { createFakeClock, sampleInteractions } from '@strata/testing';
import { describe, expect, it } from 'vitest';
import { runRetention, type RetentionRunSettings } from '../src/index.js';
import { MemoryAggregates, MemoryArchive } from './memoryTiers.js';
import { DAY_MS, NOW, countBy, fileDigests, hotEventIds, jobContext, openHot, pastAndRecentEvents, tempDir } from './helpers.js';

function setup(options: { partitionRows?: number; batchSize?: number; policies?: RetentionRunSettings['policies'] } = {}) {
  const dataDir = tempDir();
  const clock = createFakeClock(NOW);
  const hot = openHot(dataDir, clock);
  const archive = new MemoryArchive();
  const aggregates = new MemoryAggregates();
  const settings: RetentionRunSettings = {
    policies: options.policies ?? {},
    batchSize: options.batchSize ?? 100,
    partitionRows: options.partitionRows ?? 250_000,
    stateDir: join(dataDir, 'retention'),
    reportDir: join(dataDir, 'reports'),
  };
  const run = (extra: Partial<RetentionRunSettings> = {}, signal?: AbortSignal) =>
    runRetention({ hot, archive, aggregates }, { ...settings, ...extra }, jobContext(clock, signal));
  return { dataDir, clock, hot, archive, aggregates, settings, run };
}

function monthlyCounts(events: readonly Interaction[]): Map<string, number> {
  return countBy(events, (event) => monthOf(event.timestamp));
}

describe('retention run (in-memory warm and cold tiers)', () => {
  it('moves every month past the horizon to the archive and the aggregates, and nothing newer', async () => {
    const { hot, archive, aggregates, run } = setup();
    const { old, recent } = pastAndRecentEvents();
    await hot.writeInteractions([...old, ...recent]);

    const report = await run();

    expect(report.status).toBe('ok');
    expect(report.rowsMoved).toBe(old.length);
    expect([...(await hotEventIds(hot))].sort()).toEqual(recent.map((event) => event.eventId).sort());
    const archived = archive.archivedIds();
    expect([...archived.keys()].sort()).toEqual(old.map((event) => event.eventId).sort());
    expect([...archived.values()].every((count) => count === 1)).toBe(true);
    expect(new Map([...aggregates.byMonth].map(([month, totals]) => [month, totals.interactions]))).toEqual(monthlyCounts(old));
    expect(report.horizons.archiveBefore).toBe('2025-04-01T00:00:00.000Z');
    expect([...new Set(report.partitions.map((partition) => partition.month))]).toEqual(['2025-01', '2025-02', '2025-03']);
    await hot.close();
  });

  it('splits a month into partitions of at most partitionRows rows', async () => {
    const { hot, archive, run } = setup({ partitionRows: 70 });
    const { old } = pastAndRecentEvents();
    await hot.writeInteractions(old);

    const report = await run();

    const sizes = [...archive.partitions.values()].map((partition) => partition.entry.rows);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(70);
    expect(sizes.reduce((sum, rows) => sum + rows, 0)).toBe(old.length);
    expect(report.partitionsWritten).toBe(archive.partitions.size);
    expect(await hot.countInteractions()).toBe(0);
    await hot.close();
  });

  it('reports progress in rows up to the number of rows to move', async () => {
    const { hot, clock, archive, aggregates, settings } = setup({ partitionRows: 100 });
    const { old } = pastAndRecentEvents();
    await hot.writeInteractions(old);
    const context = jobContext(clock);

    await runRetention({ hot, archive, aggregates }, settings, context);

    const last = context.progressUpdates.at(-1)!;
    expect(last).toEqual({ done: old.length, total: old.length, unit: 'rows' });
    expect(context.progressUpdates.every((update, index, all) => index === 0 || update.done >= all[index - 1]!.done)).toBe(true);
    await hot.close();
  });

  it('puts a late event into an archived month in a second partition, counted once in the aggregates', async () => {
    const { hot, archive, aggregates, run } = setup();
    const { old } = pastAndRecentEvents();
    await hot.writeInteractions(old);
    await run();
    const januaryBefore = aggregates.byMonth.get('2025-01')!.interactions;
    const late = { ...sampleInteractions(1, 99, Date.UTC(2025, 0, 20), 1)[0]!, eventId: 'late-1' };
    await hot.writeInteractions([late]);

    const report = await run();

    expect(report.rowsMoved).toBe(1);
    expect((await archive.listPartitions({ month: '2025-01' })).length).toBe(2);
    expect(archive.archivedIds().get('late-1')).toBe(1);
    expect(aggregates.byMonth.get('2025-01')!.interactions).toBe(januaryBefore + 1);
    expect(await hot.countInteractions()).toBe(0);

    const third = await run();
    expect(third.rowsMoved).toBe(0);
    expect(aggregates.byMonth.get('2025-01')!.interactions).toBe(januaryBefore + 1);
    await hot.close();
  });

  it('removes an archived event sent again from the hot tier without archiving it twice', async () => {
    const { hot, archive, aggregates, run } = setup();
    const { old } = pastAndRecentEvents();
    await hot.writeInteractions(old);
    await run();
    const partitionsBefore = archive.partitions.size;
    const totalsBefore = structuredClone([...aggregates.byMonth]);
    const resent = old.filter((event) => monthOf(event.timestamp) === '2025-02').slice(0, 5);
    await hot.writeInteractions(resent);

    const report = await run();

    expect(await hot.countInteractions()).toBe(0);
    expect(archive.partitions.size).toBe(partitionsBefore);
    expect([...archive.archivedIds().values()].every((count) => count === 1)).toBe(true);
    expect([...aggregates.byMonth]).toEqual(totalsBefore);
    expect(report.rowsMoved).toBe(5);
    expect(report.partitionsWritten).toBe(0);
    await hot.close();
  });

  it('changes nothing on a second run: 0 moved, and every file but the reports byte-identical', async () => {
    const { dataDir, clock, hot, archive, aggregates, settings } = setup();
    const { old, recent } = pastAndRecentEvents();
    await hot.writeInteractions([...old, ...recent]);
    await hot.writeMetrics([{ timestamp: NOW - 400 * DAY_MS, name: 'cpu', value: 0.5, unit: null, component: null }]);
    await runRetention({ hot, archive, aggregates }, settings, jobContext(clock));
    await hot.close();
    const before = fileDigests(dataDir, /^reports/);
    const archiveBefore = structuredClone([...archive.partitions.keys()]);
    const aggregatesBefore = structuredClone([...aggregates.byMonth]);

    const reopened = openHot(dataDir, clock);
    const report = await runRetention({ hot: reopened, archive, aggregates }, settings, jobContext(clock));
    await reopened.close();

    expect(report.rowsMoved).toBe(0);
    expect(report.partitionsWritten).toBe(0);
    expect(report.steps.every((step) => step.rows === 0 && step.bytes === 0 && step.partitions === 0)).toBe(true);
    expect(fileDigests(dataDir, /^reports/)).toEqual(before);
    expect([...archive.partitions.keys()]).toEqual(archiveBefore);
    expect([...aggregates.byMonth]).toEqual(aggregatesBefore);
    expect(readdirSync(join(dataDir, 'reports'))).toHaveLength(2);
  });

  it('prunes the detailed rollups of archived months, up to the archive horizon', async () => {
    const { hot, run } = setup();
    const { old, recent } = pastAndRecentEvents();
    await hot.writeInteractions([...old, ...recent]);

    const report = await run();

    expect(await hot.insights.detailCoverage()).toEqual({ from: Date.UTC(2025, 3, 1) });
    const prune = report.steps.find((step) => step.step === 'prune-rollups')!;
    expect(prune.rows).toBeGreaterThan(0);
    await hot.close();
  });

  it('expires warm months and cold partitions past their horizons, and hot rows past retention', async () => {
    const { hot, clock, archive, aggregates, run } = setup();
    const { old } = pastAndRecentEvents();
    await hot.writeInteractions(old);
    await run();
    expect(aggregates.byMonth.size).toBe(3);

    // Two years after mid-March 2025: January and February 2025 leave the warm tier; the archive keeps them.
    clock.set(Date.UTC(2027, 2, 20));
    const warmOnly = await run();
    expect(await aggregates.months()).toEqual(['2025-03']);
    expect(warmOnly.steps.find((step) => step.step === 'expire-warm')!.partitions).toBe(2);
    expect(archive.partitions.size).toBe(3);

    // Three years after mid-March 2025: January and February 2025 leave the archive; an older event in hot is deleted unarchived.
    const ancient = { ...sampleInteractions(1, 77, Date.UTC(2024, 11, 5), 1)[0]!, eventId: 'ancient-1' };
    await hot.writeInteractions([ancient]);
    clock.set(Date.UTC(2028, 2, 20));
    const coldToo = await run();
    expect(coldToo.horizons.deleteBefore).toBe('2025-03-01T00:00:00.000Z');
    expect([...new Set([...archive.partitions.values()].map((partition) => partition.entry.month))]).toEqual(['2025-03']);
    expect(coldToo.steps.find((step) => step.step === 'expire-cold')).toMatchObject({ partitions: 2 });
    expect(coldToo.steps.find((step) => step.step === 'expire-hot')).toMatchObject({ rows: 1 });
    expect(archive.archivedIds().has('ancient-1')).toBe(false);
    expect(await aggregates.months()).toEqual([]);
    expect(await hot.countInteractions()).toBe(0);
    await hot.close();
  });

  it('deletes raw metric samples older than the detailed period and keeps newer ones', async () => {
    const { hot, run } = setup();
    await hot.writeMetrics([
      { timestamp: NOW - 400 * DAY_MS, name: 'cpu', value: 0.5, unit: null, component: null },
      { timestamp: NOW - 10 * DAY_MS, name: 'cpu', value: 0.7, unit: null, component: null },
    ]);

    const report = await run();

    expect(report.steps.find((step) => step.step === 'expire-metrics')).toMatchObject({ rows: 1 });
    const left = hot.database.prepare('SELECT COUNT(*) AS n FROM system_performance').get() as { n: number };
    expect(left.n).toBe(1);
    await hot.close();
  });

  it('applies policy overrides from the config and stores them in data_retention_policy', async () => {
    const { hot, run } = setup({ policies: { user_interactions: { archiveAfterDays: 30 } } });
    const { old, recent } = pastAndRecentEvents();
    await hot.writeInteractions([...old, ...recent]);

    const report = await run();

    // 30 days before 2025-07-15 is 2025-06-15: months up to May move; June's events stay.
    expect(report.horizons.archiveBefore).toBe('2025-06-01T00:00:00.000Z');
    const stored = (await hot.retentionPolicies()).find((policy) => policy.table === 'user_interactions')!;
    expect(stored).toMatchObject({ archiveAfterDays: 30, warmRetentionDays: 730, retentionDays: 1_095 });
    expect(stored.description).toContain('30 days hot');
    expect(stored.lastCleanup).toBe(NOW);
    await hot.close();
  });

  it('refuses policies whose horizons do not nest, naming the field', async () => {
    const { hot, run } = setup({ policies: { user_interactions: { warmRetentionDays: 3_000 } } });
    const error = await run().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues).toEqual([expect.objectContaining({ path: 'policies.user_interactions.retentionDays', message: expect.stringContaining('shorter than warmRetentionDays (3000 days)') })]);
    await hot.close();
  });

  it('leaves interactions alone when their cleanup is disabled', async () => {
    const { hot, run } = setup({ policies: { user_interactions: { cleanupEnabled: false } } });
    const { old } = pastAndRecentEvents();
    await hot.writeInteractions(old);
    const report = await run();
    expect(report.rowsMoved).toBe(0);
    expect(await hot.countInteractions()).toBe(old.length);
    expect(report.steps.find((step) => step.step === 'archive')!.note).toBe('cleanup is disabled for user_interactions');
    await hot.close();
  });

  it('deletes nothing from hot when the archive reports a checksum other than the rows sent', async () => {
    const { hot, archive, aggregates, run } = setup();
    const { old } = pastAndRecentEvents();
    await hot.writeInteractions(old);
    archive.lieAboutChecksum = true;

    await expect(run()).rejects.toMatchObject({ code: 'STRATA_ARCHIVE_CORRUPT', message: expect.stringContaining('nothing was deleted from the hot tier') });
    expect(await hot.countInteractions()).toBe(old.length);
    expect(aggregates.sources.size).toBe(0);
    await hot.close();
  });

  it('discards a damaged partition of an interrupted move before its aggregates, and archives its rows again', async () => {
    const { hot, archive, aggregates, run } = setup();
    const { old } = pastAndRecentEvents();
    await hot.writeInteractions(old);
    // An interrupted run: the partition was written, then the process died before its aggregates.
    const crashed = await run({ onStep: (step) => {
      if (step === 'journal:written') throw new Error('simulated crash');
    } }).catch((error: Error) => error);
    expect(crashed).toBeInstanceOf(Error);
    const [damaged] = archive.partitions.keys();
    archive.failVerification.add(damaged!);

    const report = await run();

    expect(report.status).toBe('ok');
    expect(report.steps.find((step) => step.step === 'resume')!.note).toContain(damaged!);
    expect(await hot.countInteractions()).toBe(0);
    expect([...archive.archivedIds().keys()].sort()).toEqual(old.map((event) => event.eventId).sort());
    expect([...aggregates.byMonth.values()].reduce((sum, totals) => sum + totals.interactions, 0)).toBe(old.length);
    await hot.close();
  });

  it('writes a JSON report with rows moved, bytes written, partitions and time per step', async () => {
    const { dataDir, hot, run } = setup();
    const { old } = pastAndRecentEvents();
    await hot.writeInteractions(old);
    const report = await run();
    expect(report.reportFile).toBe(join(dataDir, 'reports', 'retention-2025-07-15T00-00-00.000Z.json'));
    const stored = JSON.parse(readFileSync(report.reportFile!, 'utf8'));
    expect(stored).toMatchObject({ job: 'retention', status: 'ok', rowsMoved: old.length, partitionsWritten: 3, reportFile: report.reportFile });
    expect(stored.bytesWritten).toBeGreaterThan(0);
    expect(stored.steps.map((step: { step: string }) => step.step)).toEqual([
      'policies', 'resume', 'reconcile', 'expire-hot', 'archive', 'prune-rollups', 'expire-warm', 'expire-cold', 'expire-metrics', 'sessions', 'mark-cleanup',
    ]);
    expect(stored.steps.every((step: { durationMs: number }) => Number.isInteger(step.durationMs))).toBe(true);
    expect(report.summary).toMatch(/moved 600 interaction\(s\).*3 partition\(s\) written/);
    await hot.close();
  });

  it('stops at a partition boundary when aborted, and the next run finishes the work', async () => {
    const { hot, aggregates, run } = setup({ partitionRows: 100 });
    const { old } = pastAndRecentEvents();
    await hot.writeInteractions(old);
    const controller = new AbortController();
    let settled = 0;
    const report = await run({ onStep: (step) => {
      if (step === 'journal:settled' && ++settled === 2) controller.abort();
    } }, controller.signal);
    expect(report.status).toBe('aborted');
    expect(report.partitions).toHaveLength(2);
    expect(report.rowsMoved).toBe(report.partitions[0]!.rows + report.partitions[1]!.rows);
    const movedFirst = report.rowsMoved;
    expect(report.summary).toContain('stopped on request');

    const next = await run();
    expect(next.rowsMoved).toBe(old.length - movedFirst);
    expect(await hot.countInteractions()).toBe(0);
    expect([...aggregates.byMonth.values()].reduce((sum, totals) => sum + totals.interactions, 0)).toBe(old.length);
    await hot.close();
  });

  it('refuses to run while another process holds the lock, and takes over a lock whose process is gone', async () => {
    const { dataDir, hot, run } = setup();
    mkdirSync(join(dataDir, 'retention'), { recursive: true });
    writeFileSync(join(dataDir, 'retention', 'lock'), JSON.stringify({ pid: process.ppid, since: 0 }));
    await expect(run()).rejects.toMatchObject({ code: 'STRATA_JOB_BUSY', message: expect.stringContaining(`pid ${process.ppid}`) });

    writeFileSync(join(dataDir, 'retention', 'lock'), JSON.stringify({ pid: 2 ** 22 + 12_345, since: 0 }));
    await expect(run()).resolves.toMatchObject({ status: 'ok' });
    expect(existsSync(join(dataDir, 'retention', 'lock'))).toBe(false);
    await hot.close();
  });

  it('fails with a clear message when the journal was damaged, touching nothing', async () => {
    const { dataDir, hot, run } = setup();
    const { old } = pastAndRecentEvents();
    await hot.writeInteractions(old);
    mkdirSync(join(dataDir, 'retention'), { recursive: true });
    writeFileSync(join(dataDir, 'retention', 'journal.json'), '{"version":1,"pending":[{"id":');
    await expect(run()).rejects.toMatchObject({ code: 'STRATA_JOB_FAILED', message: expect.stringContaining(`${join(dataDir, 'retention', 'journal.json')} is not valid`) });
    expect(await hot.countInteractions()).toBe(old.length);
    await hot.close();
  });
});

describe('retention run interrupted at every step (in-process, throwing)', () => {
  it('loses and duplicates nothing whichever step the previous run died at', async () => {
    // Count the steps of a clean run over this data first.
    const probe = setup({ partitionRows: 150, batchSize: 60 });
    const { old, recent } = pastAndRecentEvents();
    await probe.hot.writeInteractions([...old, ...recent]);
    let steps = 0;
    await probe.run({ onStep: () => void steps++ });
    await probe.hot.close();
    expect(steps).toBeGreaterThan(40);

    for (let failAt = 1; failAt <= steps; failAt += 1) {
      const { hot, archive, aggregates, run } = setup({ partitionRows: 150, batchSize: 60 });
      await hot.writeInteractions([...old, ...recent]);
      let count = 0;
      await run({ onStep: () => {
        if (++count === failAt) throw new Error(`simulated crash at step ${failAt}`);
      } }).catch(() => undefined);
      await run();

      const inHot = await hotEventIds(hot);
      const archived = archive.archivedIds();
      for (const event of old) expect(archived.get(event.eventId), `${event.eventId} after a failure at step ${failAt}`).toBe(1);
      for (const event of old) expect(inHot.has(event.eventId)).toBe(false);
      expect([...inHot].sort()).toEqual(recent.map((event) => event.eventId).sort());
      expect(new Map([...aggregates.byMonth].map(([month, totals]) => [month, totals.interactions]))).toEqual(monthlyCounts(old));
      await hot.close();
    }
  }, 120_000);
});

describe('LineDigest', () => {
  it('gives InteractionDigest\'s checksum and counts the JSONL bytes', async () => {
    const { InteractionDigest, interactionLine } = await import('@strata/core');
    const { LineDigest } = await import('../src/lineDigest.js');
    const rows = sampleInteractions(50, 3);
    const ours = new LineDigest();
    ours.add(rows.slice(0, 20));
    ours.add(rows.slice(20));
    expect(ours.rows).toBe(50);
    expect(ours.bytes).toBe(Buffer.byteLength(rows.map((row) => `${interactionLine(row)}\n`).join('')));
    expect(ours.hex()).toBe(new InteractionDigest().add(rows).hex());
  });
});
