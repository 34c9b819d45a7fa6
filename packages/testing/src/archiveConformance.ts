import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InteractionDigest, monthOf, type ArchivePartition, type Interaction, type InteractionArchive } from '@strata/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sampleInteractions } from './storageTierConformance.js';

export interface ArchiveConformanceOptions {
  /** Opens the archive on a directory; called again on the same directory to test durability. */
  open(directory: string): Promise<InteractionArchive>;
  /** Releases what `open` holds (files, locks). Optional. */
  close?(archive: InteractionArchive): Promise<void>;
  /** Skip the whole suite, with the reason printed. */
  skip?: string | false;
}

const DAY = 86_400_000;
/** Every sample row falls in December 2025. */
const START = Date.UTC(2025, 11, 1);
const MONTH = '2025-12';

function rowsOfMonth(count: number, seed: number): Interaction[] {
  const rows = sampleInteractions(count, seed, START + DAY, 20);
  for (const row of rows) if (monthOf(row.timestamp) !== MONTH) throw new Error(`sample row outside ${MONTH}`);
  return rows;
}

function inBatches<T>(rows: readonly T[], size: number): T[][] {
  const batches: T[][] = [];
  for (let start = 0; start < rows.length; start += size) batches.push(rows.slice(start, start + size));
  return batches;
}

async function readAll(archive: InteractionArchive, id: string, batchSize?: number): Promise<Interaction[][]> {
  const batches: Interaction[][] = [];
  for await (const batch of archive.readPartition(id, batchSize === undefined ? {} : { batchSize })) batches.push(batch);
  return batches;
}

/** Reads a partition expecting failure: returns the error and how many rows were yielded before it. */
async function readExpectingFailure(archive: InteractionArchive, id: string): Promise<{ error: unknown; rowsBeforeError: number }> {
  let rowsBeforeError = 0;
  try {
    for await (const batch of archive.readPartition(id, { batchSize: 1 })) rowsBeforeError += batch.length;
  } catch (error) {
    return { error, rowsBeforeError };
  }
  return { error: undefined, rowsBeforeError };
}

/** The stored file of a partition, found by its size and SHA-256 (what the contract says they describe). */
function storedFileOf(directory: string, partition: ArchivePartition): string {
  const pending = [directory];
  while (pending.length > 0) {
    const dir = pending.pop()!;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) pending.push(path);
      else if (entry.isFile() && statSync(path).size === partition.bytes && createHash('sha256').update(readFileSync(path)).digest('hex') === partition.fileSha256) return path;
    }
  }
  throw new Error(`no file under ${directory} has the size (${partition.bytes}) and SHA-256 (${partition.fileSha256}) of partition ${partition.id}`);
}

/** Byte positions to damage: all of a small file, else both ends (headers, trailers) and evenly spaced ones between. */
function samplePositions(size: number, budget = 256): number[] {
  if (size <= budget) return Array.from({ length: size }, (_, index) => index);
  const positions = new Set<number>();
  for (let index = 0; index < 32; index += 1) {
    positions.add(index);
    positions.add(size - 1 - index);
  }
  const middle = budget - positions.size;
  for (let step = 0; step < middle; step += 1) positions.add(Math.floor(32 + ((size - 64) * step) / middle));
  return [...positions].sort((a, b) => a - b);
}

function errorCode(error: unknown): unknown {
  return (error as { code?: unknown } | undefined)?.code;
}

/**
 * The behaviour every `InteractionArchive` must show (the contract retention and erasure rely on).
 * Call it from the archive's own test file:
 * `describeArchiveConformance('json-archive', { open: (dir) => JsonArchive.open({ dir }), close: (a) => a.close() })`.
 */
