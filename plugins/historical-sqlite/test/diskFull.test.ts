import { StrataError } from '@strata/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DiskFullError } from '../src/index.js';
import { asyncBatches, scratch, workload } from './fixtures.js';
import { expectedAggregates, storedAggregates, storedLedger } from './oracle.js';

const START = Date.UTC(2025, 2, 1);

let space: ReturnType<typeof scratch>;

beforeEach(() => {
  space = scratch('disk-full');
});

afterEach(async () => {
  await space.cleanup();
});

describe('a full disk (simulated with PRAGMA max_page_count)', () => {
  it('fails the source with STRATA_DISK_FULL, keeps no part of it, and takes it whole once space is back', async () => {
    const tier = space.open();
    const first = workload(200, 1, START, 10);
    await tier.aggregates.addRows('2025-03-a', [first]);
    const db = tier.database;
    const pages = db.pragma('page_count', { simple: true }) as number;
    // Room for a few more pages only: far less than the next source needs.
    db.pragma(`max_page_count = ${pages + 3}`);
    const before = { aggregates: storedAggregates(db), ledger: storedLedger(db) };
    const second = workload(5_000, 2, START, 28);

    const failure = await tier.aggregates.addRows('2025-03-b', asyncBatches(second, 500)).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(DiskFullError);
    expect(failure).toBeInstanceOf(StrataError);
    expect((failure as DiskFullError).code).toBe('STRATA_DISK_FULL');
    expect((failure as Error).message).toMatch(/historical-sqlite: the disk \(or the database size limit\) is full while adding source "2025-03-b" \(5000 rows\) in .*historical_metrics\.db; nothing of it was stored; free space, then add the same source again/);
    expect(db.inTransaction).toBe(false);
    expect(await tier.aggregates.hasSource('2025-03-b')).toBe(false);
    expect({ aggregates: storedAggregates(db), ledger: storedLedger(db) }).toEqual(before);
    // Reads still work while the disk is full.
    expect((await tier.insights.commonQuestions()).items.length).toBeGreaterThan(0);

    db.pragma('max_page_count = 1073741823');
    expect(await tier.aggregates.addRows('2025-03-b', asyncBatches(second, 500))).toEqual({ applied: true, rows: second.length });
    expect(storedAggregates(db)).toEqual(expectedAggregates([...first, ...second]));
    expect(storedLedger(db).map((row) => row.source_id)).toEqual(['2025-03-a', '2025-03-b']);
  });
});
