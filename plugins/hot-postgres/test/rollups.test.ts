import { normalizeQuery, type Interaction } from '@strata/core';
import { encodeHistogram, mergeHistograms } from '@strata/hot-sqlite';
import { ERASED_ALONE_QUESTION, ROLLUP_WORKLOAD_BASE, archivedErasureWorkload, rollupWorkloadArbitrary, sampleInteractions, splitIntoBatches } from '@strata/testing';
import fc from 'fast-check';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HotPostgresTier } from '../src/index.js';
import { adminClient, dropSchemas, openTier, postgresSkipReason, uniqueSchema } from './postgresServer.js';
import { expectedRollups, resetTier, storedRollups, type RollupSnapshot } from './rollupOracle.js';

const skip = await postgresSkipReason();


let admin: pg.Client;
const schemas: string[] = [];
/** One tier per conversion depth, on its own schema, emptied between runs. */
const tiers = new Map<number, HotPostgresTier>();
let clock = ROLLUP_WORKLOAD_BASE;

async function tierFor(conversionDepth: number): Promise<HotPostgresTier> {
  let tier = tiers.get(conversionDepth);
  if (!tier) {
    const schema = uniqueSchema(`rollups_d${conversionDepth}`);
    schemas.push(schema);
    tier = await openTier(schema, { conversionDepth, now: () => clock, poolSize: 2 });
    tiers.set(conversionDepth, tier);
  }
  await resetTier(admin, tier.schema);
  return tier;
}

describe.skipIf(skip)('rollups maintained at ingest on PostgreSQL', () => {
  beforeAll(async () => {
    admin = await adminClient();
  });

  afterAll(async () => {
    for (const tier of tiers.values()) await tier.close();
    await admin?.end();
    await dropSchemas(...schemas);
  });

  it('equal a GROUP BY over the raw rows, for any events, order, batch split and repeats', async () => {
    await fc.assert(
      fc.asyncProperty(rollupWorkloadArbitrary, async ({ events, order, repeats, cuts, storedAt, conversionDepth }) => {
        const tier = await tierFor(conversionDepth);
        let duplicates = 0;
        for (const [index, batch] of splitIntoBatches(order, repeats, cuts).entries()) {
          clock = storedAt[index % storedAt.length]!;
          duplicates += (await tier.writeInteractions(batch)).duplicates;
        }
        expect(duplicates).toBe(repeats.length);
        expect(await tier.countInteractions()).toBe(events.length);
        expect(await storedRollups(admin, tier.schema)).toEqual(await expectedRollups(admin, tier.schema, conversionDepth));
      }),
      { numRuns: 40 },
    );
  }, 300_000);

  it('are left byte-identical by re-ingesting events already stored', async () => {
    await fc.assert(
      fc.asyncProperty(rollupWorkloadArbitrary, fc.integer({ min: 1, max: 25 }), async ({ order, repeats, cuts, storedAt, conversionDepth }, size) => {
        const tier = await tierFor(conversionDepth);
        for (const [index, batch] of splitIntoBatches(order, [], cuts).entries()) {
          clock = storedAt[index % storedAt.length]!;
          await tier.writeInteractions(batch);
        }
        const before = await storedRollups(admin, tier.schema, true);
        clock = ROLLUP_WORKLOAD_BASE;
        const again = [...repeats, ...order];
        for (let index = 0; index < again.length; index += size) {
          const batch = again.slice(index, index + size);
          expect((await tier.writeInteractions(batch)).duplicateIds).toEqual(batch.map((event) => event.eventId));
        }
        expect(await storedRollups(admin, tier.schema, true)).toEqual(before);
      }),
      { numRuns: 20 },
    );
  }, 300_000);
});

/** Fields a subtraction cannot restore (maxima, first/last times, the category of the first ask), dropped before comparing. */
function revertible(snapshot: RollupSnapshot): RollupSnapshot {
  const drop = new Set(['response_us_max', 'first_asked', 'last_asked', 'first_accessed', 'last_accessed', 'query_category', 'query_normalized']);
  return Object.fromEntries(Object.entries(snapshot).map(([table, rows]) => [table, rows.map((row) => Object.fromEntries(Object.entries(row).filter(([key]) => !drop.has(key))))]));
}

/** Writes `events` to one tier and, without the erased sessions, to the other, in the same batches. */
async function writeWithAndWithout(withAll: HotPostgresTier, without: HotPostgresTier, events: readonly Interaction[], erased: ReadonlySet<string>): Promise<void> {
  for (let start = 0; start < events.length; start += 200) {
    const batch = events.slice(start, start + 200);
    await withAll.writeInteractions(batch);
    await without.writeInteractions(batch.filter((event) => !erased.has(event.sessionId)));
  }
}

