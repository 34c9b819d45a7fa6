import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { sampleInteractions } from '@strata/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HotSqliteTier, createInteractionPreparer, prepareGroupWriter } from '../src/index.js';
import { encodeInteractions } from '../src/interactionWire.js';
import type { WriterRequest, WriterResponse, WriterSettings } from '../src/writerProtocol.js';

let directory: string;
let worker: Worker | undefined;
beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'hot-sqlite-writer-'));
});
afterEach(async () => {
  await worker?.terminate();
  worker = undefined;
  rmSync(directory, { recursive: true, force: true });
});

/** The built writer thread, driven through its message protocol directly. */
async function startWriter(): Promise<{ file: string; send(request: WriterRequest): void; answers: WriterResponse[]; answered(count: number): Promise<void> }> {
  const file = join(directory, 'hot.db');
  await HotSqliteTier.open({ file }).close();
  const settings: WriterSettings = { file, synchronous: 'NORMAL', busyTimeoutMs: 1_000, cacheSizeMb: 8, conversionDepth: 5, groupCommitEvents: 10_000 };
  worker = new Worker(new URL('../dist/writerWorker.js', import.meta.url), { workerData: settings });
  const answers: WriterResponse[] = [];
  let waiting: (() => void) | undefined;
  worker.on('message', (answer: WriterResponse) => {
    answers.push(answer);
    waiting?.();
  });
  const started = worker;
  return {
    file,
    send: (request) => started.postMessage(request),
    answers,
    answered: async (count) => {
      while (answers.length < count) await new Promise<void>((resolve) => (waiting = resolve));
    },
  };
}

function storedIds(file: string): string[] {
  const db = new Database(file, { readonly: true });
  const ids = db.prepare('SELECT event_id AS id FROM user_interactions ORDER BY event_id').all().map((row) => (row as { id: string }).id);
  db.close();
  return ids;
}

describe('the writer thread', () => {
  it('assembles a batch from its slices and commits it with the batch posted after it', async () => {
    const writer = await startWriter();
    const first = sampleInteractions(30, 1).map((event, index) => ({ ...event, eventId: `a-${index}` }));
    const second = sampleInteractions(30, 2).map((event, index) => ({ ...event, eventId: `b-${index}` }));
    writer.send({ id: 1, kind: 'append', events: encodeInteractions(first, 0, 10) });
    writer.send({ id: 1, kind: 'append', events: encodeInteractions(first, 10, 20) });
    writer.send({ id: 1, kind: 'write', events: encodeInteractions(first, 20), parts: 3, createdAt: Date.now() });
    writer.send({ id: 2, kind: 'append', events: encodeInteractions(second, 0, 20) });
    writer.send({ id: 2, kind: 'write', events: encodeInteractions(second, 20), parts: 2, createdAt: Date.now() });
    await writer.answered(2);
    expect(writer.answers.map((answer) => [answer.id, answer.ok])).toEqual([
      [1, true],
      [2, true],
    ]);
    expect(storedIds(writer.file)).toEqual([...first, ...second].map((event) => event.eventId).sort());
  });

  it('commits batches queued behind each other together, and a batch that fails fails alone', async () => {
    const writer = await startWriter();
    const batch = (prefix: string, seed: number) => sampleInteractions(20, seed).map((event, index) => ({ ...event, eventId: `${prefix}-${index}` }));
    const [first, broken, third] = [batch('a', 1), batch('b', 2), batch('c', 3)];
    // A row the table refuses (event_id is NOT NULL), in the middle of the second batch.
    broken[10] = { ...broken[10]!, eventId: null as unknown as string };
    writer.send({ id: 1, kind: 'write', events: encodeInteractions(first), parts: 1, createdAt: Date.now() });
    writer.send({ id: 2, kind: 'write', events: encodeInteractions(broken), parts: 1, createdAt: Date.now() });
    writer.send({ id: 3, kind: 'write', events: encodeInteractions(third), parts: 1, createdAt: Date.now() });
    await writer.answered(3);
    // The failure is answered at once; the group's batches once it commits.
    expect(writer.answers.map((answer) => [answer.id, answer.ok])).toEqual([
      [2, false],
      [1, true],
      [3, true],
    ]);
    expect(writer.answers[0]?.ok === false && writer.answers[0].error.message).toMatch(/NOT NULL constraint failed: user_interactions.event_id/);
    expect(storedIds(writer.file)).toEqual([...first, ...third].map((event) => event.eventId).sort());
    const db = new Database(writer.file, { readonly: true });
    const { total } = db.prepare('SELECT SUM(interactions) AS total FROM rollup_hour').get() as { total: number };
    db.close();
    expect(total).toBe(40);
  });

  it('refuses a batch whose earlier slices it never received, and stores none of it', async () => {
    const writer = await startWriter();
    writer.send({ id: 7, kind: 'write', events: encodeInteractions(sampleInteractions(10, 3)), parts: 2, createdAt: Date.now() });
    await writer.answered(1);
    const [answer] = writer.answers;
    expect(answer?.ok).toBe(false);
    expect(answer?.ok === false && answer.error.message).toBe('writer thread received 1 of the 2 parts of batch 7; the batch was not written');
    expect(storedIds(writer.file)).toEqual([]);
  });
});

describe('abandoned slices', () => {
  it('are dropped once a later batch arrives, so they can neither linger nor complete afterwards', async () => {
    const writer = await startWriter();
    const events = sampleInteractions(20, 5).map((event, index) => ({ ...event, eventId: `s-${index}` }));
    writer.send({ id: 1, kind: 'append', events: encodeInteractions(events, 0, 10) });
    writer.send({ id: 2, kind: 'write', events: encodeInteractions(events, 10, 20), parts: 1, createdAt: Date.now() });
    writer.send({ id: 1, kind: 'write', events: encodeInteractions(events, 10, 20), parts: 2, createdAt: Date.now() });
    await writer.answered(2);
    expect(writer.answers.map((answer) => [answer.id, answer.ok])).toEqual([
      [1, false],
      [2, true],
    ]);
    expect(storedIds(writer.file)).toEqual(events.slice(10).map((event) => event.eventId).sort());
  });
});

describe('the group writer', () => {
  it('ends a transaction left open without a group before it begins the next, so writing never wedges', async () => {
    const file = join(directory, 'group.db');
    const tier = HotSqliteTier.open({ file });
    const db = tier.database;
    const group = prepareGroupWriter(db);
    const prepare = createInteractionPreparer();
    // What a failed rollback leaves behind: a transaction nobody owns.
    db.exec('BEGIN');
    db.exec("INSERT INTO tier_state (key, value) VALUES ('stray', 1)");
    const events = sampleInteractions(30, 4);
    expect(group.add(events.map(prepare), Date.now()).duplicateIds).toEqual([]);
    group.commit();
    expect(db.inTransaction).toBe(false);
    expect((db.prepare('SELECT COUNT(*) AS n FROM user_interactions').get() as { n: number }).n).toBe(30);
    expect(db.prepare("SELECT value FROM tier_state WHERE key = 'stray'").get()).toBeUndefined();
    await tier.close();
  });
});

describe('batches in flight', () => {
  it('asks the pipeline for 6 with the writer thread, which groups them, and 2 when writing inline', async () => {
    const thread = HotSqliteTier.open({ file: join(directory, 'thread.db'), writer: 'thread' });
    const inline = HotSqliteTier.open({ file: join(directory, 'inline.db') });
    expect([thread.batchesInFlight, inline.batchesInFlight]).toEqual([6, 2]);
    await thread.close();
    await inline.close();
  });
});
