import { StrataError, type InteractionArchive, type MonthKey, type StorageTier } from '@strata/core';

export interface ArchiveRestoreOptions {
  /** Every partition of this month (`YYYY-MM`)… */
  month?: MonthKey;
  /** …or exactly these partitions. */
  partitions?: readonly string[];
  batchSize?: number;
  signal?: AbortSignal;
  onProgress?(restored: number): void;
}

export interface ArchiveRestoreReport {
  partitions: string[];
  /** Rows read from the verified partitions. */
  rows: number;
  /** Rows put back into the tier; the rest were there already. */
  restored: number;
  alreadyPresent: number;
}

/**
 * Reads archived partitions back into a hot tier. Each partition is verified before any row is read
 * (a damaged one fails with STRATA_ARCHIVE_CORRUPT and nothing of it is restored), and rows go in
 * through `restoreInteractions`, which stores raw rows without counting them again in the rollups
 * (they never stopped counting them). Restoring twice changes nothing. Retention archives such rows
 * again on its next run without duplicating them (it recognises rows already archived).
 */
export async function restoreFromArchive(archive: InteractionArchive, tier: StorageTier, options: ArchiveRestoreOptions): Promise<ArchiveRestoreReport> {
  if (!tier.restoreInteractions) {
    throw new StrataError('STRATA_CONFIG_INVALID', `${tier.name} cannot take archived rows back (it has no restoreInteractions); restore into hot-sqlite or hot-postgres`);
  }
  if ((options.month === undefined) === (options.partitions === undefined)) {
    throw new StrataError('STRATA_CONFIG_INVALID', 'restore: give either a month (YYYY-MM) or a list of partition ids');
  }
  const known = await archive.listPartitions(options.month ? { month: options.month } : {});
  const ids = options.partitions ? [...options.partitions] : known.map((partition) => partition.id);
  const missing = ids.filter((id) => !known.some((partition) => partition.id === id));
  if (missing.length > 0) {
    throw new StrataError('STRATA_NOT_FOUND', `restore: no archive partition ${missing.map((id) => JSON.stringify(id)).join(', ')}; list them with \`strata archive list\``);
  }
  if (ids.length === 0) throw new StrataError('STRATA_NOT_FOUND', `restore: the archive holds no partition for ${options.month}`);
  const report: ArchiveRestoreReport = { partitions: ids, rows: 0, restored: 0, alreadyPresent: 0 };
  for (const id of ids) {
    for await (const batch of archive.readPartition(id, { batchSize: options.batchSize ?? 5_000, signal: options.signal })) {
      const result = await tier.restoreInteractions(batch);
      report.rows += batch.length;
      report.restored += result.inserted;
      report.alreadyPresent += result.duplicates;
      options.onProgress?.(report.rows);
    }
  }
  return report;
}
