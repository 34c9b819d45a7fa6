import { parse, type CsvError } from 'csv-parse';
import type { ColumnType, DecodeOptions, ExportFormat, ExportRow } from './exportFormat.js';
import { ImportFileError } from './exportErrors.js';
import { CSV_RECORD_END, csvField, protectFormula, unprotectFormula } from './csvCells.js';

/**
 * CSV per RFC 4180: a header row of column names, then one record per row, CRLF line ends, fields
 * quoted when needed. Cell values by column type:
 * - text: the text, formula-protected (`csvCells.ts`);
 * - number, integer: the JavaScript number (`0.25`, `1200`);
 * - boolean: `true` / `false`;
 * - timestamp: ISO-8601 UTC with milliseconds (`2026-01-31T09:15:00.000Z`), exact to the millisecond;
 * - json: the JSON text of the value (`content`, role lists), formula-protected;
 * - absent (null): an empty, unquoted field; an empty text is `""`.
 */
export const csvFormat: ExportFormat = {
  name: 'csv',
  extensions: ['.csv'],
  description: 'CSV (RFC 4180) with a header row; nested values as JSON text; formula-safe for spreadsheets',
  encoder(dataset) {
    const columns = dataset.columns;
    const writers = columns.map((column) => cellWriter(column.type));
    return {
      begin: () => columns.map((column) => csvField(column.name)).join(',') + CSV_RECORD_END,
      rows(rows: readonly ExportRow[]) {
        let out = '';
        for (const row of rows) {
          let line = '';
          for (let index = 0; index < columns.length; index += 1) {
            if (index > 0) line += ',';
            const value = row[columns[index]!.name];
            if (value !== null && value !== undefined) line += writers[index]!(value);
          }
          out += line + CSV_RECORD_END;
        }
        return out;
      },
      end: () => '',
    };
  },
  decode: decodeCsv,
};

function cellWriter(type: ColumnType): (value: unknown) => string {
  switch (type) {
    case 'text':
      return (value) => csvField(protectFormula(typeof value === 'string' ? value : String(value)));
    case 'number':
    case 'integer':
      return (value) => csvField(String(value));
    case 'boolean':
      return (value) => (value === true ? 'true' : value === false ? 'false' : csvField(protectFormula(String(value))));
    case 'timestamp':
      return (value) => (typeof value === 'number' && Number.isFinite(value) ? new Date(value).toISOString() : csvField(protectFormula(String(value))));
    case 'json':
      return (value) => csvField(protectFormula(JSON.stringify(value)));
  }
}

/** Unquoted empty fields are absent values; csv-parse tells a quoted field apart through `quoting`. */
const ABSENT = null;

/**
 * Reads CSV records (header first) and yields each as the JSON text of an interaction object, typed
 * by `options.columns`. A value that does not read as its column's type is passed on as text, so
 * ingest's validation rejects the record with the field and the reason (it is dead-lettered); only
 * a malformed file (unclosed quote, a record with the wrong number of fields, an unknown column)
 * stops the import.
 */
async function* decodeCsv(input: AsyncIterable<Uint8Array | string>, options: DecodeOptions): AsyncGenerator<string> {
  const types = new Map(options.columns.map((column) => [column.name, column.type]));
  const parser = parse({
    bom: true,
    relax_column_count: false,
    skip_empty_lines: true,
    cast: (value, context) => (context.quoting || value !== '' ? value : ABSENT),
  });
  // Feed the parser as it asks for more, so a large file is never read ahead of the consumer.
  const feeding = (async () => {
    try {
      for await (const chunk of input) {
        if (parser.destroyed) return;
        if (!parser.write(chunk)) await drainedOrClosed(parser);
      }
      parser.end();
    } catch (error) {
      parser.destroy(error as Error);
    }
  })();
  let header: Array<{ name: string; type: ColumnType }> | undefined;
  try {
    for await (const record of parser as AsyncIterable<Array<string | null>>) {
      if (!header) {
        header = checkHeader(record, types, options);
        continue;
      }
      const object: Record<string, unknown> = {};
      for (let index = 0; index < header.length; index += 1) {
        const cell = record[index];
        if (cell === null || cell === undefined) continue;
        const column = header[index]!;
        object[column.name] = readCell(cell, column.type);
      }
      yield JSON.stringify(object);
    }
  } catch (error) {
    if (error instanceof ImportFileError) throw error;
    const csvError = error as CsvError & { lines?: number };
    if (typeof csvError.code === 'string' && csvError.code.startsWith('CSV_')) {
      throw new ImportFileError(options.source, csvError.lines, `is not valid CSV: ${csvError.message}`, { cause: error });
    }
    throw error;
  } finally {
    if (!parser.destroyed) parser.destroy();
    await feeding;
  }
  if (!header) throw new ImportFileError(options.source, undefined, 'is empty; a CSV import needs a header row naming the columns');
}

function drainedOrClosed(parser: NodeJS.EventEmitter): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      parser.off('drain', done);
      parser.off('close', done);
      resolve();
    };
    parser.on('drain', done);
    parser.on('close', done);
  });
}

function checkHeader(record: Array<string | null>, types: ReadonlyMap<string, ColumnType>, options: DecodeOptions): Array<{ name: string; type: ColumnType }> {
  const seen = new Set<string>();
  const header = record.map((cell, index) => {
    const name = (cell ?? '').trim();
    const type = types.get(name);
    if (!type) {
      throw new ImportFileError(
        options.source,
        1,
        `column ${index + 1} of the header is ${JSON.stringify(name)}, which is not an interaction field; known columns: ${[...types.keys()].join(', ')} (import takes interactions, as \`strata export --dataset interactions\` writes them)`,
      );
    }
    if (seen.has(name)) throw new ImportFileError(options.source, 1, `the header names the column ${JSON.stringify(name)} twice`);
    seen.add(name);
    return { name, type };
  });
  return header;
}

const NUMBER = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

function readCell(cell: string, type: ColumnType): unknown {
  switch (type) {
    case 'text':
      return unprotectFormula(cell);
    case 'number':
    case 'integer':
      return NUMBER.test(cell.trim()) ? Number(cell) : unprotectFormula(cell);
    case 'boolean': {
      const lower = cell.trim().toLowerCase();
      return lower === 'true' ? true : lower === 'false' ? false : unprotectFormula(cell);
    }
    case 'timestamp': {
      const text = unprotectFormula(cell).trim();
      return /^\d+$/.test(text) ? Number(text) : text;
    }
    case 'json': {
      const text = unprotectFormula(cell);
      try {
        return JSON.parse(text) as unknown;
      } catch {
        return text;
      }
    }
  }
}
