import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { InsightsProvider, StorageTier } from '@strata/core';
import { sampleInteractions } from '@strata/testing';
import { describe, expect, it } from 'vitest';
import {
  ExportOptionError,
  ExportWriteError,
  createExportRegistry,
  exportEnvironmentOf,
  exportToFile,
  exportToStream,
  parseTimeBound,
  type ExportEnvironment,
  type ExportSource,
} from '../src/index.js';
import { ingestAll, memoryStream, openStrata, tempDir } from './helpers.js';

const noInsights = {} as InsightsProvider;

/** An environment over one contributed source and no tiers. */
function environmentWith(source: ExportSource): ExportEnvironment {
  return { registry: createExportRegistry({ sources: [source] }), storage: () => undefined, insights: noInsights };
}

/** A source of `batches` batches of `size` rows of `bytes`-long text, counting the batches it produced. */
function countingSource(batches: number, size: number, bytes: number, fail?: { afterBatch: number }): ExportSource & { produced: number } {
  const source = {
    dataset: 'synthetic',
    description: 'test rows',
    access: 'summaries' as const,
    columns: [
      { name: 'n', type: 'integer' as const },
      { name: 'text', type: 'text' as const },
    ],
    filters: {},
    produced: 0,
    async *rows() {
      for (let batch = 0; batch < batches; batch += 1) {
        if (fail && batch === fail.afterBatch) throw new Error('the source broke');
        source.produced += 1;
        yield Array.from({ length: size }, (_, index) => ({ n: batch * size + index, text: 'x'.repeat(bytes) }));
      }
    },
  };
  return source;
}

describe('export options', () => {
  it('refuses an unknown dataset, naming the known ones', async () => {
    const strata = await openStrata(tempDir());
    await expect(exportToStream(exportEnvironmentOf(strata), { dataset: 'users', format: 'csv' }, memoryStream())).rejects.toThrow(
      'exporters: dataset "users" is not a known dataset; known datasets: interactions, sessions, queries, content, business-metrics',
    );
  });

  it('refuses a filter the dataset cannot apply, saying which it can', async () => {
    const strata = await openStrata(tempDir());
    const error = await exportToStream(exportEnvironmentOf(strata), { dataset: 'content', format: 'csv', query: { queryType: 'technical' } }, memoryStream()).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ExportOptionError);
    expect((error as ExportOptionError).field).toBe('queryType');
    expect((error as Error).message).toBe('exporters: queryType does not apply to the dataset "content"; it can be filtered by range, userRole');
  });

  it('refuses an empty range and an empty role', async () => {
    const strata = await openStrata(tempDir());
    const environment = exportEnvironmentOf(strata);
    await expect(exportToStream(environment, { dataset: 'interactions', format: 'csv', query: { range: { from: 10, to: 10 } } }, memoryStream())).rejects.toThrow(/range is empty: from \(1970-01-01T00:00:00\.010Z\) must be before to/);
    await expect(exportToStream(environment, { dataset: 'interactions', format: 'csv', query: { userRole: ' ' } }, memoryStream())).rejects.toThrow(/userRole must be a non-empty string/);
  });

  it('refuses sessions when the hot tier keeps no session rollups in SQLite', async () => {
    const plainTier = { name: 'memory', role: 'hot' } as StorageTier;
    const environment: ExportEnvironment = { registry: createExportRegistry(), storage: (role) => (role === 'hot' ? plainTier : undefined), insights: noInsights };
    await expect(exportToStream(environment, { dataset: 'sessions', format: 'jsonl' }, memoryStream())).rejects.toThrow(
      'exporters: dataset sessions needs a hot tier that keeps session rollups in SQLite (hot-sqlite); the hot tier here is "memory"',
    );
  });

  it('reads time bounds as durations back from now, dates, date-times and epoch ms, and names the flag otherwise', () => {
    const now = Date.UTC(2026, 5, 1);
    expect(parseTimeBound('30d', '--from', now)).toBe(now - 30 * 86_400_000);
    expect(parseTimeBound('2026-01-31', '--from', now)).toBe(Date.UTC(2026, 0, 31));
    expect(parseTimeBound('2026-01-31T12:00:00+02:00', '--to', now)).toBe(Date.UTC(2026, 0, 31, 10));
    expect(parseTimeBound('1767225600000', '--to', now)).toBe(1767225600000);
    expect(() => parseTimeBound('yesterday', '--from', now)).toThrow(/exporters: --from must be an ISO-8601 date-time or epoch milliseconds, got "yesterday"; use a duration back from now such as 30d/);
  });
});

