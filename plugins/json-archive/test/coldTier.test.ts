import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InteractionDigest, monthOf, type Interaction } from '@strata/core';
import { sampleInteractions } from '@strata/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JsonArchive, JsonArchiveTier } from '../src/index.js';

let directory: string;
let tier: JsonArchiveTier;

beforeEach(async () => {
  directory = mkdtempSync(join(tmpdir(), 'json-archive-tier-'));
  tier = await JsonArchiveTier.open({ dir: join(directory, 'archive') });
});

afterEach(async () => {
  await tier.close();
  rmSync(directory, { recursive: true, force: true });
});

/** Rows of one month, `count` of them spread over days [firstDay, firstDay + days). */
function monthRows(year: number, monthIndex: number, count: number, seed: number, firstDay = 1, days = 20): Interaction[] {
  return sampleInteractions(count, seed, Date.UTC(year, monthIndex, firstDay), days);
}

async function scanAll(range = {}): Promise<Interaction[]> {
  const out: Interaction[] = [];
  for await (const batch of tier.scanInteractions(range, { batchSize: 97 })) out.push(...batch);
  return out;
}

function damage(archive: JsonArchive, month: string, file: string): void {
  const path = join(archive.dir, month.slice(0, 4), month.slice(5), file);
  const bytes = readFileSync(path);
  bytes[bytes.length >> 1] = bytes[bytes.length >> 1]! ^ 0xff;
  writeFileSync(path, bytes);
}

const byTime = (a: Interaction, b: Interaction) => a.timestamp - b.timestamp;

