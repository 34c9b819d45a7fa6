import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateWorkload } from '@strata/testing';
import { describe, expect, it } from 'vitest';
import { exportEnvironmentOf, exportToFile, importFile } from '../src/index.js';
import { DAY_MS, awkwardEvents, ingestAll, openStrata, rollupSnapshot, rowsById, tempDir } from './helpers.js';

const START = Date.UTC(2026, 0, 5);

/** A realistic workload plus the awkward texts, ingested into a fresh data dir. */
async function sourceStrata() {
  const dataDir = tempDir();
  const strata = await openStrata(dataDir);
  const workload = [...generateWorkload({ events: 1_500, seed: 11, start: START, days: 20, networkFields: false })];
  await ingestAll(strata, [...workload, ...awkwardEvents(START + 3 * DAY_MS)]);
  return { dataDir, strata };
}

describe('export then import into an empty data dir', () => {
  for (const format of ['jsonl', 'json', 'csv'] as const) {
    it(`gives identical interactions and rollups (${format})`, async () => {
      const source = await sourceStrata();
      const file = join(tempDir(), `interactions.${format}`);
      const exported = await exportToFile(exportEnvironmentOf(source.strata), { dataset: 'interactions', format }, file);
      expect(exported.rows).toBe(1_516);
      expect(exported.counts).toMatchObject({ hot: 1_516 });

      const targetDir = tempDir();
      const target = await openStrata(targetDir);
      const imported = await importFile({ registry: exportEnvironmentOf(target).registry, path: file, ingestLines: (lines, options) => target.ingestLines(lines, options) });
      expect(imported).toMatchObject({ format, stored: 1_516, duplicates: 0, rejected: 0, failed: 0 });

      const before = await rowsById(source.strata.storage('hot')!);
      const after = await rowsById(target.storage('hot')!);
      expect(after.size).toBe(before.size);
      for (const [eventId, row] of before) expect(after.get(eventId), eventId).toEqual(row);

      await source.strata.close();
      await target.close();
      expect(rollupSnapshot(targetDir)).toEqual(rollupSnapshot(source.dataDir));
    });
  }

  it('writes a gzip file when the name ends in .gz, and imports it back', async () => {
    const source = await sourceStrata();
    const file = join(tempDir(), 'interactions.csv.gz');
    const exported = await exportToFile(exportEnvironmentOf(source.strata), { dataset: 'interactions', format: 'csv' }, file);
    expect(exported.gzip).toBe(true);
    expect(readFileSync(file).subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    expect(exported.fileBytes).toBeLessThan(exported.bytes);

    const target = await openStrata(tempDir());
    const imported = await importFile({ registry: exportEnvironmentOf(target).registry, path: file, ingestLines: (lines, options) => target.ingestLines(lines, options) });
    expect(imported).toMatchObject({ format: 'csv', stored: 1_516, rejected: 0 });
  });
});
