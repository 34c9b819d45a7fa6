import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { InteractionDigest, interactionLine, type Interaction } from '@strata/core';
import { sampleInteractions } from '@strata/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JsonArchive } from '../src/index.js';

let directory: string;
let archive: JsonArchive;
const november = sampleInteractions(150, 31, Date.UTC(2025, 10, 2), 20);
const december = sampleInteractions(150, 32, Date.UTC(2025, 11, 2), 20);
const january = sampleInteractions(150, 33, Date.UTC(2026, 0, 2), 20);

beforeEach(async () => {
  directory = mkdtempSync(join(tmpdir(), 'json-archive-summary-'));
  archive = await JsonArchive.open({ dir: join(directory, 'archive'), now: () => Date.UTC(2026, 5, 1) });
  await archive.writePartition('nov', '2025-11', [november]);
  await archive.writePartition('dec-a', '2025-12', [december.slice(0, 100)]);
  await archive.writePartition('dec-b', '2025-12', [december.slice(100)]);
  await archive.writePartition('jan', '2026-01', [january]);
});

afterEach(async () => {
  await archive.close();
  rmSync(directory, { recursive: true, force: true });
});

function countsOf(rows: Interaction[]) {
  const byRole: Record<string, number> = {};
  const byQueryType: Record<string, number> = {};
  for (const row of rows) {
    byRole[row.userRole] = (byRole[row.userRole] ?? 0) + 1;
    byQueryType[row.queryType] = (byQueryType[row.queryType] ?? 0) + 1;
  }
  return {
    rows: rows.length,
    successes: rows.filter((row) => row.success).length,
    responseTimeUsSum: rows.reduce((sum, row) => sum + Math.round(row.responseTime * 1_000_000), 0),
    ratedRows: rows.filter((row) => row.userRating !== null).length,
    ratingSum: rows.reduce((sum, row) => sum + (row.userRating ?? 0), 0),
    byRole,
    byQueryType,
  };
}

function damage(month: string, file: string): void {
  const path = join(archive.dir, month.slice(0, 4), month.slice(5), file);
  const bytes = readFileSync(path);
  bytes[100] = bytes[100]! ^ 0x01;
  writeFileSync(path, bytes);
}

describe('yearly summaries', () => {
  it('writes summaries/YYYY.json with per-month counts and the checksums of the partitions read', async () => {
    const summary = await archive.summarizeYear(2025);
    const partitions = new Map((await archive.listPartitions()).map((partition) => [partition.id, partition]));
    expect(summary).toMatchObject({ format: 'strata-json-archive/year-summary', version: 1, year: 2025, createdAt: Date.UTC(2026, 5, 1), ...countsOf([...november, ...december]) });
    expect(summary.months.map((month) => month.month)).toEqual(['2025-11', '2025-12']);
    expect(summary.months[1]).toMatchObject(countsOf(december));
    expect(summary.months[1]!.partitions).toEqual(
      ['dec-a', 'dec-b'].map((id) => ({ id, rows: partitions.get(id)!.rows, fileSha256: partitions.get(id)!.fileSha256, rowsSha256: partitions.get(id)!.rowsSha256 })),
    );
    expect(JSON.parse(readFileSync(join(archive.dir, 'summaries', '2025.json'), 'utf8'))).toEqual(summary);
  });

  it('fails without touching the previous summary when a partition of the year is damaged', async () => {
    const first = await archive.summarizeYear(2025);
    damage('2025-12', 'dec-b.jsonl.gz');
    await expect(archive.summarizeYear(2025)).rejects.toMatchObject({ code: 'STRATA_ARCHIVE_CORRUPT', message: expect.stringContaining('"dec-b"') });
    expect(JSON.parse(readFileSync(join(archive.dir, 'summaries', '2025.json'), 'utf8'))).toEqual(first);
    expect(readdirSync(join(archive.dir, 'summaries'))).toEqual(['2025.json']);
  });

  it('summarises a year without partitions as empty', async () => {
    expect(await archive.summarizeYear(2024)).toMatchObject({ rows: 0, months: [] });
  });

  it('rejects a year that is not a four-digit number', async () => {
    await expect(archive.summarizeYear(25)).rejects.toMatchObject({ field: 'year' });
    await expect(archive.summarizeYear(2025.5)).rejects.toMatchObject({ field: 'year' });
  });
});

