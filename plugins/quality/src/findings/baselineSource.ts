import type { StorageTier, TimeRange } from '@strata/core';

/** The part of a warm tier's monthly performance baseline the response-time rule reads. */
export interface MonthlyBaseline {
  /** `YYYY-MM`. */
  month: string;
  /** Epoch ms of the month's start (UTC). */
  monthStart: number;
  interactions: number;
  /** Seconds. */
  p95ResponseTime: number;
}

/** A warm tier that keeps performance baselines (historical-sqlite's `baselines()`), oldest month first. */
export interface BaselineSource {
  baselines(query: { range?: TimeRange; userRole?: string }): Promise<MonthlyBaseline[]>;
}

/**
 * The tier's baselines when it has them. Duck-typed rather than imported, so this plugin does not
 * depend on historical-sqlite and any warm tier with the same method serves.
 */
export function baselineSourceOf(tier: StorageTier | undefined): BaselineSource | undefined {
  const candidate = tier as (StorageTier & Partial<BaselineSource>) | undefined;
  if (!candidate || typeof candidate.baselines !== 'function') return undefined;
  const baselines = candidate.baselines.bind(candidate);
  return { baselines: (query) => baselines(query) };
}

/** Epoch ms of the start of the month after the one starting at `monthStart`. */
export function monthEnd(monthStart: number): number {
  const start = new Date(monthStart);
  return Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1);
}
