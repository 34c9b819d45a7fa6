import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInteractionValidator, type Interaction, type StorageTier } from '@strata/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateWorkload } from './workload.js';

export interface StorageTierConformanceOptions {
  /** Opens the tier on a directory; called again on the same directory to test durability. */
  open(directory: string): Promise<StorageTier>;
  /** Removes whatever `open` created outside `directory` (a database schema, say). Optional. */
  cleanup?(directory: string): Promise<void>;
  /** Skip the whole suite, with the reason printed (e.g. a server that cannot be reached). */
  skip?: string | false;
}

const DAY = 86_400_000;
const START = Date.UTC(2025, 11, 1);

/** Valid, normalised interactions as the pipeline hands them to a tier. */
export function sampleInteractions(count: number, seed = 7, start = START, days = 10): Interaction[] {
  const validate = createInteractionValidator(undefined, () => Date.UTC(2030, 0, 1));
  const out: Interaction[] = [];
  for (const input of generateWorkload({ events: count, seed, start, days, networkFields: false })) {
    const checked = validate(input);
    if (!checked.ok) throw new Error(`workload produced an invalid event: ${JSON.stringify(checked.issues)}`);
    out.push(checked.value);
  }
  return out;
}

function byTime(a: Interaction, b: Interaction): number {
  return a.timestamp - b.timestamp;
}

async function collect(iterable: AsyncIterable<Interaction[]>): Promise<Interaction[][]> {
  const batches: Interaction[][] = [];
  for await (const batch of iterable) batches.push(batch);
  return batches;
}

/**
 * The behaviour every storage tier must show. Call it from the tier's own test file:
 * `describeStorageTierConformance('hot-sqlite', { open: (dir) => openTier(dir) })`.
 */
