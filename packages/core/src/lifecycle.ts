import { createHash, type Hash } from 'node:crypto';
import type { Interaction } from './interaction.js';
import type { ScanOptions, TimeRange } from './types.js';

/**
 * Contracts between the tiers that data moves through as it ages: the hot tier, the warm tier's
 * monthly aggregates and the cold tier's archive. Retention moves data with copy → verify → delete;
 * these interfaces are what it needs from each tier to do that without losing or duplicating a row.
 */

/** A calendar month in UTC, `YYYY-MM`. */
export type MonthKey = string;

/** The month (UTC) an epoch-ms time falls in. */
export function monthOf(epochMs: number): MonthKey {
  const date = new Date(epochMs);
  return `${date.getUTCFullYear()}-${String(date.getUTCMonth() + 1).padStart(2, '0')}`;
}

/** `[start, end)` of a month, in epoch ms. */
export function monthRange(month: MonthKey): { from: number; to: number } {
  const match = /^(\d{4})-(\d{2})$/.exec(month);
  const monthIndex = match ? Number(match[2]) - 1 : -1;
  if (!match || monthIndex < 0 || monthIndex > 11) throw new TypeError(`month must be YYYY-MM, got ${JSON.stringify(month)}`);
  const year = Number(match[1]);
  return { from: Date.UTC(year, monthIndex, 1), to: Date.UTC(year, monthIndex + 1, 1) };
}

/**
 * The one way an interaction is written as a line in an archive and hashed: `JSON.stringify` of the
 * object as a tier returns it. A tier returns keys in a fixed order, so the same rows give the same
 * bytes in every tier, and a checksum taken while copying can be compared with one taken after.
 */
export function interactionLine(interaction: Interaction): string {
  return JSON.stringify(interaction);
}

/** A running SHA-256 over interaction lines (`interactionLine` + `\n` each), in the order given. */
export class InteractionDigest {
  private readonly hash: Hash = createHash('sha256');
  rows = 0;

  add(interactions: Iterable<Interaction>): this {
    for (const interaction of interactions) {
      this.hash.update(interactionLine(interaction));
      this.hash.update('\n');
      this.rows += 1;
    }
    return this;
  }

  /** Hex digest; the digest can be read once. */
  hex(): string {
    return this.hash.digest('hex');
  }
}

/** One archive partition: an immutable, checksummed file of raw interactions from one month. */
export interface ArchivePartition {
  /** Unique within the archive, chosen by the writer (retention uses the month and the hot-tier rows it holds). */
  id: string;
  month: MonthKey;
  rows: number;
  /** Size of the stored (compressed) file. */
  bytes: number;
  /** SHA-256 of the stored file, hex. */
  fileSha256: string;
  /** `InteractionDigest` of the rows, in the order stored. */
  rowsSha256: string;
  firstTimestamp: number | null;
  lastTimestamp: number | null;
  /** Epoch ms. */
  createdAt: number;
}

export interface PartitionVerification {
  id: string;
  ok: boolean;
  /** What is wrong, naming the file and the check that failed, when not ok. */
  problem?: string;
}

/** The cold tier's archive of raw interactions, as retention and erasure use it. */
export interface InteractionArchive {
  /**
   * Stores the rows as one partition, atomically: nobody ever sees part of it. Writing an `id` that
   * already exists with the same rows is a no-op returning the stored entry (so a retried move is
   * safe); with different rows it fails.
   */
  writePartition(id: string, month: MonthKey, rows: AsyncIterable<Interaction[]> | Iterable<Interaction[]>, options?: { signal?: AbortSignal }): Promise<ArchivePartition>;
  listPartitions(filter?: { month?: MonthKey; range?: TimeRange }): Promise<ArchivePartition[]>;
  /** Checks the file against its manifest entry: size, both checksums and the row count. */
  verifyPartition(id: string): Promise<PartitionVerification>;
  /** The rows of a verified partition, in stored order; a partition that fails verification throws before any row is yielded. */
  readPartition(id: string, options?: ScanOptions): AsyncIterable<Interaction[]>;
  deletePartition(id: string): Promise<void>;
}

/** The warm tier's monthly aggregates, fed from archived rows before they leave the hot tier. */
export interface MonthlyAggregateStore {
  /**
   * Adds the aggregates of these rows under `sourceId` (an archive partition id) in one transaction.
   * A `sourceId` already applied changes nothing and returns `applied: false`, so a move retried
   * after a crash never counts rows twice.
   */
  addRows(sourceId: string, rows: AsyncIterable<Interaction[]> | Iterable<Interaction[]>, options?: { signal?: AbortSignal }): Promise<{ applied: boolean; rows: number }>;
  hasSource(sourceId: string): Promise<boolean>;
  /** Months that hold aggregates, oldest first. */
  months(): Promise<MonthKey[]>;
  /** Removes aggregates of months before `month` (retention); returns months removed. */
  expireBefore(month: MonthKey): Promise<number>;
}
