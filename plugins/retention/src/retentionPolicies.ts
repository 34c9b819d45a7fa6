import { ConfigError, type Issue, type RetentionPolicyRecord } from '@strata/core';

export const DAY_MS = 86_400_000;

/** Tables whose policy the config may override. Business metrics (`rollup_day`) are kept permanently and are not among them. */
export const CONFIGURABLE_TABLES = ['user_interactions', 'session_analytics', 'system_performance'] as const;
export type ConfigurableTable = (typeof CONFIGURABLE_TABLES)[number];

/** What the config may change of one table's policy; absent fields keep the stored value. */
export interface RetentionPolicyOverride {
  archiveAfterDays?: number | null;
  warmRetentionDays?: number | null;
  retentionDays?: number | null;
  cleanupEnabled?: boolean;
  description?: string;
}

export type RetentionPolicyOverrides = Partial<Record<ConfigurableTable, RetentionPolicyOverride>>;

/**
 * The plan's policies, used for a table the hot tier stores no policy for (or a hot tier that
 * stores none). hot-sqlite seeds its `data_retention_policy` table with the same values.
 */
export const PLAN_RETENTION_POLICIES: readonly RetentionPolicyRecord[] = [
  { table: 'user_interactions', archiveAfterDays: 90, warmRetentionDays: 730, retentionDays: 1_095, cleanupEnabled: true, description: '90 days hot, 2 years warm (monthly aggregates), 3 years cold archive' },
  { table: 'session_analytics', archiveAfterDays: 30, warmRetentionDays: 365, retentionDays: 365, cleanupEnabled: true, description: '30 days detailed, 1 year aggregated' },
  { table: 'system_performance', archiveAfterDays: 365, warmRetentionDays: 1_095, retentionDays: 1_095, cleanupEnabled: true, description: '1 year detailed, 3 years summarised' },
  { table: 'rollup_day', archiveAfterDays: null, warmRetentionDays: null, retentionDays: null, cleanupEnabled: false, description: 'business metrics (daily rollups): permanent, aggregated only' },
];

/** The policies a run applies, by table, and those that differ from what the hot tier stores. */
export interface EffectivePolicies {
  byTable: ReadonlyMap<string, RetentionPolicyRecord>;
  /** Policies to write back so `data_retention_policy` says what is applied. */
  changed: RetentionPolicyRecord[];
}

/**
 * Lays the config's overrides over the stored policies (the plan's defaults where none is stored)
 * and checks each result. A day count of `null` means "kept permanently".
 */
export function effectivePolicies(stored: readonly RetentionPolicyRecord[], overrides: RetentionPolicyOverrides): EffectivePolicies {
  const byTable = new Map<string, RetentionPolicyRecord>();
  for (const policy of PLAN_RETENTION_POLICIES) byTable.set(policy.table, policy);
  const storedByTable = new Map(stored.map((policy) => [policy.table, policy]));
  for (const policy of stored) byTable.set(policy.table, policy);

  const changed: RetentionPolicyRecord[] = [];
  const issues: Issue[] = [];
  for (const table of CONFIGURABLE_TABLES) {
    const base = byTable.get(table)!;
    const override = overrides[table] ?? {};
    const merged: RetentionPolicyRecord = {
      table,
      archiveAfterDays: override.archiveAfterDays !== undefined ? override.archiveAfterDays : base.archiveAfterDays,
      warmRetentionDays: override.warmRetentionDays !== undefined ? override.warmRetentionDays : base.warmRetentionDays,
      retentionDays: override.retentionDays !== undefined ? override.retentionDays : base.retentionDays,
      cleanupEnabled: override.cleanupEnabled ?? base.cleanupEnabled,
      description: base.description,
      lastCleanup: storedByTable.get(table)?.lastCleanup ?? null,
    };
    const daysChanged =
      merged.archiveAfterDays !== base.archiveAfterDays || merged.warmRetentionDays !== base.warmRetentionDays || merged.retentionDays !== base.retentionDays;
    merged.description = override.description ?? (daysChanged ? describeDays(merged) : base.description);
    issues.push(...policyOrderIssues(merged, `policies.${table}`));
    byTable.set(table, merged);
    const before = storedByTable.get(table);
    if (!before || !samePolicy(before, merged)) changed.push(merged);
  }
  // The stored half of a policy is only known now, so this check runs with the job, not at config load.
  if (issues.length > 0) throw new ConfigError(issues, 'the retention options merged with the stored data_retention_policy');
  return { byTable, changed };
}

/** The horizons must nest: archive after ≤ warm ≤ retention (permanent counts as longest). */
export function policyOrderIssues(policy: RetentionPolicyOverride, path: string): Issue[] {
  const issues: Issue[] = [];
  const order = [
    ['archiveAfterDays', policy.archiveAfterDays],
    ['warmRetentionDays', policy.warmRetentionDays],
    ['retentionDays', policy.retentionDays],
  ] as const;
  for (let later = 1; later < order.length; later += 1) {
    for (let earlier = 0; earlier < later; earlier += 1) {
      const [earlierName, earlierDays] = order[earlier]!;
      const [laterName, laterDays] = order[later]!;
      if (earlierDays === undefined || laterDays === undefined) continue;
      if (rank(earlierDays) > rank(laterDays)) {
        issues.push({
          path: `${path}.${laterName}`,
          message: `${describeDaysValue(laterDays)} is shorter than ${earlierName} (${describeDaysValue(earlierDays)}); data must be archived before it leaves the warm tier, and leave the warm tier before it is deleted — raise ${laterName} or lower ${earlierName}`,
        });
      }
    }
  }
  return issues;
}

function rank(days: number | null): number {
  return days === null ? Number.POSITIVE_INFINITY : days;
}

function describeDaysValue(days: number | null): string {
  return days === null ? 'permanent' : `${days} days`;
}

function describeDays(policy: RetentionPolicyRecord): string {
  return `${describeDaysValue(policy.archiveAfterDays)} hot, ${describeDaysValue(policy.warmRetentionDays)} warm, ${describeDaysValue(policy.retentionDays)} in all (set in config)`;
}

function samePolicy(a: RetentionPolicyRecord, b: RetentionPolicyRecord): boolean {
  return (
    a.archiveAfterDays === b.archiveAfterDays &&
    a.warmRetentionDays === b.warmRetentionDays &&
    a.retentionDays === b.retentionDays &&
    a.cleanupEnabled === b.cleanupEnabled &&
    a.description === b.description
  );
}