export function describeStorageTierConformance(name: string, options: StorageTierConformanceOptions): void {
  const suite = options.skip ? describe.skip : describe;
  if (options.skip) console.warn(`[conformance] ${name}: skipped: ${options.skip}`);
  suite(`${name} storage tier conformance`, () => {
    let directory: string;
    let tier: StorageTier;

    beforeEach(async () => {
      directory = mkdtempSync(join(tmpdir(), 'strata-conformance-'));
      tier = await options.open(directory);
    });

    afterEach(async () => {
      await tier.close();
      await options.cleanup?.(directory);
      rmSync(directory, { recursive: true, force: true });
    });

    it('stores a batch and reads every field back unchanged', async () => {
      const events = sampleInteractions(50);
      const result = await tier.writeInteractions(events);
      expect(result).toEqual({ inserted: 50, duplicates: 0, duplicateIds: [] });
      const page = await tier.queryInteractions({ limit: 1000 });
      expect(page.items).toHaveLength(50);
      const byId = new Map(page.items.map((item) => [item.eventId, item]));
      for (const event of events) expect(byId.get(event.eventId)).toEqual(event);
    });

    it('stores an eventId once however often it is written', async () => {
      const events = sampleInteractions(20);
      await tier.writeInteractions(events);
      const again = await tier.writeInteractions(events);
      expect(again.inserted).toBe(0);
      expect(again.duplicates).toBe(20);
      expect(new Set(again.duplicateIds)).toEqual(new Set(events.map((event) => event.eventId)));
      expect(await tier.countInteractions()).toBe(20);
    });

    it('leaves the stored copy untouched when a duplicate eventId carries different data', async () => {
      const [first] = sampleInteractions(1);
      await tier.writeInteractions([first!]);
      await tier.writeInteractions([{ ...first!, query: 'something else entirely', success: !first!.success }]);
      const page = await tier.queryInteractions({});
      expect(page.items).toEqual([first]);
    });

    it('counts new and duplicate events separately in a mixed batch', async () => {
      const events = sampleInteractions(30);
      await tier.writeInteractions(events.slice(0, 10));
      const result = await tier.writeInteractions(events);
      expect(result.inserted).toBe(20);
      expect(result.duplicates).toBe(10);
      expect(await tier.countInteractions()).toBe(30);
    });

    it('keeps text exactly as sent, including SQL, quotes and unusual Unicode', async () => {
      const [base] = sampleInteractions(1);
      const texts = [
        "'; DROP TABLE user_interactions; --",
        'Robert"); DELETE FROM sessions WHERE 1=1; --',
        'emoji 🧠🚀 RTL مرحبا combining e\u0301 zero-width \u200b nul-free',
        'a'.repeat(20_000),
      ];
      const events = texts.map((query, index) => ({ ...base!, eventId: `text-${index}`, query, content: [{ type: 'code_snippet', id: `x'"${index}`, relevance: null }] }));
      await tier.writeInteractions(events);
      const page = await tier.queryInteractions({ limit: 100 });
      expect(page.items.map((item) => item.query).sort()).toEqual([...texts].sort());
      expect(page.items.find((item) => item.eventId === 'text-0')?.content).toEqual([{ type: 'code_snippet', id: `x'"0`, relevance: null }]);
    });

    it('answers a time range as half-open [from, to), oldest first', async () => {
      const events = sampleInteractions(200);
      await tier.writeInteractions(events);
      const sorted = [...events].sort(byTime);
      const from = sorted[50]!.timestamp;
      const to = sorted[150]!.timestamp;
      const expected = sorted.filter((event) => event.timestamp >= from && event.timestamp < to);
      const page = await tier.queryInteractions({ range: { from, to }, limit: 1000 });
      expect(page.items.map((item) => item.eventId).sort()).toEqual(expected.map((event) => event.eventId).sort());
      const times = page.items.map((item) => item.timestamp);
      expect(times).toEqual([...times].sort((a, b) => a - b));
      expect(await tier.countInteractions({ from, to })).toBe(expected.length);
    });

    it('filters by role, query type and session', async () => {
      const events = sampleInteractions(300);
      await tier.writeInteractions(events);
      const role = events[0]!.userRole;
      const type = events[0]!.queryType;
      const session = events[0]!.sessionId;
      const roleItems = (await tier.queryInteractions({ userRole: role, limit: 1000 })).items;
      expect(roleItems).toHaveLength(events.filter((event) => event.userRole === role).length);
      const typeItems = (await tier.queryInteractions({ queryType: type, limit: 1000 })).items;
      expect(typeItems).toHaveLength(events.filter((event) => event.queryType === type).length);
      const sessionItems = (await tier.queryInteractions({ sessionId: session, limit: 1000 })).items;
      expect(sessionItems.map((item) => item.eventId).sort()).toEqual(events.filter((event) => event.sessionId === session).map((event) => event.eventId).sort());
    });

    it('pages through a long result with cursors, each row exactly once', async () => {
      const events = sampleInteractions(257);
      await tier.writeInteractions(events);
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await tier.queryInteractions({ limit: 40, ...(cursor ? { cursor } : {}) });
        expect(page.items.length).toBeLessThanOrEqual(40);
        seen.push(...page.items.map((item) => item.eventId));
        cursor = page.nextCursor ?? undefined;
        pages += 1;
      } while (cursor && pages < 100);
      expect(seen).toHaveLength(257);
      expect(new Set(seen).size).toBe(257);
    });

    it('scans a range in batches no larger than asked, covering it exactly once in time order', async () => {
      const events = sampleInteractions(1_000, 11, START, 20);
      await tier.writeInteractions(events);
      const from = START + 5 * DAY;
      const to = START + 15 * DAY;
      const batches = await collect(tier.scanInteractions({ from, to }, { batchSize: 64 }));
      for (const batch of batches) expect(batch.length).toBeLessThanOrEqual(64);
      const rows = batches.flat();
      const expected = events.filter((event) => event.timestamp >= from && event.timestamp < to);
      expect(rows).toHaveLength(expected.length);
      expect(new Set(rows.map((row) => row.eventId))).toEqual(new Set(expected.map((event) => event.eventId)));
      const times = rows.map((row) => row.timestamp);
      expect(times).toEqual([...times].sort((a, b) => a - b));
    });

    it('stops a scan when its signal aborts', async () => {
      await tier.writeInteractions(sampleInteractions(500));
      const controller = new AbortController();
      let batches = 0;
      for await (const _batch of tier.scanInteractions({}, { batchSize: 50, signal: controller.signal })) {
        batches += 1;
        controller.abort();
      }
      expect(batches).toBe(1);
    });

    it('deletes exactly the rows of a range and says how many', async () => {
      const events = sampleInteractions(400, 3, START, 10);
      await tier.writeInteractions(events);
      const from = START + 2 * DAY;
      const to = START + 6 * DAY;
      const inRange = events.filter((event) => event.timestamp >= from && event.timestamp < to).length;
      expect(inRange).toBeGreaterThan(0);
      expect(await tier.deleteInteractions({ from, to })).toBe(inRange);
      expect(await tier.countInteractions({ from, to })).toBe(0);
      expect(await tier.countInteractions()).toBe(400 - inRange);
    });

    it('deletes exactly the events named, when it can delete by id', async (context) => {
      if (!tier.deleteEvents) return context.skip();
      const events = sampleInteractions(300);
      await tier.writeInteractions(events);
      const doomed = events.filter((_, index) => index % 3 === 0).map((event) => event.eventId!);
      expect(await tier.deleteEvents([...doomed, 'no-such-event'])).toBe(doomed.length);
      expect(await tier.countInteractions()).toBe(300 - doomed.length);
      expect(await tier.deleteEvents(doomed)).toBe(0);
      expect(await tier.deleteEvents([])).toBe(0);
      const kept = [];
      for await (const batch of tier.scanInteractions({})) kept.push(...batch.map((event) => event.eventId));
      expect(new Set(kept)).toEqual(new Set(events.filter((_, index) => index % 3 !== 0).map((event) => event.eventId)));
    });

    it('expires exactly the sessions inactive before a time, when it can expire sessions', async (context) => {
      if (!tier.expireSessions) return context.skip();
      const events = sampleInteractions(600);
      await tier.writeInteractions(events);
      const lastActivity = new Map<string, number>();
      for (const event of events) lastActivity.set(event.sessionId, Math.max(lastActivity.get(event.sessionId) ?? 0, event.timestamp));
      const cutoff = [...events].sort(byTime)[Math.floor(events.length / 2)]!.timestamp;
      const inactive = [...lastActivity.values()].filter((last) => last < cutoff).length;
      expect(inactive).toBeGreaterThan(0);
      expect(inactive).toBeLessThan(lastActivity.size);
      expect(await tier.expireSessions(cutoff)).toBe(inactive);
      expect(await tier.expireSessions(cutoff)).toBe(0);
      // Interactions are not touched: only the session rows go.
      expect(await tier.countInteractions()).toBe(events.length);
      await expect(tier.expireSessions(Number.NaN)).rejects.toThrow(/expireSessions\(lastActivityBefore\) needs epoch ms, got NaN/);
    });

    it('keeps what it stored across close and reopen', async () => {
      const events = sampleInteractions(120);
      await tier.writeInteractions(events);
      await tier.close();
      tier = await options.open(directory);
      expect(await tier.countInteractions()).toBe(120);
      const again = await tier.writeInteractions(events.slice(0, 5));
      expect(again.duplicates).toBe(5);
    });

    it('can be closed twice', async () => {
      await tier.close();
      await expect(tier.close()).resolves.toBeUndefined();
      tier = await options.open(directory);
    });

    it('reports itself healthy when open', async () => {
      const health = await tier.health();
      expect(health.ok).toBe(true);
    });

    it('accepts an empty batch', async () => {
      expect(await tier.writeInteractions([])).toEqual({ inserted: 0, duplicates: 0, duplicateIds: [] });
    });
  });
}
