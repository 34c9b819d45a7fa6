import { ExportOptionError } from './exportErrors.js';
import type { ColumnSpec, ExportRow } from './exportFormat.js';
import type { ExportQuery, ExportSource } from './exportSource.js';

/**
 * Reads a history newest first, entries at or after `since`, at most `limit` of them: the history
 * API the quality plugin (`QualityService.history`) and the alerts plugin (`AlertStore.history`)
 * offer.
 */
export type NewestFirstHistory<T extends { at: number }> = (query: { since?: number; limit: number }) => T[] | Promise<T[]>;

export interface HistorySourceOptions<T extends { at: number }> {
  dataset: string;
  description: string;
  columns: readonly ColumnSpec[];
  read: NewestFirstHistory<T>;
  /** The largest `limit` the history accepts. Default 10,000 (the quality and alerts plugins' cap). */
  maxEntries?: number;
  toRow?(entry: T): ExportRow;
}

/**
 * An export source over a newest-first history, oldest first in the file. Such a history has no
 * cursor, so one read of `maxEntries` covers the range: an export whose range holds more entries
 * (or whose `to` has that many newer entries after it) is refused, asking for a narrower range,
 * rather than silently cut. Memory is bounded by `maxEntries`.
 */
export function historyExportSource<T extends { at: number }>(options: HistorySourceOptions<T>): ExportSource {
  const maxEntries = options.maxEntries ?? 10_000;
  const toRow = options.toRow ?? ((entry: T) => entry as unknown as ExportRow);
  return {
    dataset: options.dataset,
    description: options.description,
    access: 'summaries',
    columns: options.columns,
    filters: { range: 'when the entry was recorded' },
    async *rows(query: ExportQuery) {
      const from = query.range?.from;
      const to = query.range?.to;
      const entries = await options.read({ ...(from !== undefined ? { since: from } : {}), limit: maxEntries });
      if (entries.length >= maxEntries) {
        throw new ExportOptionError(
          'range',
          `holds more than ${maxEntries} entries of ${options.dataset} (counting those after its end), which its history cannot page through; export a narrower range (--from/--to)`,
        );
      }
      const rows: ExportRow[] = [];
      for (let index = entries.length - 1; index >= 0; index -= 1) {
        const entry = entries[index]!;
        if (to === undefined || entry.at < to) rows.push(toRow(entry));
      }
      for (let start = 0; start < rows.length; start += 1_000) yield rows.slice(start, start + 1_000);
    },
  };
}

/** One entry of the quality plugin's history (`QualityHistoryEntry`). */
export interface QualityHistoryEntryLike {
  runId: number;
  at: number;
  check: string;
  status: string;
  observed: number | null;
  unit: string | null;
  threshold: string | null;
  message: string;
}

/** The quality plugin's check results over time, from its `QualityService.history` (or `QualityStore.history`). */
export function qualityHistorySource(read: NewestFirstHistory<QualityHistoryEntryLike>): ExportSource {
  return historyExportSource({
    dataset: 'quality-history',
    description: 'data-quality check results per run (quality plugin), oldest first',
    columns: [
      { name: 'runId', type: 'integer' },
      { name: 'at', type: 'timestamp' },
      { name: 'check', type: 'text' },
      { name: 'status', type: 'text' },
      { name: 'observed', type: 'number' },
      { name: 'unit', type: 'text' },
      { name: 'threshold', type: 'text' },
      { name: 'message', type: 'text' },
    ],
    read,
    toRow: (entry) => ({ runId: entry.runId, at: entry.at, check: entry.check, status: entry.status, observed: entry.observed, unit: entry.unit, threshold: entry.threshold, message: entry.message }),
  });
}

/** One entry of the alerts plugin's history (`AlertHistoryEntry`). */
export interface AlertHistoryEntryLike {
  id: number;
  at: number;
  kind: string;
  rule: string;
  fingerprint: string | null;
  labels: Record<string, string>;
  from: string | null;
  to: string | null;
  value: number | null;
  notifier: string | null;
  outcome: string | null;
  notificationId: string | null;
  message: string;
}

/** The alerts plugin's state changes, silences and notifications over time, from its `AlertStore.history`. */
export function alertHistorySource(read: NewestFirstHistory<AlertHistoryEntryLike>): ExportSource {
  return historyExportSource({
    dataset: 'alert-history',
    description: 'alert state changes, silences and notifications (alerts plugin), oldest first',
    columns: [
      { name: 'id', type: 'integer' },
      { name: 'at', type: 'timestamp' },
      { name: 'kind', type: 'text' },
      { name: 'rule', type: 'text' },
      { name: 'fingerprint', type: 'text' },
      { name: 'labels', type: 'json' },
      { name: 'from', type: 'text' },
      { name: 'to', type: 'text' },
      { name: 'value', type: 'number' },
      { name: 'notifier', type: 'text' },
      { name: 'outcome', type: 'text' },
      { name: 'notificationId', type: 'text' },
      { name: 'message', type: 'text' },
    ],
    read,
    toRow: (entry) => ({
      id: entry.id,
      at: entry.at,
      kind: entry.kind,
      rule: entry.rule,
      fingerprint: entry.fingerprint,
      labels: entry.labels,
      from: entry.from,
      to: entry.to,
      value: entry.value,
      notifier: entry.notifier,
      outcome: entry.outcome,
      notificationId: entry.notificationId,
      message: entry.message,
    }),
  });
}
