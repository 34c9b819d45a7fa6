import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { definePlugin } from '@strata/core';
import { sampleInteractions } from '@strata/testing';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { EXPORT_FORMATS, EXPORT_SOURCES, createExportRegistry, exportEnvironmentOf, exportToFile, importFile, type ExportFormat, type ExportSource } from '../src/index.js';
import { ingestAll, openStrata, tempDir } from './helpers.js';

/** What a third party writes: tab-separated values, export and import. */
const tsvFormat: ExportFormat = {
  name: 'tsv',
  extensions: ['.tsv'],
  description: 'tab-separated values (no tabs or newlines in cells)',
  encoder(dataset) {
    const cell = (value: unknown) => (value === null || value === undefined ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value)).replace(/[\t\n\r]/g, ' ');
    return {
      begin: () => `${dataset.columns.map((column) => column.name).join('\t')}\n`,
      rows: (rows) => rows.map((row) => `${dataset.columns.map((column) => cell(row[column.name])).join('\t')}\n`).join(''),
      end: () => '',
    };
  },
  async *decode(input, options) {
    let header: string[] | undefined;
    let rest = '';
    const types = new Map(options.columns.map((column) => [column.name, column.type]));
    const record = (line: string) => {
      const cells = line.split('\t');
      if (!header) {
        header = cells;
        return undefined;
      }
      const object: Record<string, unknown> = {};
      header.forEach((name, index) => {
        const text = cells[index] ?? '';
        if (text === '') return;
        const type = types.get(name);
        object[name] = type === 'number' || type === 'integer' || type === 'timestamp' ? Number(text) : type === 'boolean' ? text === 'true' : type === 'json' ? JSON.parse(text) : text;
      });
      return JSON.stringify(object);
    };
    for await (const chunk of input) {
      const lines = (rest + chunk.toString()).split('\n');
      rest = lines.pop()!;
      for (const line of lines) {
        const out = record(line);
        if (out) yield out;
      }
    }
  },
};

/** A contributed dataset, shaped like the history a quality or alerts plugin would contribute. */
const checksSource: ExportSource = {
  dataset: 'check-history',
  description: 'results of a third-party check',
  access: 'summaries',
  columns: [
    { name: 'at', type: 'timestamp' },
    { name: 'check', type: 'text' },
    { name: 'status', type: 'text' },
  ],
  filters: { range: 'when the check ran' },
  async *rows(query) {
    const all = [0, 1, 2, 3].map((day) => ({ at: Date.UTC(2026, 0, 1 + day), check: 'freshness', status: day === 2 ? 'fail' : 'pass' }));
    yield all.filter((row) => (query.range?.from === undefined || row.at >= query.range.from) && (query.range?.to === undefined || row.at < query.range.to));
  },
};

const thirdPartyPlugin = definePlugin({
  name: 'acme-exports',
  version: '1.0.0',
  options: z.object({}).strict(),
  setup: () => ({ extensions: { [EXPORT_FORMATS]: [tsvFormat, { name: 'Bad Name' }], [EXPORT_SOURCES]: [checksSource] } }),
});

describe('third-party formats and sources', () => {
  it('are picked up from a plugin contribution, exported and imported like the built-in ones', async () => {
    const strata = await openStrata(tempDir(), { plugins: [thirdPartyPlugin()] });
    await ingestAll(strata, sampleInteractions(40, 3));
    const skipped: string[] = [];
    const environment = exportEnvironmentOf(strata, { onSkipped: (kind, reason) => skipped.push(`${kind}: ${reason}`) });
    expect(environment.registry.formats.map((format) => format.name)).toEqual(['jsonl', 'json', 'csv', 'tsv']);
    expect(skipped).toEqual(['format: exporters: extensions.exportFormats[1] name must be lower case letters, digits and -, got "Bad Name"']);

    const file = join(tempDir(), 'interactions.tsv');
    expect((await exportToFile(environment, { dataset: 'interactions', format: 'tsv' }, file)).rows).toBe(40);
    const target = await openStrata(tempDir());
    const imported = await importFile({ registry: environment.registry, path: file, ingestLines: (lines, options) => target.ingestLines(lines, options) });
    expect(imported).toMatchObject({ format: 'tsv', stored: 40, rejected: 0 });

    const history = join(tempDir(), 'checks.csv');
    await exportToFile(environment, { dataset: 'check-history', format: 'csv', query: { range: { from: Date.UTC(2026, 0, 2) } } }, history);
    expect(readFileSync(history, 'utf8')).toBe('at,check,status\r\n2026-01-02T00:00:00.000Z,freshness,pass\r\n2026-01-03T00:00:00.000Z,freshness,fail\r\n2026-01-04T00:00:00.000Z,freshness,pass\r\n');
  });

  it('cannot replace a built-in format or dataset, and a bad one passed directly fails naming it', () => {
    expect(() => createExportRegistry({ formats: [{ ...tsvFormat, name: 'csv' }] })).toThrow('exporters: formats[0] a format named "csv" is already registered');
    expect(() => createExportRegistry({ sources: [{ ...checksSource, access: 'everything' as 'summaries' }] })).toThrow(
      'exporters: sources[0] source "check-history": access must be "interactions" or "summaries", got "everything"',
    );
    expect(() => createExportRegistry({ sources: [{ ...checksSource, filters: { sessionId: 'x' } as ExportSource['filters'] }] })).toThrow(/filters must be an object whose keys are among range, userRole, queryType/);
  });

  it('tell the format from a contributed extension', () => {
    const registry = createExportRegistry({ formats: [tsvFormat] });
    expect(registry.formatForFile('/tmp/x.TSV')?.name).toBe('tsv');
    expect(registry.formatForFile('/tmp/x.jsonl.gz')?.name).toBe('jsonl');
    expect(registry.formatForFile('/tmp/x.ndjson')?.name).toBe('jsonl');
    expect(registry.formatForFile('/tmp/x.parquet')).toBeUndefined();
  });
});
