import { join } from 'node:path';
import { monthOf, type Clock, type Interaction } from '@strata/core';
import { HistoricalSqliteTier } from '@strata/historical-sqlite';
import { HotSqliteTier } from '@strata/hot-sqlite';
import { JsonArchive } from '@strata/json-archive';
import Database from 'better-sqlite3';

export const HOT_FILE = 'comprehensive_metrics.db';
export const WARM_FILE = 'historical_metrics.db';
export const ARCHIVE_DIR = 'archive';

export interface RealTiers {
  hot: HotSqliteTier;
  warm: HistoricalSqliteTier;
  archive: JsonArchive;
  close(): Promise<void>;
}

/** The three real tiers on files under `dataDir`, laid out as their plugins lay them out. */
export async function openRealTiers(dataDir: string, clock: Clock): Promise<RealTiers> {
  const now = () => clock.now();
  const hot = HotSqliteTier.open({ file: join(dataDir, HOT_FILE), writer: 'inline', now });
  const warm = HistoricalSqliteTier.open({ file: join(dataDir, WARM_FILE), now });
  const archive = await JsonArchive.open({ dir: join(dataDir, ARCHIVE_DIR), now });
  return {
    hot,
    warm,
    archive,
    async close() {
      await archive.close();
      await warm.close();
      await hot.close();
    },
  };
}

/** Every row in the archive, partition by partition (each verified as it is read). */
export async function archivedRows(archive: JsonArchive): Promise<Interaction[]> {
  const rows: Interaction[] = [];
  for (const partition of await archive.listPartitions()) {
    for await (const batch of archive.readPartition(partition.id)) rows.push(...batch);
  }
  return rows;
}

export interface MonthlyTotals {
  interactions: number;
  successes: number;
  questionAsks: number;
  contentAccesses: number;
}

/** What the warm tier's monthly tables hold per month, read straight from its file. */
export function warmTotals(dataDir: string): Map<string, MonthlyTotals> {
  const db = new Database(join(dataDir, WARM_FILE), { readonly: true, fileMustExist: true });
  try {
    const totals = new Map<string, MonthlyTotals>();
    const slot = (month: string) => {
      let entry = totals.get(month);
      if (!entry) totals.set(month, (entry = { interactions: 0, successes: 0, questionAsks: 0, contentAccesses: 0 }));
      return entry;
    };
    for (const row of db.prepare('SELECT month, SUM(interactions) AS n, SUM(successes) AS s FROM interactions_monthly GROUP BY month').all() as Array<{ month: string; n: number; s: number }>) {
      Object.assign(slot(row.month), { interactions: row.n, successes: row.s });
    }
    for (const row of db.prepare('SELECT month, SUM(asks) AS n FROM questions_monthly GROUP BY month').all() as Array<{ month: string; n: number }>) slot(row.month).questionAsks = row.n;
    for (const row of db.prepare('SELECT month, SUM(accesses) AS n FROM content_monthly GROUP BY month').all() as Array<{ month: string; n: number }>) slot(row.month).contentAccesses = row.n;
    return totals;
  } finally {
    db.close();
  }
}

/** The same totals computed from raw rows: what the warm tier must hold for them. */
export function rawTotals(rows: Iterable<Interaction>): Map<string, MonthlyTotals> {
  const totals = new Map<string, MonthlyTotals>();
  for (const row of rows) {
    const month = monthOf(row.timestamp);
    const entry = totals.get(month) ?? { interactions: 0, successes: 0, questionAsks: 0, contentAccesses: 0 };
    entry.interactions += 1;
    entry.successes += row.success ? 1 : 0;
    entry.questionAsks += 1;
    entry.contentAccesses += row.content.length;
    totals.set(month, entry);
  }
  return totals;
}
