import {
  InteractionDigest,
  StorageError,
  describeError,
  monthOf,
  type Interaction,
  type InteractionQuery,
  type MonthKey,
  type Page,
  type ScanOptions,
  type StorageTier,
  type TierBackup,
  type TierHealth,
  type TimeRange,
  type WriteResult,
  ValidationError,
} from '@strata/core';
import { ARCHIVE_NAME, ArchiveInputError } from './archiveErrors.js';
import { scanArchive } from './archiveScan.js';
import { canonicalInteraction } from './canonicalInteraction.js';
import { JsonArchive, partitionStoreOf, type JsonArchiveOptions } from './jsonArchive.js';
import type { StoredPartition } from './monthManifest.js';
import { entryWithin, type PartitionStore } from './partitionStore.js';

const DEFAULT_PAGE = 1_000;
const MAX_PAGE = 10_000;

/**
 * The cold storage tier over a `JsonArchive`. Reads find the partitions of a range from the
 * manifests and open only those; changes (writes, range deletes, erasure) are new partitions or
 * atomic rewrites of existing ones. Meant for years of rarely read data: every read decompresses
 * whole partitions, so it is for audits, restores and exports, not dashboards.
 */
export class JsonArchiveTier implements StorageTier {
  readonly name = ARCHIVE_NAME;
  readonly role = 'cold' as const;
  /** The archive itself, for retention and erasure (`context.storage('cold').archive`). */
  readonly archive: JsonArchive;
  private readonly store: PartitionStore;
  /** Writes, deletes and erasures run one at a time, so a write's duplicate check sees every earlier write. */
  private changes: Promise<unknown> = Promise.resolve();

  private constructor(archive: JsonArchive) {
    this.archive = archive;
    this.store = partitionStoreOf(archive);
  }

  static async open(options: JsonArchiveOptions): Promise<JsonArchiveTier> {
    return new JsonArchiveTier(await JsonArchive.open(options));
  }

  /**
   * Stores the batch as one new partition per month (id derived from the rows' digest, rows in
   * time order), skipping events whose `eventId` is already archived in that month. Each month's
   * partition is atomic; a batch spanning months that fails half-way is completed by writing it again.
   */
  async writeInteractions(batch: readonly Interaction[]): Promise<WriteResult> {
    this.store.assertOpen();
    if (batch.length === 0) return { inserted: 0, duplicates: 0, duplicateIds: [] };
    const rows = batch.map(canonicalInteraction);
    return this.serially(async () => {
      const duplicateIds: string[] = [];
      const byMonth = new Map<MonthKey, Map<string, Interaction>>();
      for (const row of rows) {
        const month = monthOf(row.timestamp);
        let fresh = byMonth.get(month);
        if (!fresh) byMonth.set(month, (fresh = new Map()));
        if (fresh.has(row.eventId)) duplicateIds.push(row.eventId);
        else fresh.set(row.eventId, row);
      }
      let inserted = 0;
      for (const [month, fresh] of [...byMonth].sort(([a], [b]) => (a < b ? -1 : 1))) {
        const stored = await this.storedEventIds(month, fresh);
        for (const id of stored) {
          fresh.delete(id);
          duplicateIds.push(id);
        }
        if (fresh.size === 0) continue;
        const partitionRows = [...fresh.values()].sort((a, b) => a.timestamp - b.timestamp);
        const digest = new InteractionDigest().add(partitionRows).hex();
        await this.archive.writePartition(`cold-${month}-${digest.slice(0, 32)}`, month, [partitionRows]);
        inserted += partitionRows.length;
      }
      return { inserted, duplicates: duplicateIds.length, duplicateIds };
    });
  }

  async queryInteractions(query: InteractionQuery): Promise<Page<Interaction>> {
    this.store.assertOpen();
    const limit = Math.min(Math.max(1, Math.trunc(query.limit ?? DEFAULT_PAGE)), MAX_PAGE);
    const after = query.cursor ? decodeCursor(query.cursor) : undefined;
    const range: TimeRange = { ...query.range };
    if (after) range.from = Math.max(after.timestamp, range.from ?? -Infinity);
    const match = rowFilter(query);
    let skip = after?.skip ?? 0;
    const items: Interaction[] = [];
    const scan = scanArchive(this.store, await this.store.entries({ range }), range, { batchSize: Math.min(limit + 1, 1_000), match });
    outer: for await (const batch of scan) {
      for (const row of batch) {
        // Rows at the cursor's timestamp already returned are skipped by count: the scan order is stable.
        if (after && skip > 0 && row.timestamp === after.timestamp) {
          skip -= 1;
          continue;
        }
        items.push(row);
        if (items.length > limit) break outer;
      }
    }
    if (items.length <= limit) return { items, nextCursor: null };
    const page = items.slice(0, limit);
    const last = page[page.length - 1]!;
    let atLast = page.filter((row) => row.timestamp === last.timestamp).length;
    if (after && after.timestamp === last.timestamp) atLast += after.skip;
    return { items: page, nextCursor: encodeCursor(last.timestamp, atLast) };
  }

  async *scanInteractions(range: TimeRange, options: ScanOptions = {}): AsyncIterable<Interaction[]> {
    this.store.assertOpen();
    const entries = await this.store.entries({ range });
    for await (const batch of scanArchive(this.store, entries, range, options)) {
      this.store.assertOpen();
      yield batch;
    }
  }

