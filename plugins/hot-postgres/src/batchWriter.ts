import type { Pool, PoolClient } from 'pg';
import { StorageError, createQueryKeyer, type Interaction, type Metric } from '@strata/core';
import { ROLLUP_GRANULARITIES, aggregateBatch, aggregateMetrics, mergeSessions, type BatchDeltas, type FreshEvent } from '@strata/hot-sqlite';
import { INSERT_COLUMNS, toColumnArrays, withoutNul, withoutNulText } from './interactionRows.js';
import { type PartitionManager, monthIndexOf } from './partitions.js';
import { NAME } from './pgConnection.js';
import type { RollupWriter } from './rollupWriter.js';
import type { Qualify, StatementNames } from './sqlNames.js';
import { inTransaction } from './transactions.js';

/** Rounds of "create the missing partitions, then write" before giving up (a drop racing every round). */
const PARTITION_ROUNDS = 5;

/**
 * The interaction write path. One batch is one transaction:
 *
 * 1. the shared locks of the batch's months (and a check that their partitions exist);
 * 2. the event ids into `interaction_ids` (`ON CONFLICT DO NOTHING RETURNING`): the ids returned
 *    are the events this batch stores, and no other transaction can store them too, since a
 *    concurrent insert of the same id waits for this one and then finds it taken;
 * 3. those events into `user_interactions`, one multi-row INSERT;
 * 4. every rollup, from those events only, aggregated in memory first (hot-sqlite's `aggregateBatch`).
 *
 * Re-sent events insert no id and so change nothing. A deadlock or serialization failure runs the
 * whole transaction again (nothing of it was kept).
 */
export class PgBatchWriter {
  // Popular questions repeat: each distinct text is normalised and hashed once, across batches.
  private readonly queryKey = createQueryKeyer();
  private readonly insertIdsSql: string;
  private readonly insertRowsSql: string;

  constructor(
    private readonly pool: Pool,
    q: Qualify,
    private readonly names: StatementNames,
    private readonly partitions: PartitionManager,
    private readonly rollups: RollupWriter,
    private readonly conversionDepth: number,
  ) {
    this.insertIdsSql = `INSERT INTO ${q('interaction_ids')} (event_id, timestamp)
      SELECT u.id, u.ts FROM unnest($1::text[], $2::int8[]) AS u(id, ts) ORDER BY u.id COLLATE "C"
      ON CONFLICT (event_id) DO NOTHING RETURNING event_id`;
    this.insertRowsSql = `INSERT INTO ${q('user_interactions')} (${INSERT_COLUMNS.map(([column]) => column).join(', ')})
      SELECT * FROM unnest(${INSERT_COLUMNS.map(([, type], index) => `$${index + 1}::${type}[]`).join(', ')})`;
  }

  /** Stores the batch; returns the ids of the events that were already stored (or repeated earlier in the batch), in batch order. */
  async write(batch: readonly Interaction[], createdAt: number): Promise<string[]> {
    const events = batch.map(withoutNul);
    const firsts: FreshEvent[] = [];
    const seen = new Set<string>();
    for (const event of events) {
      if (seen.has(event.eventId)) continue;
      seen.add(event.eventId);
      const query = this.queryKey(event.query);
      firsts.push({ event, queryHash: query.hash, normalizedQuery: query.normalized });
    }
    // Aggregated before the transaction opens, so its row locks are held for the writes only. Used
    // once: merging sessions adds to it, so a retried attempt (or one where some events turn out to
    // be stored already) aggregates afresh.
    let prepared: BatchDeltas | undefined = aggregateBatch(firsts, createdAt);
    const deltasFor = (fresh: readonly FreshEvent[]): BatchDeltas => {
      const deltas = fresh === firsts && prepared ? prepared : aggregateBatch(fresh, createdAt);
      prepared = undefined;
      return deltas;
    };
    const months = firsts.map((fresh) => monthIndexOf(fresh.event.timestamp));
    let stored: Set<string> | undefined;
    for (let round = 1; stored === undefined; round += 1) {
      const outcome = await inTransaction(this.pool, async (client) => {
        const missing = await this.partitions.lockMonthsShared(client, months);
        if (missing.length > 0) return { missing };
        return { stored: await this.store(client, firsts, deltasFor, createdAt) };
      });
      if (outcome.stored) stored = outcome.stored;
      else if (round >= PARTITION_ROUNDS) {
        throw new StorageError(`${NAME}: the partitions for months ${outcome.missing!.join(', ')} kept disappearing while writing (dropped by retention each time); retry the batch`);
      } else await this.partitions.ensure(outcome.missing!);
    }
    const duplicateIds: string[] = [];
    const counted = new Set<string>();
    for (const event of events) {
      if (stored.has(event.eventId) && !counted.has(event.eventId)) counted.add(event.eventId);
      else duplicateIds.push(event.eventId);
    }
    return duplicateIds;
  }

