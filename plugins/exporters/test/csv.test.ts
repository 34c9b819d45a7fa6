import { Readable } from 'node:stream';
import { parse } from 'csv-parse/sync';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { INTERACTION_IMPORT_COLUMNS, csvField, csvFormat, exportEnvironmentOf, exportToStream, protectFormula, unprotectFormula, type ColumnSpec, type ExportRow } from '../src/index.js';
import { awkwardEvents, ingestAll, memoryStream, openStrata, tempDir } from './helpers.js';

const TRIGGERS = ['=', '+', '-', '@', '\t', '\r'];

async function collect(iterable: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

/** Encodes rows with the CSV format, then decodes them as import does. */
async function csvRoundTrip(columns: readonly ColumnSpec[], rows: readonly ExportRow[], chunkSize = 7): Promise<Record<string, unknown>[]> {
  const encoder = csvFormat.encoder({ name: 'test', columns });
  const text = `${encoder.begin() as string}${encoder.rows(rows) as string}${encoder.end() as string}`;
  // Small byte chunks, so fields, CRLF pairs and multi-byte characters are split across reads.
  const bytes = Buffer.from(text);
  const chunks = Array.from({ length: Math.ceil(bytes.length / chunkSize) }, (_, index) => bytes.subarray(index * chunkSize, (index + 1) * chunkSize));
  const lines = await collect(csvFormat.decode!(Readable.from(chunks), { source: 'test.csv', columns }));
  return lines.map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('formula protection', () => {
  it('prefixes a single quote to text starting with = + - @ tab, CR or a quote, and to nothing else', () => {
    for (const trigger of TRIGGERS) expect(protectFormula(`${trigger}x`)).toBe(`'${trigger}x`);
    expect(protectFormula("'already")).toBe("''already");
    expect(protectFormula('plain')).toBe('plain');
    expect(protectFormula('a=b')).toBe('a=b');
    expect(protectFormula('')).toBe('');
  });

  it('is undone exactly for every text (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('=', '+', '-', '@', '\t', '\r', "'", 'a', ' ', '"', ',', '\n') }), (text) => {
        const cell = protectFormula(text);
        expect(unprotectFormula(cell)).toBe(text);
        if (text.length > 0 && TRIGGERS.includes(text[0]!)) expect(cell.startsWith("'")).toBe(true);
      }),
      { numRuns: 2_000 },
    );
  });

  it('leaves a lone leading quote of a hand-written cell alone on import', () => {
    expect(unprotectFormula("'hello")).toBe("'hello");
    expect(unprotectFormula("'")).toBe("'");
  });
});

describe('CSV cells (RFC 4180)', () => {
  it('quotes fields holding a comma, a quote, CR or LF, doubles quotes, and writes an empty text as ""', () => {
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('a\nb')).toBe('"a\nb"');
    expect(csvField('a\rb')).toBe('"a\rb"');
    expect(csvField('plain')).toBe('plain');
    expect(csvField('')).toBe('""');
  });

  it('is read back by an independent RFC 4180 parser as the same text (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: fc.constantFrom('a', ',', '"', '\n', '\r', ' ', '=', 'é') }), { minLength: 1, maxLength: 5 }), (cells) => {
        const line = `${cells.map(csvField).join(',')}\r\n`;
        expect(parse(line, { relax_quotes: false })).toEqual([cells]);
      }),
      { numRuns: 1_000 },
    );
  });

  it('round-trips every column type, absent values and empty texts (property)', async () => {
    const columns: ColumnSpec[] = [
      { name: 'text', type: 'text' },
      { name: 'number', type: 'number' },
      { name: 'integer', type: 'integer' },
      { name: 'flag', type: 'boolean' },
      { name: 'at', type: 'timestamp' },
      { name: 'nested', type: 'json' },
    ];
    const row = fc.record({
      text: fc.option(fc.string({ unit: fc.constantFrom('=', '+', '-', '@', '\t', '\r', '\n', "'", '"', ',', 'x', '🧠') }), { nil: null }),
      number: fc.option(fc.double({ noNaN: true, noDefaultInfinity: true }).map((value) => (Object.is(value, -0) ? 0 : value)), { nil: null }),
      integer: fc.option(fc.integer(), { nil: null }),
      flag: fc.option(fc.boolean(), { nil: null }),
      at: fc.option(fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2100, 0, 1) }), { nil: null }),
      nested: fc.option(fc.array(fc.record({ id: fc.string(), relevance: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: null }) }), { maxLength: 3 }), { nil: null }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(row, { minLength: 1, maxLength: 8 }), fc.integer({ min: 1, max: 40 }), async (rows, chunkSize) => {
        const decoded = await csvRoundTrip(columns, rows, chunkSize);
        const expected = rows.map((source) => {
          const out: Record<string, unknown> = {};
          for (const [key, value] of Object.entries(source)) if (value !== null) out[key] = key === 'at' ? new Date(value as number).toISOString() : value;
          return out;
        });
        expect(decoded).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });
});

describe('CSV export of interactions', () => {
  it('never lets a text cell start with a formula character, and keeps one record per row whatever the text holds', async () => {
    const strata = await openStrata(tempDir());
    const events = awkwardEvents(Date.UTC(2026, 0, 5));
    await ingestAll(strata, events);
    const out = memoryStream();
    await exportToStream(exportEnvironmentOf(strata), { dataset: 'interactions', format: 'csv' }, out);
    const text = out.text();
    expect(text.endsWith('\r\n')).toBe(true);
    const records = parse(text) as string[][];
    expect(records[0]).toEqual(INTERACTION_IMPORT_COLUMNS.slice(0, 17).map((column) => column.name));
    expect(records).toHaveLength(events.length + 1);
    for (const record of records.slice(1)) {
      for (const cell of record) if (cell.length > 0) expect(TRIGGERS.includes(cell[0]!) && !/^-?\d/.test(cell), JSON.stringify(cell)).toBe(false);
    }
    const hyperlink = records.find((record) => record[0] === 'awk-4')!;
    expect(hyperlink[4]).toBe(`'=HYPERLINK("http://evil.example","click")`);
    expect(hyperlink[16]).toBe('[{"type":"code_snippet","id":"=snip,4","relevance":null},{"type":"career_kb","id":"kb \\"4\\"\\nnext","relevance":0.5}]');
    expect(hyperlink[2]).toBe('2026-01-05T00:04:04.007Z');
    expect(hyperlink[7]).toBe('');
  });
});
