import type Database from 'better-sqlite3';
import type { RetentionPolicyRecord } from '@strata/core';

const DAY_MS = 86_400_000;
const DETAIL_PRUNED_BEFORE = 'detail_pruned_before';

/** The per-question and per-content daily rollups: what grows with the number of distinct questions and items. */
const DETAILED_DAILY_TABLES = ['query_daily', 'query_daily_by_role', 'content_daily', 'content_daily_by_role'] as const;

/**
 * Drops detailed daily rollups of days before `before` (rounded down to a UTC day) and records the
 * new horizon, in one transaction: a reader sees either the old rows and old horizon or neither.
 * The horizon only moves forward.
 */
export function pruneDetailedRollups(db: Database.Database, before: number): number {
  const day = Math.floor(before / DAY_MS) * DAY_MS;
  return db
    .transaction(() => {
      let removed = 0;
      for (const table of DETAILED_DAILY_TABLES) removed += db.prepare(`DELETE FROM ${table} WHERE day < ?`).run(day).changes;
      db.prepare(
        `INSERT INTO tier_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = max(value, excluded.value)`,
      ).run(DETAIL_PRUNED_BEFORE, day);
      return removed;
    })
    .immediate();
}

/** Start of the first UTC day whose detailed rollups are complete, or null when none were pruned. */
export function detailPrunedBefore(db: Database.Database): number | null {
  const row = db.prepare('SELECT value FROM tier_state WHERE key = ?').get(DETAIL_PRUNED_BEFORE) as { value: number } | undefined;
  return row?.value ?? null;
}

interface PolicyRow {
  table_name: string;
  archive_after_days: number | null;
  warm_retention_days: number | null;
  retention_days: number | null;
  cleanup_enabled: number;
  description: string;
  last_cleanup: number | null;
}

export function readRetentionPolicies(db: Database.Database): RetentionPolicyRecord[] {
  const rows = db.prepare('SELECT * FROM data_retention_policy ORDER BY table_name').all() as PolicyRow[];
  return rows.map((row) => ({
    table: row.table_name,
    archiveAfterDays: row.archive_after_days,
    warmRetentionDays: row.warm_retention_days,
    retentionDays: row.retention_days,
    cleanupEnabled: row.cleanup_enabled === 1,
    description: row.description,
    lastCleanup: row.last_cleanup,
  }));
}

/** Upserts the policies named; `lastCleanup` is kept from the stored row (it records what ran, not what is wanted). */
export function saveRetentionPolicies(db: Database.Database, policies: readonly RetentionPolicyRecord[], now: number): void {
  const upsert = db.prepare(
    `INSERT INTO data_retention_policy (table_name, archive_after_days, warm_retention_days, retention_days, cleanup_enabled, description, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (table_name) DO UPDATE SET
       archive_after_days = excluded.archive_after_days, warm_retention_days = excluded.warm_retention_days,
       retention_days = excluded.retention_days, cleanup_enabled = excluded.cleanup_enabled,
       description = excluded.description, updated_at = excluded.updated_at`,
  );
  db.transaction(() => {
    for (const policy of policies) {
      upsert.run(policy.table, policy.archiveAfterDays, policy.warmRetentionDays, policy.retentionDays, policy.cleanupEnabled ? 1 : 0, policy.description, now, now);
    }
  }).immediate();
}

export function markRetentionCleanup(db: Database.Database, table: string, at: number): void {
  db.prepare('UPDATE data_retention_policy SET last_cleanup = ?, updated_at = ? WHERE table_name = ?').run(at, at, table);
}