describe('reading a range', () => {
  it('opens only the partitions the range overlaps: a damaged partition elsewhere does not matter', async () => {
    const october = monthRows(2025, 9, 100, 1);
    const november = monthRows(2025, 10, 100, 2);
    const december = monthRows(2025, 11, 100, 3);
    await tier.archive.writePartition('oct', '2025-10', [october]);
    await tier.archive.writePartition('nov', '2025-11', [november]);
    await tier.archive.writePartition('dec', '2025-12', [december]);
    damage(tier.archive, '2025-10', 'oct.jsonl.gz');
    const fromNovember = { from: Date.UTC(2025, 10, 1) };
    expect(await scanAll(fromNovember)).toEqual([...november, ...december]);
    expect(await tier.countInteractions(fromNovember)).toBe(200);
    expect((await tier.queryInteractions({ range: fromNovember, limit: 1000 })).items).toHaveLength(200);
    await expect(scanAll({ from: Date.UTC(2025, 9, 5), to: Date.UTC(2025, 9, 6) })).rejects.toMatchObject({ code: 'STRATA_ARCHIVE_CORRUPT' });
  });

  it('counts partitions wholly inside the range from the manifest alone, reading only those that straddle an end', async () => {
    const november = monthRows(2025, 10, 100, 4);
    const december = monthRows(2025, 11, 100, 5);
    await tier.archive.writePartition('nov', '2025-11', [november]);
    await tier.archive.writePartition('dec', '2025-12', [december]);
    // November is damaged yet counted: a range holding all of it never opens the file.
    damage(tier.archive, '2025-11', 'nov.jsonl.gz');
    const to = december[40]!.timestamp;
    expect(await tier.countInteractions({ from: Date.UTC(2025, 10, 1), to })).toBe(100 + december.filter((row) => row.timestamp < to).length);
    await expect(tier.countInteractions({ from: november[10]!.timestamp })).rejects.toMatchObject({ code: 'STRATA_ARCHIVE_CORRUPT' });
  });

  it('merges partitions whose time spans overlap into one time-ordered stream', async () => {
    const rows = monthRows(2025, 11, 400, 6);
    await tier.archive.writePartition('even', '2025-12', [rows.filter((_, index) => index % 2 === 0)]);
    await tier.archive.writePartition('odd', '2025-12', [rows.filter((_, index) => index % 2 === 1)]);
    const scanned = await scanAll();
    expect(scanned.map((row) => row.eventId).sort()).toEqual(rows.map((row) => row.eventId).sort());
    const times = scanned.map((row) => row.timestamp);
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  it('returns the rows of a partition stored out of time order in time order', async () => {
    const rows = monthRows(2025, 11, 150, 7);
    await tier.archive.writePartition('shuffled', '2025-12', [[...rows].reverse()]);
    const times = (await scanAll()).map((row) => row.timestamp);
    expect(times).toEqual(rows.map((row) => row.timestamp).sort((a, b) => a - b));
  });

  it('pages a filtered query with cursors across partitions, each row once, even when timestamps tie', async () => {
    const rows = monthRows(2025, 11, 300, 8);
    // Many rows on the same millisecond across two partitions: the cursor must still be exact.
    const tied = rows.map((row, index) => (index % 3 === 0 ? { ...row, timestamp: Date.UTC(2025, 11, 15) } : row));
    await tier.archive.writePartition('a', '2025-12', [tied.slice(0, 150).sort(byTime)]);
    await tier.archive.writePartition('b', '2025-12', [tied.slice(150).sort(byTime)]);
    const role = tied[0]!.userRole;
    const expected = tied.filter((row) => row.userRole === role);
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await tier.queryInteractions({ userRole: role, limit: 7, ...(cursor ? { cursor } : {}) });
      seen.push(...page.items.map((row) => row.eventId));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(seen).toHaveLength(expected.length);
    expect(new Set(seen)).toEqual(new Set(expected.map((row) => row.eventId)));
  });

  it('refuses a cursor it did not issue', async () => {
    await expect(tier.queryInteractions({ cursor: 'bm90LWEtY3Vyc29y' })).rejects.toThrow(/cursor .* is not one this tier issued/);
  });
});

describe('deleting a range', () => {
  it('drops partitions wholly inside, rewrites those straddling an end, and leaves the rest untouched', async () => {
    const early = monthRows(2025, 11, 100, 9, 1, 9);
    const middle = monthRows(2025, 11, 100, 10, 11, 9);
    const late = monthRows(2025, 11, 100, 11, 21, 9);
    const [p1, , p3] = [
      await tier.archive.writePartition('early', '2025-12', [early]),
      await tier.archive.writePartition('middle', '2025-12', [middle]),
      await tier.archive.writePartition('late', '2025-12', [late]),
    ];
    const range = { from: Date.UTC(2025, 11, 5), to: Date.UTC(2025, 11, 21) };
    const inRange = [...early, ...middle, ...late].filter((row) => row.timestamp >= range.from && row.timestamp < range.to);
    expect(await tier.deleteInteractions(range)).toBe(inRange.length);
    const after = await tier.archive.listPartitions();
    expect(after.map((partition) => partition.id)).toEqual(['early', 'late']);
    const rewritten = after.find((partition) => partition.id === 'early')!;
    const keptEarly = early.filter((row) => row.timestamp < range.from);
    expect(rewritten).toMatchObject({ rows: keptEarly.length, rowsSha256: new InteractionDigest().add(keptEarly).hex() });
    expect(rewritten.fileSha256).not.toBe(p1!.fileSha256);
    expect(after.find((partition) => partition.id === 'late')).toEqual(p3);
    for (const partition of after) expect((await tier.archive.verifyPartition(partition.id)).ok).toBe(true);
    expect(await tier.countInteractions(range)).toBe(0);
    expect(readdirSync(join(tier.archive.dir, '2025', '12')).sort()).toEqual(['early~1.jsonl.gz', 'late.jsonl.gz', 'manifest.json']);
  });
});

describe('erasing a session', () => {
  it('rewrites only the partitions holding it, with new checksums that verify, and returns rows removed', async () => {
    const november = monthRows(2025, 10, 200, 12);
    const december = monthRows(2025, 11, 200, 13);
    const session = november[0]!.sessionId;
    // The same session in two months, as a conversation over midnight at a month's end would be.
    const decemberWithSession = [...december, { ...november[0]!, eventId: 'late-turn', timestamp: Date.UTC(2025, 11, 25) }].sort(byTime);
    const untouched = monthRows(2025, 9, 100, 14);
    const before = [
      await tier.archive.writePartition('nov', '2025-11', [november]),
      await tier.archive.writePartition('dec', '2025-12', [decemberWithSession]),
      await tier.archive.writePartition('oct', '2025-10', [untouched]),
    ];
    const expected = november.filter((row) => row.sessionId === session).length + 1;
    expect(await tier.eraseSession(session)).toBe(expected);
    const after = new Map((await tier.archive.listPartitions()).map((partition) => [partition.id, partition]));
    expect(after.get('nov')!.fileSha256).not.toBe(before[0]!.fileSha256);
    expect(after.get('dec')!.fileSha256).not.toBe(before[1]!.fileSha256);
    expect(after.get('oct')).toEqual(before[2]);
    for (const id of after.keys()) expect((await tier.archive.verifyPartition(id)).ok).toBe(true);
    expect((await tier.queryInteractions({ sessionId: session, limit: 10 })).items).toEqual([]);
    expect(await tier.countInteractions()).toBe(200 + 200 + 100 + 1 - expected);
    expect(await tier.eraseSession(session)).toBe(0);
  });

  it('rejects an empty session id, naming the field', async () => {
    await expect(tier.eraseSession('')).rejects.toMatchObject({ code: 'STRATA_VALIDATION_FAILED', field: 'sessionId' });
  });
});

describe('writing through the tier', () => {
  it('stores a batch as one time-ordered partition per month, named by its digest, in the stored form', async () => {
    const rows = [...monthRows(2025, 10, 60, 15), ...monthRows(2025, 11, 40, 16)].reverse();
    const withNetworkFields = rows.map((row) => ({ ...row, ipAddress: '203.0.113.9', userAgent: 'curl/8' }));
    expect(await tier.writeInteractions(withNetworkFields)).toEqual({ inserted: 100, duplicates: 0, duplicateIds: [] });
    const partitions = await tier.archive.listPartitions();
    expect(partitions.map((partition) => partition.month)).toEqual(['2025-11', '2025-12']);
    for (const partition of partitions) {
      const expected = rows.filter((row) => monthOf(row.timestamp) === partition.month).sort(byTime);
      const digest = new InteractionDigest().add(expected).hex();
      expect(partition).toMatchObject({ id: `cold-${partition.month}-${digest.slice(0, 32)}`, rows: expected.length, rowsSha256: digest });
      const read: Interaction[] = [];
      for await (const batch of tier.archive.readPartition(partition.id)) read.push(...batch);
      expect(read).toEqual(expected);
      expect(read.every((row) => !('ipAddress' in row) && !('userAgent' in row))).toBe(true);
    }
  });

  it('writes nothing new when the same batch comes again', async () => {
    const rows = monthRows(2025, 11, 50, 17);
    await tier.writeInteractions(rows);
    const again = await tier.writeInteractions(rows);
    expect(again.inserted).toBe(0);
    expect(again.duplicates).toBe(50);
    expect(await tier.archive.listPartitions()).toHaveLength(1);
  });
});

describe('backup', () => {
  it('copies partitions, manifests and summaries that restore into a working archive', async () => {
    const november = monthRows(2025, 10, 80, 18);
    const december = monthRows(2025, 11, 80, 19);
    await tier.archive.writePartition('nov', '2025-11', [november]);
    await tier.archive.writePartition('dec', '2025-12', [december]);
    await tier.archive.summarizeYear(2025);
    const target = join(directory, 'backup');
    const backup = await tier.backup(target);
    // Partition files first: a restore that copies in this order never has a manifest naming a missing file.
    expect(backup.files.map((file) => file.path)).toEqual([
      'archive/2025/11/nov.jsonl.gz',
      'archive/2025/12/dec.jsonl.gz',
      'archive/2025/11/manifest.json',
      'archive/2025/12/manifest.json',
      'archive/summaries/2025.json',
    ]);
    expect(backup.files[0]).toMatchObject({ restoreTo: join(tier.archive.dir, '2025', '11', 'nov.jsonl.gz'), bytes: (await tier.archive.listPartitions({ month: '2025-11' }))[0]!.bytes });
    const restoredDir = join(directory, 'restored');
    cpSync(join(target, 'archive'), restoredDir, { recursive: true });
    const restored = await JsonArchive.open({ dir: restoredDir });
    expect(await restored.listPartitions()).toEqual(await tier.archive.listPartitions());
    for (const id of ['nov', 'dec']) expect((await restored.verifyPartition(id)).ok).toBe(true);
    await restored.close();
  });

  it('refuses to back up a damaged partition and leaves no partial copy', async () => {
    await tier.archive.writePartition('dec', '2025-12', [monthRows(2025, 11, 80, 20)]);
    damage(tier.archive, '2025-12', 'dec.jsonl.gz');
    const target = join(directory, 'backup');
    await expect(tier.backup(target)).rejects.toMatchObject({ code: 'STRATA_ARCHIVE_CORRUPT', message: expect.stringContaining('"dec"') });
    expect(readdirSync(join(target, 'archive', '2025', '12'))).toEqual([]);
  });

  it('copies nothing when aborted', async () => {
    await tier.archive.writePartition('dec', '2025-12', [monthRows(2025, 11, 20, 21)]);
    await expect(tier.backup(join(directory, 'backup'), { signal: AbortSignal.abort() })).rejects.toThrow();
    expect(() => readdirSync(join(directory, 'backup', 'archive', '2025', '12'))).toThrow();
  });
});

describe('health', () => {
  it('reports partitions, rows and bytes from the manifests', async () => {
    await tier.archive.writePartition('dec', '2025-12', [monthRows(2025, 11, 30, 22)]);
    const health = await tier.health();
    expect(health).toMatchObject({ ok: true, details: { partitions: 1, rows: 30, months: 1, gzipLevel: 6 } });
  });

  it('is not ok when a partition file is missing, naming it', async () => {
    await tier.archive.writePartition('dec', '2025-12', [monthRows(2025, 11, 30, 23)]);
    rmSync(join(tier.archive.dir, '2025', '12', 'dec.jsonl.gz'));
    const health = await tier.health();
    expect(health.ok).toBe(false);
    expect(health.problem).toContain('partition "dec"');
  });

  it('is not ok once closed', async () => {
    await tier.close();
    expect(await tier.health()).toMatchObject({ ok: false, problem: 'closed' });
    tier = await JsonArchiveTier.open({ dir: join(directory, 'archive') });
  });
});
