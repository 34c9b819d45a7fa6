import type { Interaction, StorageTier } from '@strata/core';
import type { ExportRow } from './exportFormat.js';
import type { ExportQuery, ExportSource, ExportSourceContext } from './exportSource.js';
import { INTERACTION_COLUMNS } from './interactionColumns.js';

const BATCH = 1_000;

/**
 * Raw interactions from the hot tier (recent) and the cold archive (older months retention moved
 * there), merged oldest first. While retention moves a month, and when an archived event is sent
 * again, the same event is in both tiers: it is exported once, the hot tier's copy. Two copies of
 * one event have the same `eventId` and timestamp, so the merge only remembers the ids of the
 * current millisecond: memory stays constant however many rows the range holds.
 */
export const interactionsSource: ExportSource = {
  dataset: 'interactions',
  description: 'raw interactions from the hot tier and the cold archive, oldest first',
  access: 'interactions',
  columns: INTERACTION_COLUMNS,
  filters: {
    range: 'the interaction timestamp',
    userRole: 'the interaction userRole',
    queryType: 'the interaction queryType',
  },
  // An interaction is plain data; its interface just has no index signature.
  rows: (query, context) => mergeTiers(query, context) as AsyncIterable<ExportRow[]>,
};

async function* mergeTiers(query: ExportQuery, context: ExportSourceContext): AsyncGenerator<Interaction[]> {
  const hot = context.storage('hot');
  const cold = context.storage('cold');
  // Listed hot first: at equal timestamps the hot copy is taken and the cold one skipped.
  const cursors: TierCursor[] = [];
  if (hot) cursors.push(new TierCursor('hot', hotPages(hot, query, context.signal)));
  if (cold) cursors.push(new TierCursor('cold', coldBatches(cold, query, context.signal)));

  let out: Interaction[] = [];
  let groupTimestamp = Number.NaN;
  const groupIds = new Set<string>();
  let duplicates = 0;
  const take = (cursor: TierCursor, row: Interaction): void => {
    if (row.timestamp !== groupTimestamp) {
      groupTimestamp = row.timestamp;
      groupIds.clear();
    }
    if (groupIds.has(row.eventId)) {
      duplicates += 1;
      return;
    }
    groupIds.add(row.eventId);
    cursor.taken += 1;
    out.push(row);
  };

  try {
    for (;;) {
      if (context.signal?.aborted) return;
      let best: TierCursor | undefined;
      let live = 0;
      for (const cursor of cursors) {
        if (!(await cursor.ready())) continue;
        live += 1;
        if (!best || cursor.head().timestamp < best.head().timestamp) best = cursor;
      }
      if (!best) break;
      if (live === 1) {
        // One tier left: past the current millisecond nothing can repeat, so its batches pass through whole.
        while (best.index < best.batch.length && best.head().timestamp === groupTimestamp) take(best, best.batch[best.index++]!);
        if (best.index < best.batch.length) {
          const rest = best.index === 0 ? best.batch : best.batch.slice(best.index);
          best.index = best.batch.length;
          best.taken += rest.length;
          // The other tier is done and one tier holds an event once: nothing left to compare.
          groupTimestamp = Number.NaN;
          groupIds.clear();
          if (out.length > 0) {
            yield out;
            out = [];
          }
          yield rest;
        }
        continue;
      }
      take(best, best.batch[best.index++]!);
      if (out.length >= BATCH) {
        yield out;
        out = [];
      }
    }
    if (out.length > 0) yield out;
  } finally {
    for (const cursor of cursors) {
      context.count(cursor.tier, cursor.taken);
      await cursor.close();
    }
    context.count('duplicatesSkipped', duplicates);
  }
}

/** The hot tier pages with the filters applied in its query (`queryInteractions`, keyset cursors). */
async function* hotPages(tier: StorageTier, query: ExportQuery, signal: AbortSignal | undefined): AsyncGenerator<Interaction[]> {
  let cursor: string | null = null;
  do {
    if (signal?.aborted) return;
    const page = await tier.queryInteractions({
      ...(query.range ? { range: query.range } : {}),
      ...(query.userRole !== undefined ? { userRole: query.userRole } : {}),
      ...(query.queryType !== undefined ? { queryType: query.queryType } : {}),
      limit: BATCH,
      ...(cursor ? { cursor } : {}),
    });
    if (page.items.length > 0) yield page.items;
    cursor = page.nextCursor;
  } while (cursor);
}

/** The cold tier streamed once over the range (`scanInteractions`: each partition decompressed once), filtered as it passes. */
async function* coldBatches(tier: StorageTier, query: ExportQuery, signal: AbortSignal | undefined): AsyncGenerator<Interaction[]> {
  const { userRole, queryType } = query;
  const filtered = userRole !== undefined || queryType !== undefined;
  for await (const batch of tier.scanInteractions(query.range ?? {}, { batchSize: BATCH, ...(signal ? { signal } : {}) })) {
    const kept = filtered ? batch.filter((row) => (userRole === undefined || row.userRole === userRole) && (queryType === undefined || row.queryType === queryType)) : batch;
    if (kept.length > 0) yield kept;
  }
}

class TierCursor {
  batch: Interaction[] = [];
  index = 0;
  taken = 0;
  private done = false;

  constructor(
    readonly tier: 'hot' | 'cold',
    private readonly batches: AsyncGenerator<Interaction[]>,
  ) {}

  /** True when a row is at the head, reading the next batch if the current one is used up. */
  async ready(): Promise<boolean> {
    while (!this.done && this.index >= this.batch.length) {
      const next = await this.batches.next();
      if (next.done) this.done = true;
      else {
        this.batch = next.value;
        this.index = 0;
      }
    }
    return !this.done;
  }

  head(): Interaction {
    return this.batch[this.index]!;
  }

  async close(): Promise<void> {
    await this.batches.return(undefined);
  }
}
