import { join } from 'node:path';
import type { MonthKey } from '@strata/core';
import { ArchiveInputError, archiveWriteError } from './archiveErrors.js';
import { SUMMARIES_DIR } from './archiveLayout.js';
import { ensureDirectory, writeFileDurably } from './durableFile.js';
import type { PartitionStore } from './partitionStore.js';

/** Counts of a set of archived rows. Response times are summed in integer microseconds, so the sum is exact and independent of order. */
export interface ArchivedRowCounts {
  rows: number;
  successes: number;
  responseTimeUsSum: number;
  ratedRows: number;
  ratingSum: number;
  /** Rows per `userRole`, keys sorted. */
  byRole: Record<string, number>;
  /** Rows per `queryType`, keys sorted. */
  byQueryType: Record<string, number>;
}

export interface MonthSummary extends ArchivedRowCounts {
  month: MonthKey;
  /** The partitions the month was computed from, each verified while it was read. */
  partitions: Array<{ id: string; rows: number; fileSha256: string; rowsSha256: string }>;
}

/** `summaries/YYYY.json`: a year of the archive in counts, with the checksums of every partition it was derived from. */
export interface YearSummary extends ArchivedRowCounts {
  format: 'strata-json-archive/year-summary';
  version: 1;
  year: number;
  /** Epoch ms. */
  createdAt: number;
  /** Months that hold partitions, oldest first. */
  months: MonthSummary[];
}

function emptyCounts(): ArchivedRowCounts {
  return { rows: 0, successes: 0, responseTimeUsSum: 0, ratedRows: 0, ratingSum: 0, byRole: {}, byQueryType: {} };
}

function addCounts(into: ArchivedRowCounts, from: ArchivedRowCounts): void {
  into.rows += from.rows;
  into.successes += from.successes;
  into.responseTimeUsSum += from.responseTimeUsSum;
  into.ratedRows += from.ratedRows;
  into.ratingSum += from.ratingSum;
  for (const [role, rows] of Object.entries(from.byRole)) into.byRole[role] = (into.byRole[role] ?? 0) + rows;
  for (const [type, rows] of Object.entries(from.byQueryType)) into.byQueryType[type] = (into.byQueryType[type] ?? 0) + rows;
}

function sortKeys(record: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export function summaryPath(root: string, year: number): string {
  return join(root, SUMMARIES_DIR, `${year}.json`);
}

/**
 * Reads every partition of the year (each checked against its manifest entry as it is read) and
 * writes the summary atomically. A partition that fails verification fails the whole summary, and
 * the previous summary file, if any, is left as it was.
 */
export async function summarizeYear(store: PartitionStore, year: number, now: number): Promise<YearSummary> {
  if (!Number.isInteger(year) || year < 2000 || year > 9999) throw new ArchiveInputError('year', `must be a four-digit year from 2000, got ${JSON.stringify(year)}`);
  const prefix = `${year}-`;
  const entries = (await store.entries()).filter((entry) => entry.month.startsWith(prefix));
  const months = new Map<MonthKey, MonthSummary>();
  for (const entry of entries) {
    let month = months.get(entry.month);
    if (!month) months.set(entry.month, (month = { month: entry.month, ...emptyCounts(), partitions: [] }));
    const counts = emptyCounts();
    for await (const batch of store.read(entry)) {
      for (const row of batch) {
        counts.rows += 1;
        if (row.success) counts.successes += 1;
        counts.responseTimeUsSum += Math.round(row.responseTime * 1_000_000);
        if (typeof row.userRating === 'number') {
          counts.ratedRows += 1;
          counts.ratingSum += row.userRating;
        }
        counts.byRole[row.userRole] = (counts.byRole[row.userRole] ?? 0) + 1;
        counts.byQueryType[row.queryType] = (counts.byQueryType[row.queryType] ?? 0) + 1;
      }
    }
    addCounts(month, counts);
    month.partitions.push({ id: entry.id, rows: entry.rows, fileSha256: entry.fileSha256, rowsSha256: entry.rowsSha256 });
  }
  const totals = emptyCounts();
  const monthList = [...months.values()].sort((a, b) => (a.month < b.month ? -1 : 1));
  for (const month of monthList) {
    addCounts(totals, month);
    month.byRole = sortKeys(month.byRole);
    month.byQueryType = sortKeys(month.byQueryType);
  }
  const summary: YearSummary = {
    format: 'strata-json-archive/year-summary',
    version: 1,
    year,
    createdAt: now,
    ...totals,
    byRole: sortKeys(totals.byRole),
    byQueryType: sortKeys(totals.byQueryType),
    months: monthList,
  };
  const path = summaryPath(store.dir, year);
  try {
    await ensureDirectory(join(store.dir, SUMMARIES_DIR));
    await writeFileDurably(path, `${JSON.stringify(summary, null, 2)}\n`);
  } catch (error) {
    throw archiveWriteError(error, `writing the ${year} summary`, path);
  }
  return summary;
}
