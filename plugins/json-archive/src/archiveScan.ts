import type { Interaction, TimeRange } from '@strata/core';
import type { StoredPartition } from './monthManifest.js';
import { entryOverlaps, type PartitionStore } from './partitionStore.js';

export interface ArchiveScanOptions {
  batchSize?: number;
  signal?: AbortSignal | undefined;
  /** Keeps only rows it accepts (role, query type, session…). */
  match?: ((row: Interaction) => boolean) | undefined;
  /** Called for each row yielded, with the partition it came from (compliance exports count rows per source). */
  onRow?: ((row: Interaction, entry: StoredPartition) => void) | undefined;
}

interface SourcedRow {
  row: Interaction;
  entry: StoredPartition;
}

/**
 * Every row of the given partitions inside `range`, oldest first, in batches. Partitions whose
 * time spans do not overlap are read one after another; overlapping ones are merged as they stream
 * (ties keep partition order, so the order is the same on every run). A partition whose rows were
 * not stored in time order has its rows in the range sorted in memory: the one case that holds more
 * than a batch. Stops quietly when the signal aborts.
 */
export async function* scanArchive(store: PartitionStore, entries: readonly StoredPartition[], range: TimeRange, options: ArchiveScanOptions = {}): AsyncGenerator<Interaction[]> {
  const batchSize = Math.max(1, Math.trunc(options.batchSize ?? 1_000));
  const candidates = entries
    .filter((entry) => entry.rows > 0 && entryOverlaps(entry, range))
    .sort((a, b) => a.firstTimestamp! - b.firstTimestamp! || (a.month < b.month ? -1 : a.month > b.month ? 1 : 0) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  let batch: Interaction[] = [];
  for (const cluster of overlappingClusters(candidates)) {
    for await (const { row, entry } of mergeCluster(store, cluster, range)) {
      if (options.signal?.aborted) return;
      if (options.match && !options.match(row)) continue;
      options.onRow?.(row, entry);
      batch.push(row);
      if (batch.length >= batchSize) {
        yield batch;
        batch = [];
      }
    }
  }
  if (batch.length > 0 && !options.signal?.aborted) yield batch;
}

/** Groups partitions (sorted by first timestamp) into runs whose time spans overlap. */
function overlappingClusters(sorted: readonly StoredPartition[]): StoredPartition[][] {
  const clusters: StoredPartition[][] = [];
  let end = -Infinity;
  for (const entry of sorted) {
    if (clusters.length === 0 || entry.firstTimestamp! > end) {
      clusters.push([entry]);
      end = entry.lastTimestamp!;
    } else {
      clusters[clusters.length - 1]!.push(entry);
      end = Math.max(end, entry.lastTimestamp!);
    }
  }
  return clusters;
}

async function* mergeCluster(store: PartitionStore, cluster: readonly StoredPartition[], range: TimeRange): AsyncGenerator<SourcedRow> {
  if (cluster.length === 1 && cluster[0]!.timeOrdered) {
    yield* orderedRows(store, cluster[0]!, range);
    return;
  }
  const cursors = cluster.map((entry) => new RowCursor(entry.timeOrdered ? orderedRows(store, entry, range) : sortedInMemory(store, entry, range)));
  try {
    for (const cursor of cursors) await cursor.advance();
    for (;;) {
      let next: RowCursor | undefined;
      for (const cursor of cursors) {
        if (cursor.head && (!next || cursor.head.row.timestamp < next.head!.row.timestamp)) next = cursor;
      }
      if (!next) return;
      yield next.head!;
      await next.advance();
    }
  } finally {
    for (const cursor of cursors) await cursor.close();
  }
}

/** Rows of a time-ordered partition inside the range; stops reading at the range's end. */
async function* orderedRows(store: PartitionStore, entry: StoredPartition, range: TimeRange): AsyncGenerator<SourcedRow> {
  for await (const batch of store.read(entry)) {
    for (const row of batch) {
      if (range.from !== undefined && row.timestamp < range.from) continue;
      if (range.to !== undefined && row.timestamp >= range.to) return;
      yield { row, entry };
    }
  }
}

async function* sortedInMemory(store: PartitionStore, entry: StoredPartition, range: TimeRange): AsyncGenerator<SourcedRow> {
  const rows: Interaction[] = [];
  for await (const batch of store.read(entry)) {
    for (const row of batch) {
      if ((range.from === undefined || row.timestamp >= range.from) && (range.to === undefined || row.timestamp < range.to)) rows.push(row);
    }
  }
  // Array.prototype.sort is stable: rows with equal timestamps keep their stored order.
  rows.sort((a, b) => a.timestamp - b.timestamp);
  for (const row of rows) yield { row, entry };
}

class RowCursor {
  head: SourcedRow | undefined;

  constructor(private readonly rows: AsyncGenerator<SourcedRow>) {}

  async advance(): Promise<void> {
    const next = await this.rows.next();
    this.head = next.done ? undefined : next.value;
  }

  async close(): Promise<void> {
    await this.rows.return(undefined);
  }
}

