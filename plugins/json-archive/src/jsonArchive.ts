import { resolve } from 'node:path';
import type {
  ArchivePartition,
  Interaction,
  InteractionArchive,
  MonthKey,
  PartitionVerification,
  ScanOptions,
  TierBackup,
  TimeRange,
} from '@strata/core';
import { ArchiveInputError, PartitionNotFoundError } from './archiveErrors.js';
import { checkPartitionId } from './archiveLayout.js';
import { backupArchive } from './archiveBackup.js';
import { exportCompliance, type ComplianceExportManifest, type ComplianceExportOptions } from './complianceExport.js';
import { publicPartition } from './monthManifest.js';
import { PartitionStore, type RecoveryReport, type WriteStep } from './partitionStore.js';
import type { RowBatches } from './partitionWriter.js';
import { summarizeYear, type YearSummary } from './yearlySummary.js';

export const DEFAULT_GZIP_LEVEL = 6;
export const DEFAULT_LOCK_TIMEOUT_MS = 30_000;

export interface JsonArchiveOptions {
  /** The archive directory (created when missing); relative paths resolve from the working directory. */
  dir: string;
  /** Gzip level of partition files, 1 (fastest) to 9 (smallest). Default 6. */
  gzipLevel?: number;
  /** How long a change waits for another process that holds the archive lock. Default 30 s. */
  lockTimeoutMs?: number;
  /** Clock for `createdAt`. Default `Date.now`. */
  now?: () => number;
  /**
   * Called as each durable step of a change completes (temp file synced, renamed, manifest
   * committed, a rewrite's old file removed): for tracing, and for crash tests that stop the process there.
   */
  onWriteStep?: (step: WriteStep, partitionId: string) => void;
}

const stores = new WeakMap<JsonArchive, PartitionStore>();

/** The store behind an archive, for the cold tier built on it. Not part of the public API. */
export function partitionStoreOf(archive: JsonArchive): PartitionStore {
  return stores.get(archive)!;
}

function checkOptions(options: JsonArchiveOptions): Required<Omit<JsonArchiveOptions, 'onWriteStep'>> & Pick<JsonArchiveOptions, 'onWriteStep'> {
  if (typeof options?.dir !== 'string' || options.dir.trim() === '') throw new ArchiveInputError('dir', 'must be the path of the archive directory');
  const gzipLevel = options.gzipLevel ?? DEFAULT_GZIP_LEVEL;
  if (!Number.isInteger(gzipLevel) || gzipLevel < 1 || gzipLevel > 9) throw new ArchiveInputError('gzipLevel', `must be an integer from 1 to 9, got ${JSON.stringify(options.gzipLevel)}`);
  const lockTimeoutMs = options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
  if (!Number.isInteger(lockTimeoutMs) || lockTimeoutMs < 0) throw new ArchiveInputError('lockTimeoutMs', `must be a whole number of milliseconds (0 or more), got ${JSON.stringify(options.lockTimeoutMs)}`);
  return { dir: resolve(options.dir), gzipLevel, lockTimeoutMs, now: options.now ?? Date.now, onWriteStep: options.onWriteStep };
}

/**
 * The cold tier's archive: raw interactions as gzip JSONL partitions by month, with per-month
 * manifests holding each partition's row count and checksums. Implements `InteractionArchive`
 * (what retention and erasure use), plus rewrites, yearly summaries, compliance exports and backups.
 */
export class JsonArchive implements InteractionArchive {
  private readonly now: () => number;

  private constructor(store: PartitionStore, now: () => number) {
    stores.set(this, store);
    this.now = now;
  }

  /** Opens (creating when needed) the archive and cleans up after a crashed writer (see `recovery`). */
  static async open(options: JsonArchiveOptions): Promise<JsonArchive> {
    const checked = checkOptions(options);
    const store = await PartitionStore.open({
      dir: checked.dir,
      gzipLevel: checked.gzipLevel,
      lockTimeoutMs: checked.lockTimeoutMs,
      now: checked.now,
      onWriteStep: checked.onWriteStep,
    });
    return new JsonArchive(store, checked.now);
  }

