import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { generateWorkload } from '@strata/testing';
import { describe, expect, it } from 'vitest';
import { ExportOptionError, ImportFileError, createExportRegistry, exportEnvironmentOf, exportToFile, importFile, importRecords, type ExportFormat } from '../src/index.js';
import { ingestAll, openStrata, tempDir } from './helpers.js';

const START = Date.UTC(2026, 1, 1);
const registry = createExportRegistry();

function events(count: number, seed = 3) {
  return [...generateWorkload({ events: count, seed, start: START, days: 5, networkFields: false })];
}

async function importInto(dataDir: string, path: string, format?: string) {
  const strata = await openStrata(dataDir);
  try {
    return await importFile({ registry, path, ...(format ? { format } : {}), ingestLines: (lines, options) => strata.ingestLines(lines, options) });
  } finally {
    await strata.close();
  }
}

function deadLetters(dataDir: string): Array<{ reason: string; source: { line: number } }> {
  const dir = join(dataDir, 'dead-letter');
  return readdirSync(dir)
    .filter((name) => name.endsWith('.jsonl'))
    .flatMap((name) => readFileSync(join(dir, name), 'utf8').trim().split('\n'))
    .map((line) => JSON.parse(line) as { reason: string; source: { line: number } });
}

describe('import', () => {
  it('reports every record as a duplicate when the same file is imported twice', async () => {
    const source = await openStrata(tempDir());
    await ingestAll(source, events(300));
    const file = join(tempDir(), 'export.csv');
    await exportToFile(exportEnvironmentOf(source), { dataset: 'interactions', format: 'csv' }, file);

    const target = tempDir();
    expect(await importInto(target, file)).toMatchObject({ stored: 300, duplicates: 0, accepted: 300 });
    expect(await importInto(target, file)).toMatchObject({ stored: 0, duplicates: 300, accepted: 300, rejected: 0 });
  });

  it('validates each record as ingest does: bad records are dead-lettered with the field and reason, the rest stored', async () => {
    const dir = tempDir();
    const good = events(3);
    const file = join(dir, 'mixed.jsonl');
    const lines = [JSON.stringify(good[0]), JSON.stringify({ ...good[1], userRating: 9 }), '{not json', '', JSON.stringify(good[2])];
    writeFileSync(file, `${lines.join('\n')}\n`);
    const dataDir = tempDir();
    const result = await importInto(dataDir, file);
    expect(result).toMatchObject({ stored: 2, rejected: 2, deadLetter: 2, blank: 1, lines: 5 });
    const letters = deadLetters(dataDir);
    expect(letters.map((letter) => letter.source.line).sort()).toEqual([2, 3]);
    expect(letters.find((letter) => letter.source.line === 2)!.reason).toMatch(/userRating: must be an integer from 1 to 5, got 9/);
  });

  it('numbers CSV records from the first row after the header, and rejects a cell of the wrong type by its field', async () => {
    const dir = tempDir();
    const file = join(dir, 'typed.csv');
    writeFileSync(
      file,
      [
        'sessionId,timestamp,userRole,query,queryType,responseTime,success',
        's1,2026-02-01T10:00:00.000Z,student,"What, exactly?",general,1.5,true',
        's2,2026-02-01T10:01:00.000Z,student,Why,general,fast,true',
        "s3,1769940120000,student,'=1+1,general,2,FALSE",
      ].join('\r\n'),
    );
    const dataDir = tempDir();
    const result = await importInto(dataDir, file);
    expect(result).toMatchObject({ stored: 2, rejected: 1, lines: 3 });
    const [letter] = deadLetters(dataDir);
    expect(letter!.source.line).toBe(2);
    expect(letter!.reason).toMatch(/responseTime: must be a non-negative number of seconds, got "fast"/);
    const strata = await openStrata(dataDir);
    const page = await strata.storage('hot')!.queryInteractions({ sessionId: 's3' });
    expect(page.items[0]).toMatchObject({ query: '=1+1', success: false, timestamp: 1769940120000 });
  });

  it('refuses a CSV header with a column that is not an interaction field, naming it and the known ones', async () => {
    const file = join(tempDir(), 'queries.csv');
    writeFileSync(file, 'queryHash,query,asks\r\nabc,hello,3\r\n');
    await expect(importInto(tempDir(), file)).rejects.toThrow(/queries\.csv line 1: column 1 of the header is "queryHash", which is not an interaction field; known columns: eventId, sessionId/);
  });

  it('stops at malformed CSV with the line, after storing the records before it (kept in the error)', async () => {
    const good = events(2);
    const file = join(tempDir(), 'broken.csv');
    const row = (event: (typeof good)[number]) => [event.sessionId, event.timestamp, event.userRole, `"${event.query}"`, event.queryType, event.responseTime, event.success].join(',');
    writeFileSync(file, ['sessionId,timestamp,userRole,query,queryType,responseTime,success', row(good[0]!), row(good[1]!), 's9,2026-02-01T00:00:00Z,student,"never closed,general,1,true'].join('\r\n'));
    const dataDir = tempDir();
    const error = await importInto(dataDir, file).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ImportFileError);
    expect((error as ImportFileError).message).toMatch(/broken\.csv line 4: is not valid CSV: .*Quote Not Closed/i);
    expect((error as ImportFileError).partial).toMatchObject({ stored: 2 });
    const strata = await openStrata(dataDir);
    expect(await strata.storage('hot')!.countInteractions()).toBe(2);
  });

  it('tells the format from the file name, refuses a name it cannot tell, and an export-only format', async () => {
    const file = join(tempDir(), 'events.txt');
    writeFileSync(file, `${JSON.stringify(events(1)[0])}\n`);
    await expect(importInto(tempDir(), file)).rejects.toThrow(/format cannot be told from the name of .*events\.txt; pass one of jsonl, json, csv \(--format\)/);
    expect(await importInto(tempDir(), file, 'jsonl')).toMatchObject({ stored: 1 });
    const exportOnly: ExportFormat = { name: 'xml', extensions: ['.xml'], description: 'XML', encoder: () => ({ begin: () => '', rows: () => '', end: () => '' }) };
    const withXml = createExportRegistry({ formats: [exportOnly] });
    await expect(importRecords({ registry: withXml, format: 'xml', input: Readable.from([]), source: 'x.xml', ingestLines: async () => { throw new Error('not reached'); } })).rejects.toThrow(
      /format "xml" is export-only and cannot be imported; import takes jsonl, json, csv/,
    );
    await expect(importInto(tempDir(), join(tempDir(), 'missing.jsonl'))).rejects.toThrow(/missing\.jsonl: cannot be read: no such file or directory/);
  });

  it('keeps the stored forms of network fields, as an export carries them', async () => {
    const event = { ...events(1)[0], ipHash: 'ps1.0011aabb.AbCdEfGhIjKlMnOpQrStUv', userAgentHash: null };
    const file = join(tempDir(), 'hashed.jsonl');
    writeFileSync(file, `${JSON.stringify(event)}\n`);
    const dataDir = tempDir();
    expect(await importInto(dataDir, file)).toMatchObject({ stored: 1 });
  });

  it('refuses an unknown format by name, listing the known ones', () => {
    expect(() => registry.format('parquet')).toThrow(ExportOptionError);
    expect(() => registry.format('parquet')).toThrow(/format "parquet" is not a known format; known formats: jsonl, json, csv/);
  });

  it('reports a damaged gzip file as such', async () => {
    const file = join(tempDir(), 'damaged.jsonl.gz');
    writeFileSync(file, Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3, 4, 5]));
    await expect(importInto(tempDir(), file)).rejects.toThrow(/damaged\.jsonl\.gz: is a damaged gzip file/);
  });
});
