import { z } from 'zod';
import {
  StorageError,
  definePlugin,
  type Interaction,
  type InteractionQuery,
  type Page,
  type PluginContribution,
  type ScanOptions,
  type StorageTier,
  type TierHealth,
  type TierRole,
  type TimeRange,
  type WriteResult,
} from '@strata/core';

function inRange(timestamp: number, range: TimeRange = {}): boolean {
  return (range.from === undefined || timestamp >= range.from) && (range.to === undefined || timestamp < range.to);
}

/**
 * A storage tier that keeps interactions in a Map, idempotent by eventId. Tests look inside it
 * (`rows`, `writes`) and change its behaviour through `beforeWrite`, which may wait or throw.
 */
export class MemoryTier implements StorageTier {
  readonly rows = new Map<string, Interaction>();
  /** Every batch handed to `writeInteractions`, in order, including failed ones. */
  readonly writes: Interaction[][] = [];
  /** Runs before a batch is stored; throw to fail the write (nothing of the batch is stored). */
  beforeWrite: ((batch: readonly Interaction[]) => void | Promise<void>) | undefined;
  closeCalls = 0;
  /** Called at the start of `close`, so tests can record the order of shutdown steps. */
  onClose: (() => void) | undefined;

  constructor(
    readonly name = 'memory',
    readonly role: TierRole = 'hot',
  ) {}

  get closed(): boolean {
    return this.closeCalls > 0;
  }

  async writeInteractions(batch: readonly Interaction[]): Promise<WriteResult> {
    this.writes.push([...batch]);
    if (this.closed) throw new StorageError(`${this.name}: the tier is closed`);
    await this.beforeWrite?.(batch);
    const duplicateIds: string[] = [];
    for (const event of batch) {
      if (this.rows.has(event.eventId)) duplicateIds.push(event.eventId);
      else this.rows.set(event.eventId, structuredClone(event));
    }
    return { inserted: batch.length - duplicateIds.length, duplicates: duplicateIds.length, duplicateIds };
  }

  async queryInteractions(query: InteractionQuery): Promise<Page<Interaction>> {
    const matching = this.sorted().filter(
      (event) =>
        inRange(event.timestamp, query.range) &&
        (query.userRole === undefined || event.userRole === query.userRole) &&
        (query.queryType === undefined || event.queryType === query.queryType) &&
        (query.sessionId === undefined || event.sessionId === query.sessionId),
    );
    const offset = query.cursor ? Number(query.cursor) : 0;
    const limit = query.limit ?? 1_000;
    const items = matching.slice(offset, offset + limit);
    const next = offset + items.length;
    return { items, nextCursor: next < matching.length ? String(next) : null };
  }

  async *scanInteractions(range: TimeRange, options: ScanOptions = {}): AsyncIterable<Interaction[]> {
    const size = options.batchSize ?? 1_000;
    const matching = this.sorted().filter((event) => inRange(event.timestamp, range));
    for (let index = 0; index < matching.length; index += size) {
      if (options.signal?.aborted) return;
      yield matching.slice(index, index + size);
    }
  }

  async countInteractions(range?: TimeRange): Promise<number> {
    return this.sorted().filter((event) => inRange(event.timestamp, range)).length;
  }

  async deleteInteractions(range: TimeRange): Promise<number> {
    let removed = 0;
    for (const [id, event] of this.rows) {
      if (inRange(event.timestamp, range)) {
        this.rows.delete(id);
        removed += 1;
      }
    }
    return removed;
  }

  async eraseSession(sessionId: string): Promise<number> {
    let removed = 0;
    for (const [id, event] of this.rows) {
      if (event.sessionId === sessionId) {
        this.rows.delete(id);
        removed += 1;
      }
    }
    return removed;
  }

  async health(): Promise<TierHealth> {
    return this.closed ? { ok: false, details: { rows: this.rows.size }, problem: 'closed' } : { ok: true, details: { rows: this.rows.size } };
  }

  async close(): Promise<void> {
    this.onClose?.();
    this.closeCalls += 1;
  }

  private sorted(): Interaction[] {
    return [...this.rows.values()].sort((a, b) => a.timestamp - b.timestamp);
  }
}

/**
 * A plugin (named `hot-sqlite` by default, so configs that name the real one resolve to it) that
 * contributes the given tier and anything else a test needs: sinks, processors, start/stop hooks.
 */
export function memoryTierPlugin(tier: MemoryTier, extra: Omit<PluginContribution, 'storage'> = {}, name = 'hot-sqlite') {
  return definePlugin({
    name,
    version: '0.0.0-test',
    options: z.object({}).strict(),
    setup: () => ({ storage: [tier], ...extra }),
  });
}