  /** Absolute path of the archive directory. */
  get dir(): string {
    return partitionStoreOf(this).dir;
  }

  /** What opening removed: temp files of dead writers, and partition files no manifest names (never committed). */
  get recovery(): RecoveryReport {
    return partitionStoreOf(this).recovery;
  }

  async writePartition(id: string, month: MonthKey, rows: RowBatches, options: { signal?: AbortSignal } = {}): Promise<ArchivePartition> {
    return publicPartition(await partitionStoreOf(this).write(id, month, rows, options.signal));
  }

  async listPartitions(filter: { month?: MonthKey; range?: TimeRange } = {}): Promise<ArchivePartition[]> {
    return (await partitionStoreOf(this).entries(filter)).map(publicPartition);
  }

  /** Checks size, file SHA-256, the gzip stream, row count and rows SHA-256. An unknown id reports `ok: false`. */
  async verifyPartition(id: string): Promise<PartitionVerification> {
    const store = partitionStoreOf(this);
    checkPartitionId(id);
    const entry = await store.find(id);
    if (!entry || entry.id !== id) return { id, ok: false, problem: `json-archive: no partition "${id}" in ${store.dir}` };
    return store.verify(entry);
  }

  /**
   * The rows in stored order, in batches of `batchSize` (default 1,000). Throws
   * `STRATA_ARCHIVE_CORRUPT` before the first row when the file differs from its manifest entry,
   * `STRATA_NOT_FOUND` for an unknown id. Stops quietly when the signal aborts.
   */
  async *readPartition(id: string, options: ScanOptions = {}): AsyncIterable<Interaction[]> {
    const store = partitionStoreOf(this);
    checkPartitionId(id);
    const entry = await store.find(id);
    if (!entry || entry.id !== id) throw new PartitionNotFoundError(id, store.dir);
    yield* store.read(entry, options);
  }

  /** Removes a partition (manifest first, then the file). Deleting an id that is not stored does nothing. */
  async deletePartition(id: string): Promise<void> {
    await partitionStoreOf(this).remove(id);
  }

  /**
   * Rewrites a partition keeping only the rows `keep` accepts (erasure of a subject, a range delete):
   * a new file with new checksums, committed atomically under the same id; the old file is removed
   * after the commit. A partition left with no rows stays, empty. Nothing changes when every row is kept.
   */
  async rewritePartition(id: string, keep: (row: Interaction) => boolean, options: { signal?: AbortSignal } = {}): Promise<{ partition: ArchivePartition; removed: number }> {
    const { entry, removed } = await partitionStoreOf(this).rewrite(id, keep, options.signal);
    return { partition: publicPartition(entry), removed };
  }

  /** Writes `summaries/YYYY.json` from the year's partitions (each verified as it is read) and returns it. */
  async summarizeYear(year: number): Promise<YearSummary> {
    const store = partitionStoreOf(this);
    store.assertOpen();
    return summarizeYear(store, year, this.now());
  }

  /** Streams matching rows to a JSONL file (gzip optional) with a manifest an auditor can check; see `ComplianceExportManifest`. */
  async exportCompliance(options: ComplianceExportOptions): Promise<ComplianceExportManifest> {
    const store = partitionStoreOf(this);
    store.assertOpen();
    return exportCompliance(store, options, this.now());
  }

  /** Copies partition files (verified against the manifest), manifests and summaries into `targetDir/<archive dir name>/`. */
  async backup(targetDir: string, options: { signal?: AbortSignal } = {}): Promise<TierBackup> {
    if (typeof targetDir !== 'string' || targetDir.trim() === '') throw new ArchiveInputError('targetDir', 'must be the path of the backup directory');
    return backupArchive(partitionStoreOf(this), resolve(targetDir), options.signal);
  }

  /** Waits for changes in flight and closes. Idempotent. */
  async close(): Promise<void> {
    await partitionStoreOf(this).close();
  }
}
