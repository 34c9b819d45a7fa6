import { ROLLUP_WORKLOAD_BASE, rollupWorkloadArbitrary, splitIntoBatches } from '@strata/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { prepareBatchWriter } from '../src/index.js';
import { expectedRollups, openMemoryDatabase, storedRollups } from './rollupOracle.js';


describe('rollups maintained at ingest', () => {
  it('equal a GROUP BY over the raw rows, for any events, order, batch split and repeats', () => {
    fc.assert(
      fc.property(rollupWorkloadArbitrary, ({ events, order, repeats, cuts, storedAt, conversionDepth }) => {
        const db = openMemoryDatabase();
        try {
          const write = prepareBatchWriter(db, { conversionDepth });
          let duplicates = 0;
          splitIntoBatches(order, repeats, cuts).forEach((batch, index) => {
            duplicates += write(batch, storedAt[index % storedAt.length]!).duplicateIds.length;
          });
          expect(duplicates).toBe(repeats.length);
          expect((db.prepare('SELECT COUNT(*) AS n FROM user_interactions').get() as { n: number }).n).toBe(events.length);
          expect(storedRollups(db)).toEqual(expectedRollups(db, conversionDepth));
        } finally {
          db.close();
        }
      }),
      { numRuns: 60 },
    );
  });

  it('do not depend on how the same events were split into batches or ordered', () => {
    fc.assert(
      fc.property(rollupWorkloadArbitrary, ({ events, order, cuts, storedAt, conversionDepth }) => {
        const one = openMemoryDatabase();
        const other = openMemoryDatabase();
        try {
          // Stored at the same time, so the same events fall inside the minute horizon.
          prepareBatchWriter(one, { conversionDepth })(events, storedAt[0]!);
          const write = prepareBatchWriter(other, { conversionDepth });
          for (const batch of splitIntoBatches([...order].reverse(), [], cuts)) write(batch, storedAt[0]!);
          expect(storedRollups(other)).toEqual(storedRollups(one));
        } finally {
          one.close();
          other.close();
        }
      }),
      { numRuns: 40 },
    );
  });

  it('are left byte-identical by re-ingesting events already stored', () => {
    fc.assert(
      fc.property(rollupWorkloadArbitrary, fc.integer({ min: 1, max: 25 }), ({ order, repeats, cuts, storedAt, conversionDepth }, size) => {
        const db = openMemoryDatabase();
        try {
          const write = prepareBatchWriter(db, { conversionDepth });
          splitIntoBatches(order, [], cuts).forEach((batch, index) => write(batch, storedAt[index % storedAt.length]!));
          const before = storedRollups(db, true);
          const again = [...repeats, ...order];
          for (let index = 0; index < again.length; index += size) {
            expect(write(again.slice(index, index + size), ROLLUP_WORKLOAD_BASE).duplicateIds).toHaveLength(again.slice(index, index + size).length);
          }
          expect(storedRollups(db, true)).toEqual(before);
        } finally {
          db.close();
        }
      }),
      { numRuns: 40 },
    );
  });
});