describe('streaming', () => {
  it('reads the source only as fast as the destination drains (back-pressure), never far ahead', async () => {
    const source = countingSource(60, 10, 4_000);
    let written = 0;
    let maxLead = 0;
    const slow = new Writable({
      highWaterMark: 1,
      write(_chunk, _encoding, callback) {
        written += 1;
        maxLead = Math.max(maxLead, source.produced - written);
        setImmediate(callback);
      },
    });
    const result = await exportToStream(environmentWith(source), { dataset: 'synthetic', format: 'jsonl' }, slow);
    expect(result.rows).toBe(600);
    expect(source.produced).toBe(60);
    // Each batch is one 40 kB chunk: the stream buffers at most a chunk beyond the one being written.
    expect(maxLead).toBeLessThanOrEqual(2);
  });

  it('writes a JSON array as it streams, valid as a whole', async () => {
    const out = memoryStream();
    await exportToStream(environmentWith(countingSource(3, 2, 1)), { dataset: 'synthetic', format: 'json' }, out);
    expect(JSON.parse(out.text())).toHaveLength(6);
    const empty = memoryStream();
    await exportToStream(environmentWith(countingSource(0, 0, 0)), { dataset: 'synthetic', format: 'json' }, empty);
    expect(empty.text()).toBe('[]\n');
  });
});

describe('exporting to a file', () => {
  it('leaves nothing behind, and an existing file untouched, when the export fails half-way', async () => {
    const dir = tempDir();
    const file = join(dir, 'out.jsonl');
    writeFileSync(file, 'previous export\n');
    await expect(exportToFile(environmentWith(countingSource(5, 10, 10, { afterBatch: 3 })), { dataset: 'synthetic', format: 'jsonl' }, file)).rejects.toThrow('the source broke');
    expect(readFileSync(file, 'utf8')).toBe('previous export\n');
    expect(readdirSync(dir)).toEqual(['out.jsonl']);
  });

  it('stops at the next batch when aborted, and leaves no file', async () => {
    const dir = tempDir();
    const controller = new AbortController();
    const result = await exportToFile(
      environmentWith(countingSource(50, 10, 10)),
      { dataset: 'synthetic', format: 'csv', signal: controller.signal, onProgress: ({ rows }) => rows >= 20 && controller.abort() },
      join(dir, 'out.csv'),
    );
    expect(result).toMatchObject({ interrupted: true, rows: 20, fileBytes: 0 });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('replaces an existing file with the complete export', async () => {
    const strata = await openStrata(tempDir());
    await ingestAll(strata, sampleInteractions(50, 2));
    const file = join(tempDir(), 'out.jsonl');
    writeFileSync(file, 'old\n');
    const result = await exportToFile(exportEnvironmentOf(strata), { dataset: 'interactions', format: 'jsonl' }, file);
    expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(50);
    expect(result.fileBytes).toBe(result.bytes);
  });

  it('says what to do when the directory does not exist', async () => {
    const strata = await openStrata(tempDir());
    const error = await exportToFile(exportEnvironmentOf(strata), { dataset: 'interactions', format: 'csv' }, join(tempDir(), 'missing', 'out.csv')).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ExportWriteError);
    expect((error as Error).message).toMatch(/cannot write the export there: no such file or directory; create the directory first \(.*missing\)/);
    expect(existsSync(join(tempDir(), 'missing'))).toBe(false);
  });
});
