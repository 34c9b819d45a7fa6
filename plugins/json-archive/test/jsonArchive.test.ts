import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { InteractionDigest, type Interaction } from '@strata/core';
import { sampleInteractions } from '@strata/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ArchiveInputError, JsonArchive, PartitionConflictError, type WriteStep } from '../src/index.js';
import { archiveWriteError } from '../src/archiveErrors.js';
import { partitionStoreOf } from '../src/jsonArchive.js';

const MONTH = '2025-12';
let directory: string;
let dir: string;
let archive: JsonArchive;

function december(count: number, seed: number): Interaction[] {
  return sampleInteractions(count, seed, Date.UTC(2025, 11, 2), 20);
}

async function rowsOf(id: string, from = archive): Promise<Interaction[]> {
  const out: Interaction[] = [];
  for await (const batch of from.readPartition(id)) out.push(...batch);
  return out;
}

beforeEach(async () => {
  directory = mkdtempSync(join(tmpdir(), 'json-archive-'));
  dir = join(directory, 'archive');
  archive = await JsonArchive.open({ dir, now: () => Date.UTC(2026, 2, 1) });
});

afterEach(async () => {
  await archive.close();
  rmSync(directory, { recursive: true, force: true });
});

describe('layout and manifest', () => {
  it('stores a partition as YYYY/MM/<id>.jsonl.gz named by the month manifest, with every field of the entry', async () => {
    const rows = december(120, 1);
    const partition = await archive.writePartition('2025-12-000001-000120', MONTH, [rows]);
    expect(readdirSync(join(dir, '2025', '12')).sort()).toEqual(['2025-12-000001-000120.jsonl.gz', 'manifest.json']);
    const manifest = JSON.parse(readFileSync(join(dir, '2025', '12', 'manifest.json'), 'utf8'));
    expect(manifest).toEqual({
      format: 'strata-json-archive/month-manifest',
      version: 1,
      month: MONTH,
      partitions: [{ ...partition, file: '2025-12-000001-000120.jsonl.gz', generation: 0, timeOrdered: true }],
    });
    expect(partition.createdAt).toBe(Date.UTC(2026, 2, 1));
  });

  it('writes the canonical line of each row, so the partition decompresses to exactly the JSONL its rowsSha256 describes', async () => {
    const { gunzipSync } = await import('node:zlib');
    const { createHash } = await import('node:crypto');
    const rows = december(50, 2);
    const partition = await archive.writePartition('p', MONTH, [rows]);
    const content = gunzipSync(readFileSync(join(dir, '2025', '12', 'p.jsonl.gz')));
    expect(content.toString('utf8')).toBe(rows.map((row) => `${JSON.stringify(row)}\n`).join(''));
    expect(createHash('sha256').update(content).digest('hex')).toBe(partition.rowsSha256);
    expect(partition.rowsSha256).toBe(new InteractionDigest().add(rows).hex());
  });

  it('keeps rows in the order given and records that they are not in time order', async () => {
    const rows = december(30, 3).reverse();
    await archive.writePartition('p-reversed', MONTH, [rows]);
    expect(await rowsOf('p-reversed')).toEqual(rows);
    const manifest = JSON.parse(readFileSync(join(dir, '2025', '12', 'manifest.json'), 'utf8'));
    expect(manifest.partitions[0].timeOrdered).toBe(false);
  });

  it('refuses a manifest that is not valid JSON, naming the file', async () => {
    await archive.writePartition('p', MONTH, [december(10, 4)]);
    writeFileSync(join(dir, '2025', '12', 'manifest.json'), '{"format": "strata-json-archive/month-manifest", "vers');
    await expect(archive.listPartitions()).rejects.toMatchObject({ code: 'STRATA_ARCHIVE_CORRUPT', message: expect.stringContaining(join(dir, '2025', '12', 'manifest.json')) });
  });
});