  private async store(client: PoolClient, firsts: readonly FreshEvent[], deltasFor: (fresh: readonly FreshEvent[]) => BatchDeltas, createdAt: number): Promise<Set<string>> {
    const inserted = await client.query<{ event_id: string }>({
      ...this.names.get(this.insertIdsSql),
      values: [firsts.map((fresh) => fresh.event.eventId), firsts.map((fresh) => fresh.event.timestamp)],
    });
    const stored = new Set(inserted.rows.map((row) => row.event_id));
    if (stored.size === 0) return stored;
    const fresh = stored.size === firsts.length ? firsts : firsts.filter((candidate) => stored.has(candidate.event.eventId));
    await client.query({
      ...this.names.get(this.insertRowsSql),
      values: toColumnArrays(
        fresh.map((candidate) => candidate.event),
        createdAt,
        fresh.map((candidate) => candidate.queryHash),
      ),
    });
    await applyRollups(client, this.rollups, deltasFor(fresh), this.conversionDepth, createdAt);
    return stored;
  }
}

/**
 * Writes the rollups of a batch's aggregated events, table by table in the order every writer
 * uses: sessions (locked, merged, written back), time rollups and histograms, questions, content.
 */
export async function applyRollups(client: PoolClient, rollups: RollupWriter, deltas: BatchDeltas, depth: number, createdAt: number): Promise<void> {
  const storedSessions = await rollups.lockSessions(client, [...deltas.sessions.keys()], createdAt);
  await rollups.writeSessions(client, mergeSessions(deltas, storedSessions, depth, createdAt));
  await rollups.writeTimeRollups(client, deltas, 1);
  const queryIds = await rollups.writeQueries(client, deltas.queries, createdAt);
  await rollups.writeQueryDetails(client, deltas, queryIds, 1);
  const contentIds = await rollups.writeContents(client, deltas.contents, createdAt);
  await rollups.writeContentDetails(client, deltas, contentIds, 1);
}

/**
 * The metric write path: raw samples into `system_performance`, per-bucket count, sum, min and max
 * into the metric rollups, in one transaction. Samples carry no id, so sending one twice stores it twice.
 */
export class PgMetricWriter {
  private readonly insertSql: string;
  private readonly upsertSql: string[];

  constructor(
    private readonly pool: Pool,
    q: Qualify,
    private readonly names: StatementNames,
  ) {
    this.insertSql = `INSERT INTO ${q('system_performance')} (timestamp, metric_name, metric_value, metric_unit, component, created_at)
      SELECT u.*, $6::int8 FROM unnest($1::int8[], $2::text[], $3::float8[], $4::text[], $5::text[]) AS u`;
    this.upsertSql = ROLLUP_GRANULARITIES.map(
      (name) => `INSERT INTO ${q(`metric_rollup_${name}`)} AS t (bucket_start, metric_name, component, metric_unit, samples, value_sum, value_min, value_max)
        SELECT u.* FROM unnest($1::int8[], $2::text[], $3::text[], $4::text[], $5::int8[], $6::float8[], $7::float8[], $8::float8[]) AS u(b, n, c, un, s, su, mi, ma)
        ORDER BY u.b, u.n COLLATE "C", u.c COLLATE "C", u.un COLLATE "C"
        ON CONFLICT (bucket_start, metric_name, component, metric_unit) DO UPDATE SET
          samples = t.samples + EXCLUDED.samples, value_sum = t.value_sum + EXCLUDED.value_sum,
          value_min = LEAST(t.value_min, EXCLUDED.value_min), value_max = GREATEST(t.value_max, EXCLUDED.value_max)`,
    );
  }

  async write(input: readonly Metric[], createdAt: number): Promise<number> {
    const metrics = input.map((metric) => ({
      ...metric,
      name: withoutNulText(metric.name),
      unit: metric.unit === null || metric.unit === undefined ? null : withoutNulText(metric.unit),
      component: metric.component === null || metric.component === undefined ? null : withoutNulText(metric.component),
    }));
    const rollups = aggregateMetrics(metrics);
    await inTransaction(this.pool, async (client) => {
      await client.query({
        ...this.names.get(this.insertSql),
        values: [
          metrics.map((metric) => metric.timestamp),
          metrics.map((metric) => metric.name),
          metrics.map((metric) => metric.value),
          metrics.map((metric) => metric.unit ?? null),
          metrics.map((metric) => metric.component ?? null),
          createdAt,
        ],
      });
      for (const [granularity, map] of rollups.entries()) {
        const deltas = [...map.values()];
        await client.query({
          ...this.names.get(this.upsertSql[granularity]!),
          values: [
            deltas.map((delta) => delta.bucket),
            deltas.map((delta) => delta.name),
            deltas.map((delta) => delta.component),
            deltas.map((delta) => delta.unit),
            deltas.map((delta) => delta.samples),
            deltas.map((delta) => delta.sum),
            deltas.map((delta) => delta.min),
            deltas.map((delta) => delta.max),
          ],
        });
      }
    });
    return metrics.length;
  }
}
