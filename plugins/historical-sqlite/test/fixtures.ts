import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Interaction } from '@strata/core';
import { sampleInteractions } from '@strata/testing';
import { HistoricalSqliteTier } from '../src/index.js';

export const DAY = 86_400_000;

/** A temp directory and the tiers opened in it, all removed by `cleanup`. */
export function scratch(prefix: string) {
  const directory = mkdtempSync(join(tmpdir(), `historical-sqlite-${prefix}-`));
  const tiers: HistoricalSqliteTier[] = [];
  return {
    directory,
    open(file = 'historical_metrics.db'): HistoricalSqliteTier {
      const tier = HistoricalSqliteTier.open({ file: join(directory, file) });
      tiers.push(tier);
      return tier;
    },
    async cleanup(): Promise<void> {
      for (const tier of tiers) await tier.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

/** Validated interactions from the shared workload generator, spread over `days` from `start`. */
export function workload(events: number, seed: number, start: number, days: number): Interaction[] {
  return sampleInteractions(events, seed, start, days);
}

/** Rows grouped by UTC month, in time order: what retention's partitions hold. */
export function byMonth(rows: readonly Interaction[]): Map<string, Interaction[]> {
  const months = new Map<string, Interaction[]>();
  for (const row of [...rows].sort((a, b) => a.timestamp - b.timestamp)) {
    const month = new Date(row.timestamp).toISOString().slice(0, 7);
    if (!months.has(month)) months.set(month, []);
    months.get(month)!.push(row);
  }
  return months;
}

/** Splits rows into batches of `size`, as an archive's reader yields them. */
export function batches<T>(rows: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let index = 0; index < rows.length; index += size) out.push(rows.slice(index, index + size));
  return out;
}

export async function* asyncBatches<T>(rows: readonly T[], size: number): AsyncIterable<T[]> {
  for (const batch of batches(rows, size)) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    yield batch;
  }
}