describe.skipIf(skip)('erasing a session on PostgreSQL', () => {
  const withAllSchema = uniqueSchema('erase_all');
  const withoutSchema = uniqueSchema('erase_without');
  afterAll(() => dropSchemas(withAllSchema, withoutSchema));

  it('leaves every rollup as if the session had never been stored, and finds nothing the second time', async () => {
    const now = () => Date.UTC(2025, 11, 9);
    const events = sampleInteractions(900, 21);
    const sessions = [...new Set(events.map((event) => event.sessionId))];
    const erased = new Set(sessions.filter((_, index) => index % 7 === 0));
    expect(erased.size).toBeGreaterThan(1);
    const withAll = await openTier(withAllSchema, { now });
    const without = await openTier(withoutSchema, { now });
    const client = await adminClient();
    try {
      await writeWithAndWithout(withAll, without, events, erased);
      let removed = 0;
      for (const sessionId of erased) removed += await withAll.eraseSession(sessionId);
      expect(removed).toBe(events.filter((event) => erased.has(event.sessionId)).length);
      expect(revertible(await storedRollups(client, withAllSchema))).toEqual(revertible(await storedRollups(client, withoutSchema)));
      for (const sessionId of erased) expect((await withAll.queryInteractions({ sessionId })).items).toEqual([]);
      // The erased events' ids are gone too: sent again, they are stored again.
      const [again] = events.filter((event) => erased.has(event.sessionId));
      const after = await storedRollups(client, withAllSchema, true);
      expect(await withAll.eraseSession([...erased][0]!)).toBe(0);
      expect(await storedRollups(client, withAllSchema, true)).toEqual(after);
      expect((await withAll.writeInteractions([again!])).inserted).toBe(1);
    } finally {
      await client.end();
      await withAll.close();
      await without.close();
    }
  }, 120_000);
});

describe.skipIf(skip)('erasing a session some of whose rows were archived, on PostgreSQL', () => {
  const withAllSchema = uniqueSchema('erase_arch_all');
  const withoutSchema = uniqueSchema('erase_arch_without');
  afterAll(() => dropSchemas(withAllSchema, withoutSchema));

  it('subtracts the archived rows given with it too, as hot-sqlite does', async () => {
    const now = () => Date.UTC(2025, 11, 9);
    const { events, erased, archived, heldOfErased } = archivedErasureWorkload();
    const withAll = await openTier(withAllSchema, { now });
    const without = await openTier(withoutSchema, { now });
    const client = await adminClient();
    try {
      await writeWithAndWithout(withAll, without, events, erased);
      expect(await withAll.deleteEvents!(archived.map((event) => event.eventId))).toBe(archived.length);
      let removed = 0;
      for (const sessionId of erased) removed += await withAll.eraseSession(sessionId, { archived: archived.filter((event) => event.sessionId === sessionId) });
      expect(removed).toBe(heldOfErased);
      const beyondMinutes = (snapshot: RollupSnapshot) => Object.fromEntries(Object.entries(revertible(snapshot)).filter(([table]) => !table.includes('minute')));
      expect(beyondMinutes(await storedRollups(client, withAllSchema))).toEqual(beyondMinutes(await storedRollups(client, withoutSchema)));
      const left = await client.query(`SELECT COUNT(*)::int AS n FROM "${withAllSchema}".query_performance WHERE query_normalized = $1`, [normalizeQuery(ERASED_ALONE_QUESTION)]);
      expect(left.rows).toEqual([{ n: 0 }]);
    } finally {
      await client.end();
      await withAll.close();
      await without.close();
    }
  }, 120_000);
});

describe.skipIf(skip)('the server-side histogram merge', () => {
  const schema = uniqueSchema('histogram');
  let tier: HotPostgresTier;
  beforeAll(async () => {
    tier = await openTier(schema);
  });
  afterAll(async () => {
    await tier?.close();
    await dropSchemas(schema);
  });

  const binsArb = fc.array(fc.tuple(fc.integer({ min: 0, max: 501 }), fc.oneof(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 1, max: 2 ** 40 }))), { maxLength: 60 });
  const encoded = (pairs: Array<[number, number]>) => {
    const counts = new Map<number, number>();
    for (const [bin, count] of pairs) counts.set(bin, (counts.get(bin) ?? 0) + count);
    return encodeHistogram(counts);
  };

  it('gives the bytes mergeHistograms gives, for any two histograms (empty and NULL included)', async () => {
    await fc.assert(
      fc.asyncProperty(binsArb, binsArb, async (a, b) => {
        const left = encoded(a);
        const right = encoded(b);
        const { rows } = await tier.pool.query<{ merged: Buffer; null_left: Buffer; null_right: Buffer }>(
          `SELECT "${schema}".strata_histogram_merge($1, $2) AS merged, "${schema}".strata_histogram_merge(NULL, $2) AS null_left,
                  "${schema}".strata_histogram_merge($1, NULL) AS null_right`,
          [left, right],
        );
        expect(rows[0]!.merged.toString('hex')).toBe(mergeHistograms(left, right).toString('hex'));
        expect(rows[0]!.null_left.toString('hex')).toBe(mergeHistograms(null, right).toString('hex'));
        expect(rows[0]!.null_right.toString('hex')).toBe(mergeHistograms(left, null).toString('hex'));
      }),
      { numRuns: 300 },
    );
  });
});