describe('bad input', () => {
  const badIds = ['', '../escape', 'a/b', '.hidden', 'has space', 'tilde~1', 'ends.', 'x'.repeat(129), 'ünïcode'];
  for (const id of badIds) {
    it(`rejects the partition id ${JSON.stringify(id.length > 20 ? `${id.slice(0, 12)}…` : id)}, naming the field`, async () => {
      const error = await archive.writePartition(id, MONTH, [december(1, 5)]).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ArchiveInputError);
      expect(error).toMatchObject({ code: 'STRATA_VALIDATION_FAILED', field: 'id', message: expect.stringMatching(/^json-archive: id must be/) });
      expect(existsSync(join(dir, 'escape.jsonl.gz'))).toBe(false);
    });
  }

  it('rejects a month that is not YYYY-MM', async () => {
    for (const month of ['2025-13', '2025-1', 'December', '2025-12-01']) {
      await expect(archive.writePartition('p', month, [])).rejects.toMatchObject({ field: 'month', message: expect.stringContaining('YYYY-MM') });
    }
  });

  it('rejects a row outside the partition\'s month, naming the row, and stores nothing', async () => {
    const rows = december(10, 6);
    const stray = { ...rows[3]!, timestamp: Date.UTC(2026, 0, 1) };
    const error = await archive.writePartition('p', MONTH, [rows.slice(0, 3), [stray]]).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ field: 'rows[3].timestamp', message: expect.stringContaining('outside month 2025-12') });
    expect(await archive.listPartitions()).toEqual([]);
    expect(readdirSync(join(dir, '2025', '12'))).toEqual([]);
  });

  it('rejects a row without a numeric timestamp and a batch that is not an array', async () => {
    const [row] = december(1, 7);
    await expect(archive.writePartition('p', MONTH, [[{ ...row!, timestamp: '2025-12-05' as unknown as number }]])).rejects.toMatchObject({ field: 'rows[0].timestamp' });
    await expect(archive.writePartition('p', MONTH, [row as unknown as Interaction[]])).rejects.toMatchObject({ field: 'rows' });
  });

  it('rejects bad options, naming each', async () => {
    await expect(JsonArchive.open({ dir: '' })).rejects.toMatchObject({ field: 'dir' });
    await expect(JsonArchive.open({ dir, gzipLevel: 0 })).rejects.toMatchObject({ field: 'gzipLevel', message: expect.stringContaining('1 to 9') });
    await expect(JsonArchive.open({ dir, gzipLevel: 6.5 })).rejects.toMatchObject({ field: 'gzipLevel' });
    await expect(JsonArchive.open({ dir, lockTimeoutMs: -1 })).rejects.toMatchObject({ field: 'lockTimeoutMs' });
  });

  it('rejects rows that are not an iterable of batches', async () => {
    await expect(archive.writePartition('p', MONTH, 42 as unknown as Interaction[][])).rejects.toMatchObject({ field: 'rows' });
    await expect(archive.writePartition('p', MONTH, null as unknown as Interaction[][])).rejects.toMatchObject({ field: 'rows' });
  });

  it('passes on the error the rows themselves throw, leaving nothing behind', async () => {
    class HotTierDown extends Error {}
    async function* failing() {
      yield december(10, 25);
      throw new HotTierDown('hot tier went away');
    }
    await expect(archive.writePartition('p', MONTH, failing())).rejects.toBeInstanceOf(HotTierDown);
    expect(await archive.listPartitions()).toEqual([]);
    expect(readdirSync(join(dir, '2025', '12'))).toEqual([]);
  });

  it('explains a file where the archive directory should be', async () => {
    const file = join(directory, 'not-a-dir');
    writeFileSync(file, 'x');
    await expect(JsonArchive.open({ dir: file })).rejects.toMatchObject({ code: 'STRATA_STORAGE_FAILED', message: expect.stringContaining(`${file} (or a folder above it) is a file`) });
  });

  it('turns a full disk into STRATA_DISK_FULL saying nothing was committed', () => {
    const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write' });
    expect(archiveWriteError(enospc, 'writing partition "p"', '/archive/2025/12/.tmp-1-ab.jsonl.gz')).toMatchObject({
      code: 'STRATA_DISK_FULL',
      message: expect.stringContaining('nothing of it was committed'),
    });
  });

  it('rejects an id that differs from a stored one only in letter case', async () => {
    await archive.writePartition('Part-A', MONTH, [december(5, 8)]);
    await expect(archive.writePartition('part-a', MONTH, [december(5, 8)])).rejects.toThrow(PartitionConflictError);
  });

  it('rejects an id already stored in another month', async () => {
    await archive.writePartition('p', MONTH, [december(5, 9)]);
    await expect(archive.writePartition('p', '2026-01', [])).rejects.toThrow(/in month 2025-12, not 2026-01/);
  });

  it('refuses work once closed, and closes twice without error', async () => {
    await archive.close();
    await expect(archive.close()).resolves.toBeUndefined();
    await expect(archive.listPartitions()).rejects.toMatchObject({ code: 'STRATA_STORAGE_FAILED', message: expect.stringContaining('closed') });
    archive = await JsonArchive.open({ dir });
  });
});

