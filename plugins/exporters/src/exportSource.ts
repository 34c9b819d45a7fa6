import type { InsightsProvider, StorageTier, TierRole, TimeRange } from '@strata/core';
import type { ColumnSpec, ExportRow } from './exportFormat.js';

/** What to export: every filter is optional; a source refuses the ones it cannot apply. */
export interface ExportQuery {
  /** Half-open `[from, to)` in epoch ms. What the time is depends on the dataset (see its `filters`). */
  range?: TimeRange;
  userRole?: string;
  queryType?: string;
}

export type ExportFilter = 'range' | 'userRole' | 'queryType';

/** Where a source reads from: the tiers and the insights API of one Strata. */
export interface ExportSourceContext {
  storage(role: TierRole): StorageTier | undefined;
  /** The insights API (Strata's own: the hot tier's rollups, with the warm tier's months layered under them). */
  readonly insights: InsightsProvider;
  readonly signal?: AbortSignal | undefined;
  /** Adds to a per-export counter the result reports (`hot`, `cold`, `duplicatesSkipped`…). */
  count(key: string, amount: number): void;
}

/**
 * A dataset that can be exported. Built in: `interactions`, `sessions`, `queries`, `content`,
 * `business-metrics`. A third party (or the quality and alerts plugins, for their history) adds
 * one by contributing it under `extensions: { exportSources: [source] }` from a plugin, or by
 * passing it to `createExportRegistry`.
 */
export interface ExportSource {
  /** What `--dataset` names; lower case letters, digits and `-`. */
  readonly dataset: string;
  /** One line for `--help` and error messages. */
  readonly description: string;
  /**
   * The permission an export of it needs: `interactions` (raw, per-person rows: the
   * `export.interactions` operation, roles with read and export) or `summaries` (aggregates:
   * `export.summaries`, which also needs only summary reading).
   */
  readonly access: 'interactions' | 'summaries';
  /** The columns of every row, in order (CSV writes them so; JSON writes the row objects). */
  readonly columns: readonly ColumnSpec[];
  /** The filters it applies, each with what it means here; an export asking for another one is refused. */
  readonly filters: Readonly<Partial<Record<ExportFilter, string>>>;
  /**
   * The rows, in batches, in the source's documented order, reading only as batches are consumed
   * (constant memory). It stops early when `context.signal` aborts.
   */
  rows(query: ExportQuery, context: ExportSourceContext): AsyncIterable<readonly ExportRow[]>;
}

/** The access-control operation an export of `source` needs. */
export function exportOperation(source: Pick<ExportSource, 'access'>): 'export.interactions' | 'export.summaries' {
  return source.access === 'interactions' ? 'export.interactions' : 'export.summaries';
}
