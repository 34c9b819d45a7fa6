import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StorageError, createInteractionValidator, createStrata, type Interaction } from '@strata/core';
import { DEFAULT_RETENTION_POLICIES } from '@strata/hot-sqlite';
import { generateWorkload, sampleInteractions } from '@strata/testing';
import type pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HotPostgresTier, hotPostgresPlugin } from '../src/index.js';
import { HOT_POSTGRES_MIGRATIONS } from '../src/migrations.js';
import { migrateSchema } from '../src/schemaMigrator.js';
import { TEST_PG_URL, adminClient, dropSchemas, openTier, postgresSkipReason, uniqueSchema } from './postgresServer.js';
import { storedRollups } from './rollupOracle.js';

const skip = await postgresSkipReason();

const DAY = 86_400_000;
const START = Date.UTC(2026, 0, 1);

let admin: pg.Client;
const schemas: string[] = [];
const open: HotPostgresTier[] = [];

function fresh(label: string): string {
  const schema = uniqueSchema(label);
  schemas.push(schema);
  return schema;
}

async function tierOn(label: string, options: Parameters<typeof openTier>[1] = {}): Promise<HotPostgresTier> {
  const tier = await openTier(fresh(label), options);
  open.push(tier);
  return tier;
}

const count = async (sql: string, params: unknown[] = []) => Number((await admin.query<{ n: number }>(sql, params)).rows[0]!.n);

beforeAll(async () => {
  if (!skip) admin = await adminClient();
});
afterEach(async () => {
  for (const tier of open.splice(0)) await tier.close();
});
afterAll(async () => {
  await admin?.end();
  if (!skip) await dropSchemas(...schemas);
});