describe('rewriting a partition', () => {
  it('writes a new file with new checksums under the same id, removes the old file, and verifies', async () => {
    const rows = december(200, 10);
    const before = await archive.writePartition('p', MONTH, [rows]);
    const session = rows[0]!.sessionId;
    const kept = rows.filter((row) => row.sessionId !== session);
    const { partition, removed } = await archive.rewritePartition('p', (row) => row.sessionId !== session);
    expect(removed).toBe(rows.length - kept.length);
    expect(partition).toMatchObject({ id: 'p', month: MONTH, rows: kept.length, rowsSha256: new InteractionDigest().add(kept).hex() });
    expect(partition.fileSha256).not.toBe(before.fileSha256);
    expect(readdirSync(join(dir, '2025', '12')).sort()).toEqual(['manifest.json', 'p~1.jsonl.gz']);
    expect((await archive.verifyPartition('p')).ok).toBe(true);
    expect(await rowsOf('p')).toEqual(kept);
  });

  it('changes nothing when every row is kept', async () => {
    const before = await archive.writePartition('p', MONTH, [december(40, 11)]);
    expect(await archive.rewritePartition('p', () => true)).toEqual({ partition: before, removed: 0 });
    expect(readdirSync(join(dir, '2025', '12')).sort()).toEqual(['manifest.json', 'p.jsonl.gz']);
  });

  it('keeps an emptied partition, with the digest of nothing', async () => {
    await archive.writePartition('p', MONTH, [december(10, 12)]);
    const { partition, removed } = await archive.rewritePartition('p', () => false);
    expect(removed).toBe(10);
    expect(partition).toMatchObject({ rows: 0, firstTimestamp: null, lastTimestamp: null, rowsSha256: new InteractionDigest().hex() });
  });

  it('refuses to rewrite a damaged partition, leaving it as it is', async () => {
    await archive.writePartition('p', MONTH, [december(60, 13)]);
    const file = join(dir, '2025', '12', 'p.jsonl.gz');
    const bytes = readFileSync(file);
    bytes[bytes.length >> 1] = bytes[bytes.length >> 1]! ^ 0xff;
    writeFileSync(file, bytes);
    await expect(archive.rewritePartition('p', () => false)).rejects.toMatchObject({ code: 'STRATA_ARCHIVE_CORRUPT' });
    expect(readdirSync(join(dir, '2025', '12')).sort()).toEqual(['manifest.json', 'p.jsonl.gz']);
  });

  it('is refused for an unknown id with STRATA_NOT_FOUND', async () => {
    await expect(archive.rewritePartition('nope', () => true)).rejects.toMatchObject({ code: 'STRATA_NOT_FOUND' });
  });

  it('reports each durable step in order', async () => {
    await archive.close();
    const steps: string[] = [];
    archive = await JsonArchive.open({ dir, onWriteStep: (step: WriteStep, id) => steps.push(`${step}:${id}`) });
    const rows = december(20, 14);
    await archive.writePartition('p', MONTH, [rows]);
    await archive.rewritePartition('p', (row) => row !== rows[0] && row.eventId !== rows[0]!.eventId);
    await archive.deletePartition('p');
    expect(steps).toEqual(['temp-synced:p', 'renamed:p', 'committed:p', 'temp-synced:p', 'renamed:p', 'committed:p', 'old-file-removed:p', 'committed:p']);
  });
});

describe('recovery on open', () => {
  it('removes temp files of dead writers and keeps those of live ones', async () => {
    await archive.writePartition('p', MONTH, [december(10, 15)]);
    await archive.close();
    const monthDir = join(dir, '2025', '12');
    const deadPid = await exitedPid();
    writeFileSync(join(monthDir, `.tmp-${deadPid}-abcdef.jsonl.gz`), 'half a partition');
    writeFileSync(join(monthDir, `.tmp-${process.ppid}-abcdef.jsonl.gz`), 'a live writer');
    archive = await JsonArchive.open({ dir });
    expect(archive.recovery.removedTempFiles).toEqual([join(monthDir, `.tmp-${deadPid}-abcdef.jsonl.gz`)]);
    expect(readdirSync(monthDir).sort()).toEqual([`.tmp-${process.ppid}-abcdef.jsonl.gz`, 'manifest.json', 'p.jsonl.gz']);
  });

  it('deletes a partition file no manifest names (renamed but never committed), so the id is free again', async () => {
    const rows = december(30, 16);
    await archive.writePartition('p', MONTH, [rows]);
    const committed = readFileSync(join(dir, '2025', '12', 'p.jsonl.gz'));
    await archive.close();
    writeFileSync(join(dir, '2025', '12', 'orphan.jsonl.gz'), committed);
    archive = await JsonArchive.open({ dir });
    expect(archive.recovery.removedOrphans).toEqual([join(dir, '2025', '12', 'orphan.jsonl.gz')]);
    expect((await archive.listPartitions()).map((partition) => partition.id)).toEqual(['p']);
    expect((await archive.writePartition('orphan', MONTH, [rows])).rows).toBe(30);
  });

  it('leaves a month with an unreadable manifest untouched and reports it', async () => {
    await archive.writePartition('p', MONTH, [december(10, 17)]);
    await archive.close();
    writeFileSync(join(dir, '2025', '12', 'manifest.json'), 'not json');
    archive = await JsonArchive.open({ dir });
    expect(archive.recovery.unreadableMonths).toEqual([MONTH]);
    expect(readdirSync(join(dir, '2025', '12')).sort()).toEqual(['manifest.json', 'p.jsonl.gz']);
  });
});