export function describeArchiveConformance(name: string, options: ArchiveConformanceOptions): void {
  const suite = options.skip ? describe.skip : describe;
  if (options.skip) console.warn(`[conformance] ${name}: skipped: ${options.skip}`);
  suite(`${name} archive conformance`, () => {
    let directory: string;
    let archive: InteractionArchive;

    beforeEach(async () => {
      directory = mkdtempSync(join(tmpdir(), 'strata-archive-conformance-'));
      archive = await options.open(directory);
    });

    afterEach(async () => {
      await options.close?.(archive);
      rmSync(directory, { recursive: true, force: true });
    });

    it('writes a partition and describes it: month, row count, time span and both checksums', async () => {
      const rows = rowsOfMonth(300, 1);
      const partition = await archive.writePartition('p-2025-12-a', MONTH, inBatches(rows, 70));
      const times = rows.map((row) => row.timestamp);
      expect(partition).toMatchObject({
        id: 'p-2025-12-a',
        month: MONTH,
        rows: 300,
        rowsSha256: new InteractionDigest().add(rows).hex(),
        firstTimestamp: Math.min(...times),
        lastTimestamp: Math.max(...times),
      });
      expect(partition.bytes).toBeGreaterThan(0);
      expect(partition.fileSha256).toMatch(/^[0-9a-f]{64}$/);
      expect(typeof partition.createdAt).toBe('number');
      expect(await archive.listPartitions()).toEqual([partition]);
    });

    it('reads back identical rows in stored order, in batches no larger than asked, with the same digest', async () => {
      const rows = rowsOfMonth(257, 2);
      const partition = await archive.writePartition('p-read', MONTH, inBatches(rows, 100));
      const batches = await readAll(archive, 'p-read', 64);
      for (const batch of batches) expect(batch.length).toBeLessThanOrEqual(64);
      const read = batches.flat();
      expect(read).toEqual(rows);
      expect(new InteractionDigest().add(read).hex()).toBe(partition.rowsSha256);
    });

    it('verifies a partition it wrote', async () => {
      await archive.writePartition('p-verify', MONTH, [rowsOfMonth(50, 3)]);
      expect(await archive.verifyPartition('p-verify')).toMatchObject({ id: 'p-verify', ok: true });
    });

    it('takes rows from an async iterable', async () => {
      const rows = rowsOfMonth(120, 4);
      async function* source() {
        for (const batch of inBatches(rows, 25)) {
          await new Promise((resolve) => setImmediate(resolve));
          yield batch;
        }
      }
      const partition = await archive.writePartition('p-async', MONTH, source());
      expect(partition.rows).toBe(120);
      expect((await readAll(archive, 'p-async')).flat()).toEqual(rows);
    });

    it('lists partitions by month and by time range', async () => {
      const december = await archive.writePartition('p-dec', MONTH, [rowsOfMonth(40, 5)]);
      const januaryRows = sampleInteractions(40, 6, Date.UTC(2026, 0, 3), 10);
      const january = await archive.writePartition('p-jan', '2026-01', [januaryRows]);
      expect(await archive.listPartitions({ month: '2026-01' })).toEqual([january]);
      expect(await archive.listPartitions({ month: '2025-11' })).toEqual([]);
      expect(await archive.listPartitions({ range: { from: Date.UTC(2026, 0, 1) } })).toEqual([january]);
      expect(await archive.listPartitions({ range: { to: Date.UTC(2026, 0, 1) } })).toEqual([december]);
      const both = await archive.listPartitions({ range: { from: december.lastTimestamp!, to: january.firstTimestamp! + 1 } });
      expect(both.map((partition) => partition.id).sort()).toEqual(['p-dec', 'p-jan']);
    });

    it('keeps partitions across close and reopen', async () => {
      const rows = rowsOfMonth(80, 7);
      const partition = await archive.writePartition('p-durable', MONTH, [rows]);
      await options.close?.(archive);
      archive = await options.open(directory);
      expect(await archive.listPartitions()).toEqual([partition]);
      expect((await readAll(archive, 'p-durable')).flat()).toEqual(rows);
      expect((await archive.verifyPartition('p-durable')).ok).toBe(true);
    });

    it('treats writing an id again with the same rows as a no-op that returns the stored entry, however the rows are batched', async () => {
      const rows = rowsOfMonth(90, 8);
      const first = await archive.writePartition('p-retry', MONTH, inBatches(rows, 30));
      const again = await archive.writePartition('p-retry', MONTH, inBatches(rows, 7));
      expect(again).toEqual(first);
      expect(await archive.listPartitions()).toEqual([first]);
    });

    it('rejects writing an id again with different rows, and keeps the stored partition', async () => {
      const rows = rowsOfMonth(60, 9);
      const first = await archive.writePartition('p-conflict', MONTH, [rows]);
      await expect(archive.writePartition('p-conflict', MONTH, [rows.slice(1)])).rejects.toThrow(/p-conflict/);
      await expect(archive.writePartition('p-conflict', MONTH, [[{ ...rows[0]!, success: !rows[0]!.success }, ...rows.slice(1)]])).rejects.toThrow();
      expect(await archive.listPartitions()).toEqual([first]);
      expect((await readAll(archive, 'p-conflict')).flat()).toEqual(rows);
    });

    it('refuses rows from another month than the partition\'s', async () => {
      const rows = rowsOfMonth(10, 10);
      const stray = { ...rows[0]!, eventId: 'stray', timestamp: Date.UTC(2026, 0, 1) };
      await expect(archive.writePartition('p-stray', MONTH, [[...rows, stray]])).rejects.toThrow();
      expect(await archive.listPartitions()).toEqual([]);
    });

    it('detects a flipped byte at every sampled position: verify fails and read throws STRATA_ARCHIVE_CORRUPT before any row', async () => {
      const partition = await archive.writePartition('p-flip', MONTH, [rowsOfMonth(60, 11)]);
      const file = storedFileOf(directory, partition);
      const original = readFileSync(file);
      const positions = samplePositions(original.length);
      const missed: string[] = [];
      for (const [trial, position] of positions.entries()) {
        const damaged = Buffer.from(original);
        damaged[position] = damaged[position]! ^ (trial % 2 === 0 ? 0xff : 0x01);
        writeFileSync(file, damaged);
        const verification = await archive.verifyPartition('p-flip');
        const read = await readExpectingFailure(archive, 'p-flip');
        if (verification.ok || !verification.problem) missed.push(`byte ${position}: verify passed`);
        if (errorCode(read.error) !== 'STRATA_ARCHIVE_CORRUPT') missed.push(`byte ${position}: read ${read.error ? `threw ${String(errorCode(read.error))}` : 'succeeded'}`);
        if (read.rowsBeforeError > 0) missed.push(`byte ${position}: ${read.rowsBeforeError} row(s) yielded before the error`);
      }
      writeFileSync(file, original);
      expect(missed).toEqual([]);
      expect((await archive.verifyPartition('p-flip')).ok).toBe(true);
    });

    it('detects truncation at every sampled length, and bytes appended, the same way', async () => {
      const partition = await archive.writePartition('p-cut', MONTH, [rowsOfMonth(60, 12)]);
      const file = storedFileOf(directory, partition);
      const original = readFileSync(file);
      const variants = [...samplePositions(original.length).map((length) => ({ what: `cut to ${length} bytes`, bytes: original.subarray(0, length) })), { what: 'one byte appended', bytes: Buffer.concat([original, Buffer.from([0x0a])]) }];
      const missed: string[] = [];
      for (const variant of variants) {
        writeFileSync(file, variant.bytes);
        const verification = await archive.verifyPartition('p-cut');
        const read = await readExpectingFailure(archive, 'p-cut');
        if (verification.ok) missed.push(`${variant.what}: verify passed`);
        if (errorCode(read.error) !== 'STRATA_ARCHIVE_CORRUPT') missed.push(`${variant.what}: read ${read.error ? `threw ${String(errorCode(read.error))}` : 'succeeded'}`);
        if (read.rowsBeforeError > 0) missed.push(`${variant.what}: ${read.rowsBeforeError} row(s) yielded before the error`);
      }
      writeFileSync(file, original);
      expect(missed).toEqual([]);
    });

    it('reports a partition whose file is gone as failing verification', async () => {
      const partition = await archive.writePartition('p-gone', MONTH, [rowsOfMonth(20, 13)]);
      rmSync(storedFileOf(directory, partition));
      const verification = await archive.verifyPartition('p-gone');
      expect(verification.ok).toBe(false);
      expect(verification.problem).toBeTruthy();
      expect(errorCode((await readExpectingFailure(archive, 'p-gone')).error)).toBe('STRATA_ARCHIVE_CORRUPT');
    });

    it('deletes a partition: no longer listed, verified or readable; deleting again is harmless', async () => {
      const keep = await archive.writePartition('p-keep', MONTH, [rowsOfMonth(30, 14)]);
      await archive.writePartition('p-drop', MONTH, [rowsOfMonth(30, 15)]);
      await archive.deletePartition('p-drop');
      expect(await archive.listPartitions()).toEqual([keep]);
      expect((await archive.verifyPartition('p-drop')).ok).toBe(false);
      expect((await readExpectingFailure(archive, 'p-drop')).error).toBeDefined();
      await expect(archive.deletePartition('p-drop')).resolves.toBeUndefined();
      await options.close?.(archive);
      archive = await options.open(directory);
      expect(await archive.listPartitions()).toEqual([keep]);
    });

    it('stores an empty partition: no rows, no time span, the digest of nothing', async () => {
      const partition = await archive.writePartition('p-empty', MONTH, []);
      expect(partition).toMatchObject({ rows: 0, firstTimestamp: null, lastTimestamp: null, rowsSha256: new InteractionDigest().hex() });
      expect((await archive.verifyPartition('p-empty')).ok).toBe(true);
      expect((await readAll(archive, 'p-empty')).flat()).toEqual([]);
      expect(await archive.listPartitions({ month: MONTH })).toEqual([partition]);
      expect(await archive.writePartition('p-empty', MONTH, [[]])).toEqual(partition);
    });

    it('stores nothing when the write is aborted, before it starts or half-way', async () => {
      const rows = rowsOfMonth(200, 16);
      await expect(archive.writePartition('p-aborted-early', MONTH, [rows], { signal: AbortSignal.abort() })).rejects.toThrow();
      const controller = new AbortController();
      async function* abortingSource() {
        for (const [index, batch] of inBatches(rows, 50).entries()) {
          if (index === 2) controller.abort();
          yield batch;
        }
      }
      await expect(archive.writePartition('p-aborted', MONTH, abortingSource(), { signal: controller.signal })).rejects.toThrow();
      expect(await archive.listPartitions()).toEqual([]);
      const later = await archive.writePartition('p-aborted', MONTH, [rows]);
      expect(later.rows).toBe(200);
    });

    it('yields no further batch once the read signal aborts', async () => {
      await archive.writePartition('p-abort-read', MONTH, [rowsOfMonth(500, 17)]);
      const controller = new AbortController();
      let batches = 0;
      try {
        for await (const _batch of archive.readPartition('p-abort-read', { batchSize: 50, signal: controller.signal })) {
          batches += 1;
          controller.abort();
        }
      } catch (error) {
        // Ending with an abort error is as good as ending quietly; yielding more is not.
        expect((error as Error).name).toMatch(/Abort/);
      }
      expect(batches).toBe(1);
    });

    it('rejects reading an id it does not hold', async () => {
      expect((await readExpectingFailure(archive, 'no-such-partition')).error).toBeDefined();
    });
  });
}
