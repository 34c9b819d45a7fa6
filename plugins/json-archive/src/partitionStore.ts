import { open, readdir, rename, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { StorageError, monthRange, type Interaction, type MonthKey, type PartitionVerification, type TimeRange } from '@strata/core';
import {
  ARCHIVE_NAME,
  ArchiveCorruptError,
  PartitionConflictError,
  PartitionNotFoundError,
  archiveWriteError,
} from './archiveErrors.js';
import {
  LOCK_FILE,
  PARTITION_SUFFIX,
  SUMMARIES_DIR,
  TEMP_PREFIX,
  checkMonth,
  checkPartitionId,
  monthDir,
  monthFromDirNames,
  partitionFileName,
  tempFileName,
  tempFileOwner,
} from './archiveLayout.js';
import { ArchiveLock, isProcessAlive } from './archiveLock.js';
import { ensureDirectory, removeQuietly, syncDirectory } from './durableFile.js';
import { readMonthManifest, writeMonthManifest, type StoredPartition } from './monthManifest.js';
import { checkStoredBytes, checkStoredRows, corruptPartition, readStoredRows, type ReadRowsOptions } from './partitionReader.js';
import { digestRows, writePartitionFile, type PartitionFileFacts, type RowBatches } from './partitionWriter.js';

/**
 * A durable step of a change, reported to `onWriteStep` as it completes: the temp file is written
 * and synced; it is renamed to its final name; the manifest that makes it visible is committed; a
 * rewrite's previous file is removed. Crash tests stop the process at each step.
 */
export type WriteStep = 'temp-synced' | 'renamed' | 'committed' | 'old-file-removed';

export interface PartitionStoreOptions {
  dir: string;
  gzipLevel: number;
  lockTimeoutMs: number;
  now: () => number;
  onWriteStep?: ((step: WriteStep, partitionId: string) => void) | undefined;
}

/** What opening the archive cleaned up after an earlier crash. */
export interface RecoveryReport {
  /** Temp files of writers that are no longer running (a write that never committed). */
  removedTempFiles: string[];
  /** Partition files no manifest names: renamed into place but never committed, or replaced by a rewrite. */
  removedOrphans: string[];
  /** Why recovery did not run, when it did not (another process held the lock: it is alive and its files are its own). */
  skipped?: string;
  /** Months whose manifest could not be read; nothing in them was touched. */
  unreadableMonths: string[];
}

/** Facts about the whole archive read from manifests and `stat`, without reading partitions. */
export interface ArchiveInventory {
  months: MonthKey[];
  partitions: number;
  rows: number;
  bytes: number;
  problems: string[];
}

const DEFAULT_BATCH = 1_000;

/**
 * The archive's files: per-month manifests (the commit point: a partition exists once its month's
 * manifest names it), immutable partition files, and the lock that serialises commits. Internal:
 * `JsonArchive` is the public face, `JsonArchiveTier` the storage tier.
 */
export class PartitionStore {
  readonly dir: string;
  readonly gzipLevel: number;
  readonly lock: ArchiveLock;
  recovery: RecoveryReport = { removedTempFiles: [], removedOrphans: [], unreadableMonths: [] };
  private readonly now: () => number;
  private readonly onWriteStep: PartitionStoreOptions['onWriteStep'];
  private closed = false;

  private constructor(options: PartitionStoreOptions) {
    this.dir = options.dir;
    this.gzipLevel = options.gzipLevel;
    this.now = options.now;
    this.onWriteStep = options.onWriteStep;
    this.lock = new ArchiveLock(join(options.dir, LOCK_FILE), options.lockTimeoutMs);
  }

  /** Creates the directory when needed and cleans up what a crashed writer left (see `RecoveryReport`). */
  static async open(options: PartitionStoreOptions): Promise<PartitionStore> {
    const store = new PartitionStore(options);
    let recovered: RecoveryReport | undefined;
    try {
      await ensureDirectory(options.dir);
      recovered = await store.lock.tryRun(() => store.recover());
    } catch (error) {
      throw archiveWriteError(error, 'opening the archive directory', options.dir);
    }
    store.recovery = recovered ?? { removedTempFiles: [], removedOrphans: [], unreadableMonths: [], skipped: 'another process holds the archive lock' };
    return store;
  }

  assertOpen(): void {
    if (this.closed) throw new StorageError(`${ARCHIVE_NAME}: the archive at ${this.dir} is closed`);
  }

  /** Waits for commits in flight, then refuses new work. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.lock.idle();
  }

  /** Months with a directory, oldest first. */
  async months(): Promise<MonthKey[]> {
    const months: MonthKey[] = [];
    for (const year of await listDir(this.dir)) {
      if (!/^\d{4}$/.test(year)) continue;
      for (const month of await listDir(join(this.dir, year))) {
        const key = monthFromDirNames(year, month);
        if (key) months.push(key);
      }
    }
    return months.sort();
  }

  /**
   * Manifest entries, by month then id. A range keeps partitions holding a row in it (an empty
   * partition: whose month overlaps it), and reads only the manifests of the months it touches.
   */
  async entries(filter: { month?: MonthKey; range?: TimeRange } = {}): Promise<StoredPartition[]> {
    this.assertOpen();
    let months = filter.month === undefined ? await this.months() : [checkMonth(filter.month, 'filter.month')];
    const range = filter.range;
    if (range) months = months.filter((month) => rangesOverlap(monthRange(month), range));
    const out: StoredPartition[] = [];
    for (const month of months) {
      for (const entry of await readMonthManifest(this.dir, month)) {
        if (!range || entryOverlaps(entry, range)) out.push(entry);
      }
    }
    return out;
  }

  async find(id: string): Promise<StoredPartition | undefined> {
    const lower = id.toLowerCase();
    return (await this.entries()).find((entry) => entry.id.toLowerCase() === lower);
  }

  path(entry: StoredPartition): string {
    return join(monthDir(this.dir, entry.month), entry.file);
  }

  /** Stores rows as a new partition, or returns the stored one when the same id holds the same rows. */
  async write(id: string, month: MonthKey, rows: RowBatches, signal?: AbortSignal): Promise<StoredPartition> {
    this.assertOpen();
    checkPartitionId(id);
    checkMonth(month);
    const existing = await this.find(id);
    if (existing) {
      // A retried move: compare the rows' digest with the stored one without writing anything.
      const digest = await digestRows(month, rows, signal);
      return sameOrConflict(existing, id, month, digest);
    }
    const dir = monthDir(this.dir, month);
    const temp = join(dir, tempFileName(PARTITION_SUFFIX));
    let facts: PartitionFileFacts;
    try {
      await ensureDirectory(dir);
      facts = await writePartitionFile(temp, month, rows, { gzipLevel: this.gzipLevel, signal });
    } catch (error) {
      await removeQuietly(temp);
      throw archiveWriteError(error, `writing partition "${id}"`, temp);
    }
    this.step('temp-synced', id);
    return this.commit(id, async () => {
      this.assertOpen();
      const clash = await this.find(id);
      if (clash) {
        await removeQuietly(temp);
        return sameOrConflict(clash, id, month, facts);
      }
      const entry: StoredPartition = { id, month, ...facts, createdAt: this.now(), file: partitionFileName(id, 0), generation: 0 };
      const final = this.path(entry);
      await rename(temp, final);
      await syncDirectory(dir);
      this.step('renamed', id);
      try {
        await writeMonthManifest(this.dir, month, [...(await readMonthManifest(this.dir, month)), entry]);
      } catch (error) {
        await removeQuietly(final);
        throw error;
      }
      this.step('committed', id);
      return entry;
    }, temp);
  }

  /**
   * Replaces a partition with the rows `keep` accepts, as a new file with new checksums, committed
   * atomically; nothing changes when every row is kept. Returns the entry now stored and rows removed.
   */
  async rewrite(id: string, keep: (row: Interaction) => boolean, signal?: AbortSignal): Promise<{ entry: StoredPartition; removed: number }> {
    this.assertOpen();
    checkPartitionId(id);
    const entry = await this.find(id);
    if (!entry || entry.id !== id) throw new PartitionNotFoundError(id, this.dir);
    const dir = monthDir(this.dir, entry.month);
    const temp = join(dir, tempFileName(PARTITION_SUFFIX));
    let removed = 0;
    let facts: PartitionFileFacts;
    try {
      // The reader gets no signal (it would end quietly); the writer aborts, so a partial copy is never committed.
      const kept = filterBatches(this.read(entry, { batchSize: DEFAULT_BATCH }), (row) => {
        const keepRow = keep(row);
        if (!keepRow) removed += 1;
        return keepRow;
      });
      facts = await writePartitionFile(temp, entry.month, kept, { gzipLevel: this.gzipLevel, signal });
    } catch (error) {
      await removeQuietly(temp);
      throw archiveWriteError(error, `rewriting partition "${id}"`, temp);
    }
    if (removed === 0) {
      await removeQuietly(temp);
      return { entry, removed: 0 };
    }
    this.step('temp-synced', id);
    const replaced = await this.commit(id, async () => {
      this.assertOpen();
      const current = await this.find(id);
      if (!current || current.fileSha256 !== entry.fileSha256 || current.generation !== entry.generation) {
        await removeQuietly(temp);
        throw new StorageError(`${ARCHIVE_NAME}: partition "${id}" was changed or deleted by another writer while it was being rewritten; run the operation again`);
      }
      const generation = entry.generation + 1;
      const next: StoredPartition = { id, month: entry.month, ...facts, createdAt: this.now(), file: partitionFileName(id, generation), generation };
      const final = this.path(next);
      await rename(temp, final);
      await syncDirectory(dir);
      this.step('renamed', id);
      const others = (await readMonthManifest(this.dir, entry.month)).filter((candidate) => candidate.id !== id);
      try {
        await writeMonthManifest(this.dir, entry.month, [...others, next]);
      } catch (error) {
        await removeQuietly(final);
        throw error;
      }
      this.step('committed', id);
      await removeQuietly(this.path(entry));
      await syncDirectory(dir);
      this.step('old-file-removed', id);
      return next;
    }, temp);
    return { entry: replaced, removed };
  }

  /** Removes a partition: the manifest first (the commit), then its file. Unknown ids are a no-op. */
  async remove(id: string): Promise<StoredPartition | undefined> {
    this.assertOpen();
    checkPartitionId(id);
    return this.commit(id, async () => {
      this.assertOpen();
      const entry = await this.find(id);
      if (!entry || entry.id !== id) return undefined;
      const others = (await readMonthManifest(this.dir, entry.month)).filter((candidate) => candidate.id !== id);
      await writeMonthManifest(this.dir, entry.month, others);
      this.step('committed', id);
      await removeQuietly(this.path(entry));
      await syncDirectory(monthDir(this.dir, entry.month));
      return entry;
    });
  }

  /** Every check of the file against its entry: size, file SHA-256, gzip integrity, row count, rows SHA-256. */
  async verify(entry: StoredPartition): Promise<PartitionVerification> {
    this.assertOpen();
    let opened: { handle: FileHandle; entry: StoredPartition; path: string };
    try {
      opened = await this.openFile(entry);
    } catch (error) {
      if (error instanceof ArchiveCorruptError || error instanceof PartitionNotFoundError) return { id: entry.id, ok: false, problem: error.message };
      throw error;
    }
    try {
      await checkStoredBytes(opened.handle, opened.entry, opened.path);
      await checkStoredRows(opened.handle, opened.entry, opened.path);
      return { id: entry.id, ok: true };
    } catch (error) {
      if (error instanceof ArchiveCorruptError) return { id: entry.id, ok: false, problem: error.message };
      throw error;
    } finally {
      await opened.handle.close();
    }
  }

  /**
   * The rows of a partition in stored order. The file's size and SHA-256 are checked before the
   * first row is yielded (the file is then byte for byte the one committed); count and rows digest
   * are checked as it is decompressed. Stops quietly when the signal aborts.
   */
  async *read(entry: StoredPartition, options: Partial<ReadRowsOptions> = {}): AsyncGenerator<Interaction[]> {
    this.assertOpen();
    const batchSize = Math.max(1, Math.trunc(options.batchSize ?? DEFAULT_BATCH));
    const opened = await this.openFile(entry);
    try {
      await checkStoredBytes(opened.handle, opened.entry, opened.path);
      yield* readStoredRows(opened.handle, opened.entry, opened.path, { batchSize, signal: options.signal });
    } finally {
      await opened.handle.close();
    }
  }

  /** Runs `task` holding the archive lock, so no commit happens meanwhile (backups). */
  async exclusive<T>(task: () => Promise<T>): Promise<T> {
    this.assertOpen();
    return this.lock.run(task);
  }

  /** Manifests and file sizes of the whole archive, without reading partitions. */
  async inventory(): Promise<ArchiveInventory> {
    const inventory: ArchiveInventory = { months: await this.months(), partitions: 0, rows: 0, bytes: 0, problems: [] };
    for (const month of inventory.months) {
      let entries: StoredPartition[];
      try {
        entries = await readMonthManifest(this.dir, month);
      } catch (error) {
        inventory.problems.push((error as Error).message);
        continue;
      }
      for (const entry of entries) {
        inventory.partitions += 1;
        inventory.rows += entry.rows;
        inventory.bytes += entry.bytes;
        const path = this.path(entry);
        try {
          const { size } = await stat(path);
          if (size !== entry.bytes) inventory.problems.push(`partition "${entry.id}" (${path}) is ${size} bytes, the manifest says ${entry.bytes}`);
        } catch {
          inventory.problems.push(`partition "${entry.id}" (${path}) is missing`);
        }
      }
    }
    return inventory;
  }

  /**
   * Opens an entry's file. A rewrite may replace the file between reading the manifest and opening
   * it; the entry is then looked up again once, so a reader follows the committed version.
   */
  private async openFile(entry: StoredPartition): Promise<{ handle: FileHandle; entry: StoredPartition; path: string }> {
    const path = this.path(entry);
    try {
      return { handle: await open(path, 'r'), entry, path };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const latest = await this.find(entry.id);
    if (!latest || latest.id !== entry.id) throw new PartitionNotFoundError(entry.id, this.dir);
    if (latest.file !== entry.file) {
      const latestPath = this.path(latest);
      try {
        return { handle: await open(latestPath, 'r'), entry: latest, path: latestPath };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        throw corruptPartition(latest, latestPath, 'the file is missing');
      }
    }
    throw corruptPartition(entry, path, 'the file is missing');
  }

  /** Runs a commit under the lock; file-system errors are explained, and the temp file (if any) never outlives a failure. */
  private async commit<T>(id: string, task: () => Promise<T>, temp?: string): Promise<T> {
    try {
      return await this.lock.run(task);
    } catch (error) {
      if (temp) await removeQuietly(temp);
      throw archiveWriteError(error, `committing partition "${id}"`, this.dir);
    }
  }

  private step(step: WriteStep, id: string): void {
    this.onWriteStep?.(step, id);
  }

  /** Removes temp files of dead writers and partition files no manifest names. Runs under the lock. */
  private async recover(): Promise<RecoveryReport> {
    const report: RecoveryReport = { removedTempFiles: [], removedOrphans: [], unreadableMonths: [] };
    const removeTemps = async (dir: string, names: string[]): Promise<boolean> => {
      let removed = false;
      for (const name of names) {
        if (!name.startsWith(TEMP_PREFIX)) continue;
        const owner = tempFileOwner(name);
        if (owner !== undefined && isProcessAlive(owner)) continue;
        await removeQuietly(join(dir, name));
        report.removedTempFiles.push(join(dir, name));
        removed = true;
      }
      return removed;
    };
    for (const dir of [this.dir, join(this.dir, SUMMARIES_DIR)]) {
      if (await removeTemps(dir, await listDir(dir))) await syncDirectory(dir);
    }
    for (const month of await this.months()) {
      const dir = monthDir(this.dir, month);
      const names = await listDir(dir);
      let changed = await removeTemps(dir, names);
      let entries: StoredPartition[];
      try {
        entries = await readMonthManifest(this.dir, month);
      } catch {
        report.unreadableMonths.push(month);
        continue;
      }
      const named = new Set(entries.map((entry) => entry.file));
      for (const name of names) {
        if (name.startsWith(TEMP_PREFIX) || !name.endsWith(PARTITION_SUFFIX) || named.has(name)) continue;
        await removeQuietly(join(dir, name));
        report.removedOrphans.push(join(dir, name));
        changed = true;
      }
      if (changed) await syncDirectory(dir);
    }
    return report;
  }
}

function sameOrConflict(existing: StoredPartition, id: string, month: MonthKey, digest: { rows: number; rowsSha256: string }): StoredPartition {
  if (existing.id !== id) throw new PartitionConflictError(id, `as "${existing.id}", which differs only in letter case (file names may not tell them apart)`);
  if (existing.month !== month) throw new PartitionConflictError(id, `in month ${existing.month}, not ${month}`);
  if (existing.rowsSha256 !== digest.rowsSha256 || existing.rows !== digest.rows) {
    throw new PartitionConflictError(id, `with different rows (${existing.rows} stored, ${digest.rows} given; rowsSha256 ${existing.rowsSha256.slice(0, 12)}… vs ${digest.rowsSha256.slice(0, 12)}…)`);
  }
  return existing;
}

async function* filterBatches(batches: AsyncIterable<Interaction[]>, keep: (row: Interaction) => boolean): AsyncGenerator<Interaction[]> {
  for await (const batch of batches) {
    const kept = batch.filter(keep);
    if (kept.length > 0) yield kept;
  }
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

export function rangesOverlap(span: { from: number; to: number }, range: TimeRange): boolean {
  return (range.from === undefined || span.to > range.from) && (range.to === undefined || span.from < range.to);
}

/** True when a partition holds a row in the range (an empty one: when its month overlaps the range). */
export function entryOverlaps(entry: StoredPartition, range: TimeRange): boolean {
  if (entry.firstTimestamp === null || entry.lastTimestamp === null) return rangesOverlap(monthRange(entry.month), range);
  return (range.from === undefined || entry.lastTimestamp >= range.from) && (range.to === undefined || entry.firstTimestamp < range.to);
}

/** True when every row of a partition is in the range (an empty one: when its whole month is). */
export function entryWithin(entry: StoredPartition, range: TimeRange): boolean {
  const span =
    entry.firstTimestamp === null || entry.lastTimestamp === null
      ? { first: monthRange(entry.month).from, last: monthRange(entry.month).to - 1 }
      : { first: entry.firstTimestamp, last: entry.lastTimestamp };
  return (range.from === undefined || span.first >= range.from) && (range.to === undefined || span.last < range.to);
}

