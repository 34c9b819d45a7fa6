import {
  InteractionDigest,
  monthOf,
  type ArchivePartition,
  type Interaction,
  type InteractionArchive,
  type MonthKey,
  type MonthlyAggregateStore,
  type PartitionVerification,
  type ScanOptions,
  type TimeRange,
} from '@strata/core';

/**
 * In-memory implementations of the archive and aggregate contracts, for tests that need to break
 * them on purpose (a wrong checksum, a failed verification). Same semantics as the contracts:
 * a partition appears whole or not at all; a source id is applied once.
 */
export class MemoryArchive implements InteractionArchive {
  readonly partitions = new Map<string, { entry: ArchivePartition; rows: Interaction[] }>();
  /** Make `verifyPartition` fail for these ids. */
  readonly failVerification = new Set<string>();
  /** Report a wrong rowsSha256 from `writePartition`. */
  lieAboutChecksum = false;

  async writePartition(id: string, month: MonthKey, rows: AsyncIterable<Interaction[]> | Iterable<Interaction[]>): Promise<ArchivePartition> {
    const collected: Interaction[] = [];
    for await (const batch of rows) collected.push(...batch.map((row) => structuredClone(row)));
    const rowsSha256 = new InteractionDigest().add(collected).hex();
    const existing = this.partitions.get(id);
    if (existing) {
      if (existing.entry.rowsSha256 !== rowsSha256) throw new Error(`partition ${id} exists with different rows`);
      return existing.entry;
    }
    const bytes = collected.reduce((sum, row) => sum + JSON.stringify(row).length + 1, 0);
    const entry: ArchivePartition = {
      id,
      month,
      rows: collected.length,
      bytes: Math.ceil(bytes / 10),
      fileSha256: rowsSha256,
      rowsSha256: this.lieAboutChecksum ? '0'.repeat(64) : rowsSha256,
      firstTimestamp: collected[0]?.timestamp ?? null,
      lastTimestamp: collected.at(-1)?.timestamp ?? null,
      createdAt: 0,
    };
    this.partitions.set(id, { entry, rows: collected });
    return entry;
  }

  async listPartitions(filter: { month?: MonthKey; range?: TimeRange } = {}): Promise<ArchivePartition[]> {
    return [...this.partitions.values()].map((partition) => partition.entry).filter((entry) => filter.month === undefined || entry.month === filter.month);
  }

  async verifyPartition(id: string): Promise<PartitionVerification> {
    if (!this.partitions.has(id)) return { id, ok: false, problem: `no partition ${id}` };
    if (this.failVerification.has(id)) return { id, ok: false, problem: `partition ${id}: checksum mismatch (test)` };
    return { id, ok: true };
  }

  async *readPartition(id: string, options: ScanOptions = {}): AsyncIterable<Interaction[]> {
    const partition = this.partitions.get(id);
    if (!partition) throw new Error(`no partition ${id}`);
    if (this.failVerification.has(id)) throw new Error(`partition ${id} fails verification`);
    const size = options.batchSize ?? 1_000;
    for (let start = 0; start < partition.rows.length; start += size) yield partition.rows.slice(start, start + size);
  }

  async deletePartition(id: string): Promise<void> {
    this.partitions.delete(id);
    this.failVerification.delete(id);
  }

  /** Every archived event id, with how many partitions hold it. */
  archivedIds(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const { rows } of this.partitions.values()) for (const row of rows) counts.set(row.eventId, (counts.get(row.eventId) ?? 0) + 1);
    return counts;
  }
}

/** Counts per month (interactions, successes) fed by `addRows`, once per source. */
export class MemoryAggregates implements MonthlyAggregateStore {
  readonly sources = new Set<string>();
  readonly byMonth = new Map<MonthKey, { interactions: number; successes: number }>();
  addRowsCalls = 0;

  async addRows(sourceId: string, rows: AsyncIterable<Interaction[]> | Iterable<Interaction[]>): Promise<{ applied: boolean; rows: number }> {
    this.addRowsCalls += 1;
    if (this.sources.has(sourceId)) return { applied: false, rows: 0 };
    const delta = new Map<MonthKey, { interactions: number; successes: number }>();
    let count = 0;
    for await (const batch of rows) {
      for (const row of batch) {
        const month = monthOf(row.timestamp);
        const totals = delta.get(month) ?? { interactions: 0, successes: 0 };
        totals.interactions += 1;
        totals.successes += row.success ? 1 : 0;
        delta.set(month, totals);
        count += 1;
      }
    }
    for (const [month, totals] of delta) {
      const current = this.byMonth.get(month) ?? { interactions: 0, successes: 0 };
      this.byMonth.set(month, { interactions: current.interactions + totals.interactions, successes: current.successes + totals.successes });
    }
    this.sources.add(sourceId);
    return { applied: true, rows: count };
  }

  async hasSource(sourceId: string): Promise<boolean> {
    return this.sources.has(sourceId);
  }

  async months(): Promise<MonthKey[]> {
    return [...this.byMonth.keys()].sort();
  }

  async expireBefore(month: MonthKey): Promise<number> {
    let removed = 0;
    for (const key of [...this.byMonth.keys()]) {
      if (key < month) {
        this.byMonth.delete(key);
        removed += 1;
      }
    }
    return removed;
  }
}