  /** Whole partitions inside the range are counted from the manifest; only those straddling an end are read. */
  async countInteractions(range: TimeRange = {}): Promise<number> {
    let count = 0;
    const straddling: StoredPartition[] = [];
    for (const entry of await this.store.entries({ range })) {
      if (entryWithin(entry, range)) count += entry.rows;
      else straddling.push(entry);
    }
    for await (const batch of scanArchive(this.store, straddling, range)) count += batch.length;
    return count;
  }

  /**
   * Partitions entirely inside the range are dropped from the manifest (their files removed); those
   * straddling an end are rewritten atomically without the rows in the range. Returns rows removed.
   */
  async deleteInteractions(range: TimeRange): Promise<number> {
    this.store.assertOpen();
    return this.serially(async () => {
      let removed = 0;
      for (const entry of await this.store.entries({ range })) {
        if (entryWithin(entry, range)) {
          await this.archive.deletePartition(entry.id);
          removed += entry.rows;
        } else {
          removed += (await this.archive.rewritePartition(entry.id, (row) => !inRange(row.timestamp, range))).removed;
        }
      }
      return removed;
    });
  }

  /** Rewrites each partition holding one of these events without them. Reads every partition: the archive has no event index. */
  async deleteEvents(eventIds: readonly string[]): Promise<number> {
    this.store.assertOpen();
    if (eventIds.length === 0) return 0;
    const doomed = new Set(eventIds);
    return this.removeWhere((row) => doomed.has(row.eventId));
  }

  /** Rewrites each partition holding the session without its rows (new file, new checksums); returns rows removed. */
  async eraseSession(sessionId: string): Promise<number> {
    this.store.assertOpen();
    if (typeof sessionId !== 'string' || sessionId === '') throw new ArchiveInputError('sessionId', 'must be a non-empty string');
    return this.removeWhere((row) => row.sessionId === sessionId);
  }

  async backup(targetDir: string, options: { signal?: AbortSignal } = {}): Promise<TierBackup> {
    this.store.assertOpen();
    return this.archive.backup(targetDir, options);
  }

  /** From the manifests and file sizes only (no partition is read): fast enough to call often. */
  async health(): Promise<TierHealth> {
    const base = { dir: this.store.dir, gzipLevel: this.store.gzipLevel };
    try {
      this.store.assertOpen();
    } catch {
      return { ok: false, details: base, problem: 'closed' };
    }
    try {
      const inventory = await this.store.inventory();
      const details = {
        ...base,
        months: inventory.months.length,
        partitions: inventory.partitions,
        rows: inventory.rows,
        bytes: inventory.bytes,
        recovered: { tempFiles: this.store.recovery.removedTempFiles.length, orphans: this.store.recovery.removedOrphans.length },
      };
      if (inventory.problems.length === 0) return { ok: true, details };
      const more = inventory.problems.length > 5 ? `; and ${inventory.problems.length - 5} more` : '';
      return { ok: false, details, problem: `${inventory.problems.slice(0, 5).join('; ')}${more}; restore from a backup` };
    } catch (error) {
      return { ok: false, details: base, problem: describeError(error) };
    }
  }

  async close(): Promise<void> {
    await this.changes.catch(() => undefined);
    await this.archive.close();
  }

  private async removeWhere(doomed: (row: Interaction) => boolean): Promise<number> {
    return this.serially(async () => {
      let removed = 0;
      for (const entry of await this.store.entries()) {
        if (entry.rows === 0 || !(await this.holdsAny(entry, doomed))) continue;
        removed += (await this.archive.rewritePartition(entry.id, (row) => !doomed(row))).removed;
      }
      return removed;
    });
  }

  /** Reads a partition until a row matches (a cheaper first pass than rewriting every partition). */
  private async holdsAny(entry: StoredPartition, predicate: (row: Interaction) => boolean): Promise<boolean> {
    for await (const batch of this.store.read(entry)) {
      if (batch.some(predicate)) return true;
    }
    return false;
  }

  /** The ids among `candidates` already archived in the month. */
  private async storedEventIds(month: MonthKey, candidates: ReadonlyMap<string, Interaction>): Promise<string[]> {
    const found: string[] = [];
    for (const entry of await this.store.entries({ month })) {
      for await (const batch of this.store.read(entry)) {
        for (const row of batch) if (candidates.has(row.eventId)) found.push(row.eventId);
      }
    }
    return [...new Set(found)];
  }

  private serially<T>(task: () => Promise<T>): Promise<T> {
    const run = this.changes.catch(() => undefined).then(task);
    this.changes = run;
    return run;
  }
}

function inRange(timestamp: number, range: TimeRange): boolean {
  return (range.from === undefined || timestamp >= range.from) && (range.to === undefined || timestamp < range.to);
}

function rowFilter(query: InteractionQuery): ((row: Interaction) => boolean) | undefined {
  const { userRole, queryType, sessionId } = query;
  if (userRole === undefined && queryType === undefined && sessionId === undefined) return undefined;
  return (row) =>
    (userRole === undefined || row.userRole === userRole) && (queryType === undefined || row.queryType === queryType) && (sessionId === undefined || row.sessionId === sessionId);
}

function encodeCursor(timestamp: number, skip: number): string {
  return Buffer.from(JSON.stringify([timestamp, skip])).toString('base64url');
}

function decodeCursor(cursor: string): { timestamp: number; skip: number } {
  try {
    const [timestamp, skip] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown];
    if (typeof timestamp === 'number' && Number.isInteger(skip) && (skip as number) >= 0) return { timestamp, skip: skip as number };
  } catch {
    // fall through to the error below
  }
  throw new ValidationError([{ path: 'cursor', message: `${ARCHIVE_NAME}: cursor ${JSON.stringify(cursor.slice(0, 40))} is not one this tier issued; pass nextCursor from a previous page` }]);
}