describe('opening, when the server cannot be used', () => {
  it('names host and port and says to start PostgreSQL when nothing listens there', async () => {
    const error = await HotPostgresTier.open({ connectionString: 'postgres://postgres@127.0.0.1:1/test', connectTimeoutMs: 2_000 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StorageError);
    expect((error as Error).message).toMatch(/cannot reach PostgreSQL at 127\.0\.0\.1:1 .*start PostgreSQL there, or fix connectionString/);
  });

  it('refuses a schema name that is not a plain identifier, before connecting', async () => {
    await expect(HotPostgresTier.open({ connectionString: 'postgres://postgres@127.0.0.1:1/test', schema: 'Strata"; DROP' })).rejects.toThrow(/schema "Strata\\"; DROP" is not a plain name/);
  });
});

describe.skipIf(skip)('opening, when the server answers', () => {

  it('says the login was refused, naming the user, when the role does not exist', async () => {
    const url = new URL(TEST_PG_URL);
    url.username = 'strata_no_such_user';
    const error = await HotPostgresTier.open({ connectionString: url.toString() }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StorageError);
    expect((error as Error).message).toMatch(/refused the login of user "strata_no_such_user".*check the user and password/);
  });

  it('says the database does not exist and how to create it', async () => {
    const url = new URL(TEST_PG_URL);
    url.pathname = '/strata_no_such_database';
    const error = await HotPostgresTier.open({ connectionString: url.toString() }).catch((caught: unknown) => caught);
    expect((error as Error).message).toMatch(/database "strata_no_such_database" does not exist .*createdb/);
  });

  it('records every migration with its version, and applies nothing on a second open', async () => {
    const tier = await tierOn('migrate');
    const rows = (await admin.query(`SELECT version, name, applied_at FROM "${tier.schema}".schema_migrations ORDER BY version`)).rows;
    expect(rows.map((row) => [row.version, row.name])).toEqual(HOT_POSTGRES_MIGRATIONS.map((migration) => [migration.version, migration.name]));
    open.push(await openTier(tier.schema));
    expect((await admin.query(`SELECT version, name, applied_at FROM "${tier.schema}".schema_migrations ORDER BY version`)).rows).toEqual(rows);
  });

  it('migrates once when several processes open a new schema at the same moment', async () => {
    const schema = fresh('race');
    const tiers = await Promise.all([1, 2, 3, 4].map(() => openTier(schema, { poolSize: 1 })));
    open.push(...tiers);
    expect(await count(`SELECT COUNT(*) AS n FROM "${schema}".schema_migrations`)).toBe(HOT_POSTGRES_MIGRATIONS.length);
    expect(await count(`SELECT COUNT(*) AS n FROM "${schema}".data_retention_policy`)).toBe(DEFAULT_RETENTION_POLICIES.length);
    await Promise.all(tiers.map((tier, index) => tier.writeInteractions(sampleInteractions(50, index + 1))));
    expect(await tiers[0]!.countInteractions()).toBe(200);
  });

  it('leaves the old schema intact when a migration fails half-way', async () => {
    const schema = fresh('halfway');
    const client = await adminClient();
    try {
      const failing = [
        HOT_POSTGRES_MIGRATIONS[0]!,
        {
          version: 2,
          name: 'fails',
          async up(migrating: pg.ClientBase, q: (name: string) => string) {
            await migrating.query(`CREATE TABLE ${q('half_done')} (id integer)`);
            throw new Error('disk on fire');
          },
        },
      ];
      await expect(migrateSchema(client, schema, failing, 1)).rejects.toThrow(/disk on fire/);
      expect((await client.query(`SELECT version FROM "${schema}".schema_migrations`)).rows).toEqual([{ version: 1 }]);
      expect((await client.query('SELECT to_regclass($1) AS t', [`"${schema}".half_done`])).rows[0].t).toBeNull();
      // The real history then applies from version 2.
      const result = await migrateSchema(client, schema, HOT_POSTGRES_MIGRATIONS, 2);
      expect(result).toMatchObject({ from: 1, to: HOT_POSTGRES_MIGRATIONS.length });
    } finally {
      await client.end();
    }
  });

  it('refuses a schema written by a newer version, saying to upgrade', async () => {
    const tier = await tierOn('newer');
    await admin.query(`INSERT INTO "${tier.schema}".schema_migrations (version, name, applied_at) VALUES (99, 'future', 0)`);
    await expect(openTier(tier.schema)).rejects.toThrow(/at version 99, newer than this version of the plugin knows \(3\); upgrade @strata\/hot-postgres/);
  });

  it('refuses every operation after close, naming the schema, and reports itself closed', async () => {
    const tier = await openTier(fresh('closed'));
    await tier.close();
    await tier.close();
    await expect(tier.writeInteractions(sampleInteractions(1))).rejects.toThrow(/schema "t_closed_[a-z0-9_]+" on .* is closed/);
    await expect(tier.insights.commonQuestions()).rejects.toThrow(/is closed/);
    expect(await tier.health()).toMatchObject({ ok: false, problem: 'closed' });
  });

  it('reports server version, database size and schema version in its health', async () => {
    const tier = await tierOn('health');
    await tier.writeInteractions(sampleInteractions(100));
    const health = await tier.health();
    expect(health.ok).toBe(true);
    expect(health.details).toMatchObject({ schema: tier.schema, schemaVersion: 3, serverVersion: expect.stringMatching(/^\d+/) });
    expect(health.details.bytes).toBeGreaterThan(health.details.schemaBytes as number);
    expect(health.details.schemaBytes).toBeGreaterThan(0);
  });
});

describe.skipIf(skip)('monthly partitions', () => {

  const NOW = Date.UTC(2026, 4, 15);
  const monthStart = (year: number, month: number) => Date.UTC(year, month - 1, 1);

  it('exist for this month and the months ahead once open, and are created for any month written to', async () => {
    const tier = await tierOn('months', { now: () => NOW, partitionMonthsAhead: 2 });
    expect(await tier.partitionMonths()).toEqual(['2026-05', '2026-06', '2026-07']);
    const events = sampleInteractions(300, 3, Date.UTC(2026, 0, 20), 30);
    await tier.writeInteractions(events);
    expect(await tier.partitionMonths()).toEqual(['2026-01', '2026-02', '2026-05', '2026-06', '2026-07']);
    const january = events.filter((event) => event.timestamp < monthStart(2026, 2)).length;
    expect(await count(`SELECT COUNT(*) AS n FROM "${tier.schema}".user_interactions_p2026_01`)).toBe(january);
    expect(await count(`SELECT COUNT(*) AS n FROM "${tier.schema}".user_interactions_default`)).toBe(0);
  });

  it('drops months that lie wholly inside a deleted range, deletes rows at its edges, and leaves rollups as they were', async () => {
    const tier = await tierOn('drop', { now: () => NOW });
    const events = sampleInteractions(1_200, 9, Date.UTC(2026, 0, 10), 100);
    await tier.writeInteractions(events);
    const client = admin;
    const before = await storedRollups(client, tier.schema, true);
    const range = { from: Date.UTC(2026, 0, 25), to: Date.UTC(2026, 3, 3) };
    const inRange = events.filter((event) => event.timestamp >= range.from && event.timestamp < range.to);
    expect(await tier.deleteInteractions(range)).toBe(inRange.length);
    // February and March were dropped whole; January and April keep the rows outside the range.
    expect(await tier.partitionMonths()).toEqual(['2026-01', '2026-04', '2026-05', '2026-06', '2026-07']);
    expect(await tier.countInteractions()).toBe(events.length - inRange.length);
    expect(await tier.countInteractions(range)).toBe(0);
    expect(await count(`SELECT COUNT(*) AS n FROM "${tier.schema}".interaction_ids`)).toBe(events.length - inRange.length);
    expect(await storedRollups(client, tier.schema, true)).toEqual(before);
    // A deleted event sent again is stored again (hot-sqlite's rule), in a partition created for it.
    const resent = inRange.filter((event) => event.timestamp >= Date.UTC(2026, 1, 1) && event.timestamp < Date.UTC(2026, 2, 1)).slice(0, 3);
    expect((await tier.writeInteractions(resent)).inserted).toBe(3);
    expect(await tier.partitionMonths()).toContain('2026-02');
  });

  it('keeps every row with its event id when months are dropped while other processes write into them', async () => {
    const dropper = await tierOn('droprace', { now: () => NOW });
    const writer = await openTier(dropper.schema, { now: () => NOW, poolSize: 2 });
    open.push(writer);
    const old = sampleInteractions(900, 21, Date.UTC(2026, 0, 5), 80);
    await dropper.writeInteractions(old);
    const late = sampleInteractions(900, 22, Date.UTC(2026, 0, 5), 80).map((event) => ({ ...event, eventId: `late-${event.eventId}` }));
    const writes = (async () => {
      let inserted = 0;
      for (let start = 0; start < late.length; start += 60) inserted += (await writer.writeInteractions(late.slice(start, start + 60))).inserted;
      return inserted;
    })();
    let dropped = 0;
    for (let round = 0; round < 3; round += 1) dropped += await dropper.deleteInteractions({ to: Date.UTC(2026, 3, 1) });
    expect(await writes).toBe(late.length);
    const s = `"${dropper.schema}"`;
    const orphans = await count(
      `SELECT COUNT(*) AS n FROM ${s}.user_interactions u FULL JOIN ${s}.interaction_ids i ON i.event_id = u.event_id WHERE u.event_id IS NULL OR i.event_id IS NULL`,
    );
    expect(orphans).toBe(0);
    expect(await count(`SELECT COUNT(*) AS n FROM ${s}.user_interactions_default`)).toBe(0);
    expect(dropped + (await dropper.countInteractions())).toBe(old.length + late.length);
  });

  it('drops every partition before a month with dropPartitionsBefore', async () => {
    const tier = await tierOn('before', { now: () => NOW });
    const events = sampleInteractions(600, 4, Date.UTC(2026, 0, 10), 80);
    await tier.writeInteractions(events);
    const beforeMarch = events.filter((event) => event.timestamp < Date.UTC(2026, 2, 1)).length;
    expect(await tier.dropPartitionsBefore('2026-03')).toBe(beforeMarch);
    expect((await tier.partitionMonths())[0]).toBe('2026-03');
    expect(await tier.countInteractions()).toBe(events.length - beforeMarch);
    await expect(tier.dropPartitionsBefore('2026-13')).rejects.toThrow(/month must be YYYY-MM/);
  });

  it('moves rows the default partition caught into a month partition when that month is created', async () => {
    const tier = await tierOn('strays', { now: () => NOW });
    const [stray, later] = sampleInteractions(2, 8, Date.UTC(2025, 8, 3), 1);
    // A row that landed in the default partition (its month had no partition when it was written).
    await admin.query(
      `INSERT INTO "${tier.schema}".user_interactions_default (event_id, session_id, timestamp, user_role, query, query_hash, query_type, response_time, success, created_at)
       VALUES ($1, $2, $3, $4, $5, 'h', $6, $7, $8, 0)`,
      [stray!.eventId, stray!.sessionId, stray!.timestamp, stray!.userRole, stray!.query, stray!.queryType, stray!.responseTime, stray!.success],
    );
    await admin.query(`INSERT INTO "${tier.schema}".interaction_ids VALUES ($1, $2)`, [stray!.eventId, stray!.timestamp]);
    expect((await tier.writeInteractions([later!])).inserted).toBe(1);
    expect(await count(`SELECT COUNT(*) AS n FROM "${tier.schema}".user_interactions_default`)).toBe(0);
    expect(await count(`SELECT COUNT(*) AS n FROM "${tier.schema}".user_interactions_p2025_09`)).toBe(2);
    expect((await tier.writeInteractions([stray!])).duplicates).toBe(1);
  });
});

describe.skipIf(skip)('the tier', () => {

  it('stores U+0000, which PostgreSQL text cannot hold, as U+FFFD instead of failing the batch', async () => {
    const tier = await tierOn('nul');
    const [event, other] = sampleInteractions(2, 13);
    const nul: Interaction = { ...event!, eventId: 'nul\u0000id', query: 'what is\u0000this', content: [{ type: 'code_snippet', id: 'a\u0000b', relevance: 0.5 }] };
    expect(await tier.writeInteractions([nul, other!])).toEqual({ inserted: 2, duplicates: 0, duplicateIds: [] });
    const stored = (await tier.queryInteractions({ sessionId: event!.sessionId })).items.find((item) => item.eventId.startsWith('nul'));
    expect(stored).toMatchObject({ eventId: 'nul\uFFFDid', query: 'what is\uFFFDthis', content: [{ type: 'code_snippet', id: 'a\uFFFDb', relevance: 0.5 }] });
    expect((await tier.writeInteractions([nul])).duplicates).toBe(1);
    expect(await tier.deleteEvents(['nul\u0000id'])).toBe(1);
  });

  it('seeds the retention policies of the plan, saves overrides and records cleanups', async () => {
    const tier = await tierOn('policies', { now: () => START });
    const defaults = await tier.retentionPolicies();
    expect(defaults.map((policy) => policy.table).sort()).toEqual(DEFAULT_RETENTION_POLICIES.map((policy) => policy.table).sort());
    for (const policy of DEFAULT_RETENTION_POLICIES) {
      expect(defaults.find((row) => row.table === policy.table)).toEqual({
        table: policy.table,
        archiveAfterDays: policy.archiveAfterDays,
        warmRetentionDays: policy.warmRetentionDays,
        retentionDays: policy.retentionDays,
        cleanupEnabled: policy.cleanupEnabled,
        description: policy.description,
        lastCleanup: null,
      });
    }
    const interactions = defaults.find((policy) => policy.table === 'user_interactions')!;
    await tier.saveRetentionPolicies([
      { ...interactions, archiveAfterDays: 30, description: 'shorter' },
      { table: 'alerts', archiveAfterDays: null, warmRetentionDays: null, retentionDays: 365, cleanupEnabled: true, description: 'alert history' },
    ]);
    await tier.markRetentionCleanup('user_interactions', START + DAY);
    const saved = await tier.retentionPolicies();
    expect(saved.find((policy) => policy.table === 'user_interactions')).toMatchObject({ archiveAfterDays: 30, description: 'shorter', lastCleanup: START + DAY });
    expect(saved.find((policy) => policy.table === 'alerts')).toMatchObject({ retentionDays: 365, archiveAfterDays: null });
    expect(saved.find((policy) => policy.table === 'rollup_day')).toMatchObject({ retentionDays: null, cleanupEnabled: false });
  });

  it('prunes detailed rollups before a day, keeps business rollups, and moves coverage forward only, across reopen', async () => {
    const tier = await tierOn('prune');
    const events = [...generateWorkload({ events: 3_000, seed: 4, start: START, days: 60, networkFields: false })];
    const validate = createInteractionValidator(undefined, () => Date.UTC(2027, 0, 1));
    await tier.writeInteractions(events.map((input) => (validate(input) as { ok: true; value: Interaction }).value));
    expect(await tier.insights.detailCoverage!()).toEqual({ from: null });
    const s = `"${tier.schema}"`;
    const dayRollups = await count(`SELECT COUNT(*) AS n FROM ${s}.rollup_day`);
    const horizon = Date.UTC(2026, 1, 1);
    let expectedRemoved = 0;
    for (const table of ['query_daily', 'query_daily_by_role', 'content_daily', 'content_daily_by_role']) expectedRemoved += await count(`SELECT COUNT(*) AS n FROM ${s}.${table} WHERE day < $1`, [horizon]);
    expect(expectedRemoved).toBeGreaterThan(0);
    expect(await tier.pruneDetailedRollups(horizon + 5 * 3_600_000)).toBe(expectedRemoved);
    expect(await tier.insights.detailCoverage!()).toEqual({ from: horizon });
    for (const table of ['query_daily', 'query_daily_by_role', 'content_daily', 'content_daily_by_role']) {
      expect(await count(`SELECT COUNT(*) AS n FROM ${s}.${table} WHERE day < $1`, [horizon])).toBe(0);
      expect(await count(`SELECT COUNT(*) AS n FROM ${s}.${table} WHERE day >= $1`, [horizon])).toBeGreaterThan(0);
    }
    expect(await count(`SELECT COUNT(*) AS n FROM ${s}.rollup_day`)).toBe(dayRollups);
    await tier.pruneDetailedRollups(START);
    expect(await tier.insights.detailCoverage!()).toEqual({ from: horizon });
    const reopened = await openTier(tier.schema);
    open.push(reopened);
    expect(await reopened.insights.detailCoverage!()).toEqual({ from: horizon });
  });

  it('deletes raw metric samples in a range and keeps their rollups', async () => {
    const tier = await tierOn('metrics');
    const samples = Array.from({ length: 7_000 }, (_, index) => ({ timestamp: START + index * 60_000, name: 'queue_depth', value: index % 50, unit: null, component: null }));
    expect(await tier.writeMetrics(samples)).toBe(7_000);
    const s = `"${tier.schema}"`;
    const rolled = await count(`SELECT SUM(samples)::int8 AS n FROM ${s}.metric_rollup_day`);
    expect(await tier.deleteMetrics({ to: START + 6_000 * 60_000 })).toBe(6_000);
    expect(await count(`SELECT COUNT(*) AS n FROM ${s}.system_performance`)).toBe(1_000);
    expect(await count(`SELECT SUM(samples)::int8 AS n FROM ${s}.metric_rollup_day`)).toBe(rolled);
    const [point] = (await tier.insights.systemPerformance({ granularity: 'day', limit: 1 })).items;
    expect(point).toMatchObject({ metricName: 'queue_depth', component: null, unit: null, min: 0, max: 49 });
  });

  it('counts a session as converted once it reaches the configured depth', async () => {
    const strict = await tierOn('depth5', { conversionDepth: 5 });
    const loose = await tierOn('depth1', { conversionDepth: 1 });
    const events = sampleInteractions(300, 5);
    await strict.writeInteractions(events);
    await loose.writeInteractions(events);
    const converted = (tier: HotPostgresTier) => count(`SELECT SUM(conversion_achieved)::int8 AS n FROM "${tier.schema}".session_analytics`);
    const sessions = await count(`SELECT COUNT(*) AS n FROM "${loose.schema}".session_analytics`);
    expect(await converted(loose)).toBe(sessions);
    expect(await converted(strict)).toBeLessThan(sessions);
  });
});

describe.skipIf(skip)('hot-postgres under createStrata', () => {
  const catalog = { 'hot-postgres': () => hotPostgresPlugin };
  let directory: string;
  beforeAll(() => {
    directory = mkdtempSync(join(tmpdir(), 'hot-postgres-strata-'));
  });
  afterAll(() => {
    rmSync(directory, { recursive: true, force: true });
  });

  it('stores what record() accepted, answers insights, and reports the database size to the system monitor', async () => {
    const schema = fresh('strata');
    const strata = await createStrata({
      config: { plugins: [{ name: 'hot-postgres', options: { connectionString: TEST_PG_URL, schema, conversionDepth: 2 } }] },
      cwd: directory,
      catalog,
      logLevel: 'silent',
      monitor: false,
      scheduleJobs: false,
    });
    try {
      const inputs = [...generateWorkload({ events: 500, seed: 4 })];
      for (const input of inputs) expect(strata.record(input)).toBe(true);
      await strata.flush();
      const days = await strata.insights.businessMetrics({ limit: 1_000 });
      expect(days.items.reduce((sum, day) => sum + day.interactions, 0)).toBe(500);
      expect(days.items.reduce((sum, day) => sum + day.sessions, 0)).toBe(new Set(inputs.map((input) => input.sessionId)).size);
      expect((await strata.report()).totals.interactions).toBe(500);
      const [event] = inputs;
      expect(await strata.recordStrict(event)).toEqual({ eventId: event!.eventId, status: 'duplicate' });
      const readings = await strata.sampleSystemMetrics();
      expect(readings.find((reading) => reading.name === 'system.database_size_mb')?.value).toBeGreaterThan(0);
      const stored = await count(`SELECT COUNT(*) AS n FROM "${schema}".system_performance WHERE component = 'strata'`);
      expect(stored).toBe(readings.length);
    } finally {
      await strata.close();
    }
  });

  it('reports a bad option with its path', async () => {
    await expect(
      createStrata({ config: { plugins: [{ name: 'hot-postgres', options: { connectionString: TEST_PG_URL, schema: 'Bad-Name' } }] }, cwd: directory, catalog, logLevel: 'silent' }),
    ).rejects.toThrow(/plugins\[0\]\.options\.schema/);
  });

  it('says to set connectionString or STRATA_PG_URL when neither is given', async () => {
    const saved = process.env.STRATA_PG_URL;
    delete process.env.STRATA_PG_URL;
    try {
      await expect(createStrata({ config: { plugins: ['hot-postgres'] }, cwd: directory, catalog, logLevel: 'silent' })).rejects.toThrow(
        /connectionString: is required: set it in the hot-postgres options or set STRATA_PG_URL/,
      );
    } finally {
      if (saved !== undefined) process.env.STRATA_PG_URL = saved;
    }
  });

  it('reads the server from STRATA_PG_URL when the options do not name one', async () => {
    const saved = process.env.STRATA_PG_URL;
    process.env.STRATA_PG_URL = TEST_PG_URL;
    const schema = fresh('env');
    try {
      const strata = await createStrata({ config: { plugins: [{ name: 'hot-postgres', options: { schema } }] }, cwd: directory, catalog, logLevel: 'silent', monitor: false, scheduleJobs: false });
      const [tier] = (await strata.status()).tiers;
      await strata.close();
      expect(tier).toMatchObject({ name: 'hot-postgres', role: 'hot', health: { ok: true, details: { schema } } });
    } finally {
      if (saved === undefined) delete process.env.STRATA_PG_URL;
      else process.env.STRATA_PG_URL = saved;
    }
  });
});