describe('the archive lock', () => {
  it('takes over a lock left by a process that died', async () => {
    writeFileSync(join(dir, '.lock'), JSON.stringify({ pid: await exitedPid(), host: hostname(), since: Date.now() - 60_000 }));
    expect((await archive.writePartition('p', MONTH, [december(5, 18)])).rows).toBe(5);
    expect(existsSync(join(dir, '.lock'))).toBe(false);
  });

  it('waits for a live holder, then fails naming it and the lock file', async () => {
    await archive.close();
    archive = await JsonArchive.open({ dir, lockTimeoutMs: 50 });
    writeFileSync(join(dir, '.lock'), JSON.stringify({ pid: process.ppid, host: hostname(), since: Date.UTC(2026, 0, 1) }));
    const error = await archive.writePartition('p', MONTH, [december(5, 19)]).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'STRATA_STORAGE_FAILED', message: expect.stringContaining(`locked by process ${process.ppid}`) });
    expect((error as Error).message).toContain(join(dir, '.lock'));
    rmSync(join(dir, '.lock'));
    expect(await archive.listPartitions()).toEqual([]);
    expect(readdirSync(join(dir, '2025', '12'))).toEqual([]);
  });

  it('commits concurrent writes from one process without losing a manifest entry', async () => {
    const writes = Array.from({ length: 12 }, (_, index) => archive.writePartition(`p-${index}`, MONTH, [december(20, 100 + index)]));
    await Promise.all(writes);
    expect((await archive.listPartitions()).map((partition) => partition.id).sort()).toEqual(Array.from({ length: 12 }, (_, index) => `p-${index}`).sort());
  });

  it('lets two archive objects on one directory share it safely', async () => {
    const other = await JsonArchive.open({ dir });
    await Promise.all([archive.writePartition('from-a', MONTH, [december(20, 20)]), other.writePartition('from-b', MONTH, [december(20, 21)])]);
    expect((await archive.listPartitions()).map((partition) => partition.id)).toEqual(['from-a', 'from-b']);
    await other.close();
  });
});

describe('reading', () => {
  it('follows a rewrite committed between reading the manifest and opening the file', async () => {
    const rows = december(50, 22);
    await archive.writePartition('p', MONTH, [rows]);
    const store = partitionStoreOf(archive);
    const [staleEntry] = await store.entries();
    await archive.rewritePartition('p', (row) => row.eventId !== rows[0]!.eventId);
    const all: Interaction[] = [];
    for await (const batch of store.read(staleEntry!)) all.push(...batch);
    expect(all).toEqual(rows.slice(1));
  });

  it('starts from the committed version when a reader created before a rewrite is first pulled after it', async () => {
    const rows = december(50, 24);
    await archive.writePartition('p', MONTH, [rows]);
    const reader = archive.readPartition('p', { batchSize: 10 });
    await archive.rewritePartition('p', (row) => row.eventId !== rows[0]!.eventId);
    const all: Interaction[] = [];
    for await (const batch of reader) all.push(...batch);
    expect(all).toEqual(rows.slice(1));
  });

  it('keeps reading the file it opened when a rewrite replaces it meanwhile', async () => {
    const rows = december(50, 23);
    await archive.writePartition('p', MONTH, [rows]);
    const reader = archive.readPartition('p', { batchSize: 10 })[Symbol.asyncIterator]();
    const first = await reader.next();
    await archive.rewritePartition('p', () => false);
    const all = [...(first.value as Interaction[])];
    for (let next = await reader.next(); !next.done; next = await reader.next()) all.push(...next.value);
    expect(all).toEqual(rows);
  });
});

/** A pid that no process has any more. */
async function exitedPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  const pid = child.pid!;
  await new Promise((resolve) => child.on('exit', resolve));
  return pid;
}

