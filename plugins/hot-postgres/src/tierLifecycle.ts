import type { Pool } from 'pg';
import type { RetentionPolicyRecord } from '@strata/core';
import { DAY_MS, floorTo } from '@strata/hot-sqlite';
import { DETAIL_PRUNED_BEFORE } from './insights.js';
import type { Qualify } from './sqlNames.js';
import { inTransaction } from './transactions.js';

/** The per-question and per-content daily rollups: what grows with the number of distinct questions and items. */
const DETAILED_DAILY_TABLES = ['query_daily', 'query_daily_by_role', 'content_daily', 'content_daily_by_role'] as const;

/**
 * Drops detailed daily rollups of days before `before` (rounded down to a UTC day) and records the
 * new horizon, in one transaction: a reader sees either the old rows and old horizon or neither.
 * The horizon only moves forward.
 */
export async function pruneDetailedRollups(pool: Pool, q: Qualify, before: number): Promise<number> {
  const day = floorTo(before, DAY_MS);
  return inTransaction(
    pool,
    async (client) => {
      let removed = 0;
      for (const table of DETAILED_DAILY_TABLES) removed += (await client.query(`DELETE FROM ${q(table)} WHERE day < $1`, [day])).rowCount ?? 0;
      await client.query(
        `INSERT INTO ${q('tier_state')} AS t (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = GREATEST(t.value, EXCLUDED.value)`,
        [DETAIL_PRUNED_BEFORE, day],
      );
      return removed;
    },
    { settings: ['SET LOCAL statement_timeout = 0'] },
  );
}

interface PolicyRow {
  table_name: string;
  archive_after_days: number | null;
  warm_retention_days: number | null;
  retention_days: number | null;
  cleanup_enabled: boolean;
  description: string;
  last_cleanup: number | null;
}

export async function readRetentionPolicies(pool: Pool, q: Qualify): Promise<RetentionPolicyRecord[]> {
  const { rows } = await pool.query<PolicyRow>(`SELECT * FROM ${q('data_retention_policy')} ORDER BY table_name`);
  return rows.map((row) => ({
    table: row.table_name,
    archiveAfterDays: row.archive_after_days,
    warmRetentionDays: row.warm_retention_days,
    retentionDays: row.retention_days,
    cleanupEnabled: row.cleanup_enabled,
    description: row.description,
    lastCleanup: row.last_cleanup,
  }));
}

/** Upserts the policies named; `lastCleanup` is kept from the stored row (it records what ran, not what is wanted). */
export async function saveRetentionPolicies(pool: Pool, q: Qualify, given: readonly RetentionPolicyRecord[], now: number): Promise<void> {
  // One row per table; a table named twice takes its last policy, as applying them in turn would.
  const policies = [...new Map(given.map((policy) => [policy.table, policy])).values()];
  if (policies.length === 0) return;
  await inTransaction(pool, async (client) => {
    await client.query(
      `INSERT INTO ${q('data_retention_policy')} (table_name, archive_after_days, warm_retention_days, retention_days, cleanup_enabled, description, created_at, updated_at)
       SELECT u.*, $7::int8, $7::int8 FROM unnest($1::text[], $2::int4[], $3::int4[], $4::int4[], $5::bool[], $6::text[]) AS u(t, a, w, r, c, d)
       ORDER BY u.t COLLATE "C"
       ON CONFLICT (table_name) DO UPDATE SET
         archive_after_days = EXCLUDED.archive_after_days, warm_retention_days = EXCLUDED.warm_retention_days,
         retention_days = EXCLUDED.retention_days, cleanup_enabled = EXCLUDED.cleanup_enabled,
         description = EXCLUDED.description, updated_at = EXCLUDED.updated_at`,
      [
        policies.map((policy) => policy.table),
        policies.map((policy) => policy.archiveAfterDays),
        policies.map((policy) => policy.warmRetentionDays),
        policies.map((policy) => policy.retentionDays),
        policies.map((policy) => policy.cleanupEnabled),
        policies.map((policy) => policy.description),
        now,
      ],
    );
  });
}

export async function markRetentionCleanup(pool: Pool, q: Qualify, table: string, at: number): Promise<void> {
  await pool.query(`UPDATE ${q('data_retention_policy')} SET last_cleanup = $1, updated_at = $1 WHERE table_name = $2`, [at, table]);
}