describe.skipIf(skip)('concurrent writers in one process', () => {
  const schema = uniqueSchema('concurrent');
  afterAll(() => dropSchemas(schema));

  it('lose and duplicate nothing, and keep rollups equal to the raw rows, when four pools write overlapping batches at once', async () => {
    const now = () => Date.UTC(2025, 11, 11);
    const writers = await Promise.all([0, 1, 2, 3].map(() => openTier(schema, { now, poolSize: 2 })));
    const client = await adminClient();
    try {
      const events = sampleInteractions(2_400, 5, Date.UTC(2025, 10, 20), 20);
      // Each writer gets every event of its quarter plus half of the next quarter, in its own order and batches:
      // the same sessions, buckets, questions and items (and the same eventIds) from several connections at once.
      const quarter = events.length / 4;
      const shares = writers.map((_, index) => {
        const own = events.slice(index * quarter, (index + 1) * quarter);
        const next = events.slice(((index + 1) % 4) * quarter, ((index + 1) % 4) * quarter + quarter / 2);
        return index % 2 === 0 ? [...own, ...next] : [...next, ...own].reverse();
      });
      await Promise.all(
        writers.map(async (writer, index) => {
          const share = shares[index]!;
          for (let start = 0; start < share.length; start += 97 + index * 31) await writer.writeInteractions(share.slice(start, start + 97 + index * 31));
        }),
      );
      expect(await writers[0]!.countInteractions()).toBe(events.length);
      const { rows } = await client.query(`SELECT event_id FROM "${schema}".user_interactions GROUP BY event_id HAVING COUNT(*) > 1`);
      expect(rows).toEqual([]);
      expect(await storedRollups(client, schema)).toEqual(await expectedRollups(client, schema, 3));
    } finally {
      await client.end();
      await Promise.all(writers.map((writer) => writer.close()));
    }
  }, 120_000);
});

describe.skipIf(skip)('a batch PostgreSQL aborts as a deadlock victim', () => {
  const schema = uniqueSchema('retry');
  afterAll(() => dropSchemas(schema));

  /** Makes the next `times` COMMITs on the tier's pool fail the way a deadlock victim's transaction does. */
  function abortCommits(tier: HotPostgresTier, times: number): { aborted: () => number } {
    const pool = tier.pool as unknown as pg.Pool;
    const connect = pool.connect.bind(pool) as () => Promise<pg.PoolClient>;
    let aborted = 0;
    const wrap = (client: pg.PoolClient): pg.PoolClient => {
      const query = client.query.bind(client) as (...args: unknown[]) => Promise<unknown>;
      (client as unknown as { query: (...args: unknown[]) => Promise<unknown> }).query = async (...args: unknown[]) => {
        if (args[0] === 'COMMIT' && aborted < times) {
          aborted += 1;
          await query('ROLLBACK');
          throw Object.assign(new Error('deadlock detected'), { code: '40P01' });
        }
        return query(...args);
      };
      return client;
    };
    // pool.query uses the callback form of connect.
    (pool as unknown as { connect: (callback?: (error?: Error, client?: pg.PoolClient, release?: () => void) => void) => unknown }).connect = (callback) => {
      const connected = connect().then(wrap);
      if (!callback) return connected;
      connected.then((client) => callback(undefined, client, () => client.release()), (error: Error) => callback(error));
      return undefined;
    };
    return { aborted: () => aborted };
  }

  it('is run again whole and counted once, with rollups equal to the raw rows', async () => {
    const tier = await openTier(schema, { now: () => Date.UTC(2025, 11, 12) });
    const client = await adminClient();
    try {
      const events = sampleInteractions(400, 17);
      await tier.writeInteractions(events.slice(0, 200));
      const fault = abortCommits(tier, 2);
      // New events only (the aggregate prepared before the first attempt must not leak into the retry),
      // then a batch with some already stored.
      expect(await tier.writeInteractions(events.slice(200, 300))).toMatchObject({ inserted: 100, duplicates: 0 });
      expect(fault.aborted()).toBe(2);
      abortCommits(tier, 1);
      expect(await tier.writeInteractions(events.slice(250))).toMatchObject({ inserted: 100, duplicates: 50 });
      expect(fault.aborted()).toBe(2);
      expect(await tier.countInteractions()).toBe(400);
      expect(await storedRollups(client, schema)).toEqual(await expectedRollups(client, schema, 3));
    } finally {
      await client.end();
      await tier.close();
    }
  });

  it('fails with the cause after the last attempt, storing nothing of the batch', async () => {
    const tier = await openTier(schema, { now: () => Date.UTC(2025, 11, 12) });
    try {
      const before = await tier.countInteractions();
      abortCommits(tier, 100);
      await expect(tier.writeInteractions(sampleInteractions(30, 99))).rejects.toThrow(/failed writing 30 interaction\(s\).*deadlock detected/);
      expect(await tier.countInteractions()).toBe(before);
    } finally {
      await tier.close();
    }
  });
});