describe('compliance exports', () => {
  it('streams a range as JSONL with a manifest holding the row count, the file SHA-256 and the source partitions', async () => {
    const range = { from: december[20]!.timestamp, to: january[30]!.timestamp };
    const out = join(directory, 'exports', 'audit.jsonl');
    const manifest = await archive.exportCompliance({ out, range });
    const expected = [...december, ...january].filter((row) => row.timestamp >= range.from && row.timestamp < range.to).sort((a, b) => a.timestamp - b.timestamp);
    const content = readFileSync(out);
    expect(content.toString('utf8')).toBe(expected.map((row) => `${interactionLine(row)}\n`).join(''));
    expect(manifest).toMatchObject({
      format: 'strata-json-archive/compliance-export',
      file: 'audit.jsonl',
      gzip: false,
      rows: expected.length,
      bytes: content.length,
      sha256: createHash('sha256').update(content).digest('hex'),
      rowsSha256: new InteractionDigest().add(expected).hex(),
      filter: { from: range.from, to: range.to, sessionId: null },
    });
    expect(manifest.sources.map((source) => source.id)).toEqual(['dec-a', 'dec-b', 'jan']);
    expect(manifest.sources.reduce((sum, source) => sum + source.exportedRows, 0)).toBe(expected.length);
    const listed = new Map((await archive.listPartitions()).map((partition) => [partition.id, partition]));
    for (const source of manifest.sources) expect(source.fileSha256).toBe(listed.get(source.id)!.fileSha256);
    expect(JSON.parse(readFileSync(`${out}.manifest.json`, 'utf8'))).toEqual(manifest);
  });

  it('exports one session gzip-compressed, the manifest checksumming the compressed file', async () => {
    const session = december[0]!.sessionId;
    const out = join(directory, 'session.jsonl.gz');
    const manifest = await archive.exportCompliance({ out, sessionId: session });
    const compressed = readFileSync(out);
    const expected = december.filter((row) => row.sessionId === session);
    expect(gunzipSync(compressed).toString('utf8')).toBe(expected.map((row) => `${interactionLine(row)}\n`).join(''));
    expect(manifest).toMatchObject({ gzip: true, rows: expected.length, sha256: createHash('sha256').update(compressed).digest('hex') });
    expect(manifest.sources.map((source) => source.id)).toEqual(['nov', 'dec-a', 'dec-b', 'jan']);
  });

  it('fails on a damaged source partition and leaves no export behind', async () => {
    damage('2026-01', 'jan.jsonl.gz');
    const out = join(directory, 'broken.jsonl');
    await expect(archive.exportCompliance({ out })).rejects.toMatchObject({ code: 'STRATA_ARCHIVE_CORRUPT' });
    expect(readdirSync(directory).filter((name) => name.includes('broken'))).toEqual([]);
  });

  it('leaves no export behind when aborted', async () => {
    const out = join(directory, 'aborted.jsonl');
    await expect(archive.exportCompliance({ out, signal: AbortSignal.abort() })).rejects.toThrow();
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(directory).filter((name) => name.includes('aborted'))).toEqual([]);
  });

  it('rejects bad options, naming each', async () => {
    await expect(archive.exportCompliance({ out: '' })).rejects.toMatchObject({ field: 'out' });
    await expect(archive.exportCompliance({ out: join(directory, 'x.jsonl'), sessionId: '' })).rejects.toMatchObject({ field: 'sessionId' });
    await expect(archive.exportCompliance({ out: join(directory, 'x.jsonl'), range: { from: Number.NaN } })).rejects.toMatchObject({ field: 'range.from' });
  });
});
