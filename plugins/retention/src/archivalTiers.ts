import type { InteractionArchive, MonthlyAggregateStore, StorageTier, TierRole } from '@strata/core';
import { RetentionSetupError } from './errors.js';

/** A hot tier that can delete exactly the events archival copied. */
export type ArchivableHotTier = StorageTier & Required<Pick<StorageTier, 'deleteEvents'>>;

/** What archival reads from and writes to. */
export interface ArchivalTiers {
  hot: ArchivableHotTier;
  /** The warm tier's monthly aggregates (`tier.aggregates`, e.g. historical-sqlite). */
  aggregates: MonthlyAggregateStore;
  /** The cold tier's archive (`tier.archive`, e.g. json-archive). */
  archive: InteractionArchive;
}

/** The archive a cold tier exposes as `tier.archive`, when it has one. */
export function archiveOf(tier: StorageTier | undefined): InteractionArchive | undefined {
  const archive = (tier as { archive?: Partial<InteractionArchive> } | undefined)?.archive;
  const methods = ['writePartition', 'listPartitions', 'verifyPartition', 'readPartition', 'deletePartition'] as const;
  return archive && methods.every((method) => typeof archive[method] === 'function') ? (archive as InteractionArchive) : undefined;
}

/** The monthly aggregates a warm tier exposes as `tier.aggregates`, when it has them. */
export function aggregatesOf(tier: StorageTier | undefined): MonthlyAggregateStore | undefined {
  const aggregates = (tier as { aggregates?: Partial<MonthlyAggregateStore> } | undefined)?.aggregates;
  const methods = ['addRows', 'hasSource', 'months', 'expireBefore'] as const;
  return aggregates && methods.every((method) => typeof aggregates[method] === 'function') ? (aggregates as MonthlyAggregateStore) : undefined;
}

/**
 * Finds the three tiers archival moves data between, or fails naming every missing piece and the
 * plugin that provides it. Retention never runs half-configured: without a warm tier, archived
 * months would have no aggregates; without a cold tier, raw rows would have nowhere to go.
 */
export function resolveArchivalTiers(storage: (role: TierRole) => StorageTier | undefined): ArchivalTiers {
  const problems: string[] = [];
  const hot = storage('hot');
  const warm = storage('warm');
  const cold = storage('cold');
  if (!hot) problems.push('no hot storage tier is configured; add hot-sqlite (or hot-postgres) to plugins');
  else if (typeof hot.deleteEvents !== 'function') {
    problems.push(`the hot tier ${hot.name} cannot delete events by id (deleteEvents), which archival needs so that a late event is never deleted unarchived; use hot-sqlite`);
  }
  const aggregates = aggregatesOf(warm);
  if (!warm) problems.push('no warm storage tier is configured; add historical-sqlite to plugins (archived months are summarised into its monthly aggregates)');
  else if (!aggregates) problems.push(`the warm tier ${warm.name} keeps no monthly aggregates (tier.aggregates); use historical-sqlite`);
  const archive = archiveOf(cold);
  if (!cold) problems.push('no cold storage tier is configured; add json-archive to plugins (it keeps the raw interactions of archived months)');
  else if (!archive) problems.push(`the cold tier ${cold.name} has no interaction archive (tier.archive); use json-archive`);
  if (problems.length > 0) throw new RetentionSetupError(problems);
  return { hot: hot as ArchivableHotTier, aggregates: aggregates!, archive: archive! };
}
