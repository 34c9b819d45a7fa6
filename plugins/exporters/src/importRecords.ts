import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { IngestLinesOptions, IngestSummary } from '@strata/core';
import { ExportOptionError, ImportFileError, describeFsError } from './exportErrors.js';
import type { ExportFormat } from './exportFormat.js';
import type { ExportRegistry } from './exportRegistry.js';
import { gunzipIfCompressed } from './gzipInput.js';
import { INTERACTION_IMPORT_COLUMNS } from './interactionColumns.js';

/** Strata's ingest path: `strata.ingestLines`, or a scoped Strata's (which checks the write permission). */
export type IngestLines = (lines: AsyncIterable<string>, options: IngestLinesOptions) => Promise<IngestSummary>;

export interface ImportRequest {
  registry: ExportRegistry;
  /** A format of the registry that can decode (`jsonl`, `json`, `csv`). */
  format: string;
  /** The bytes to import; gzip is recognised by its first bytes and decompressed. */
  input: AsyncIterable<Uint8Array | string>;
  /** The input's name (a path, `stdin`): dead-letter entries and errors name it. */
  source: string;
  ingestLines: IngestLines;
  signal?: AbortSignal;
  /** Called every few thousand records and at the end, with the input bytes read so far. */
  onProgress?(progress: { records: number; bytes: number }): void;
}

export interface ImportResult extends IngestSummary {
  format: string;
  source: string;
  /** Input bytes read (compressed bytes for a gzip file). */
  bytesRead: number;
}

/**
 * Imports interactions through Strata's ingest path, so validation, processors (privacy),
 * dead-lettering and `eventId` deduplication apply exactly as to `strata ingest`: each record is
 * handed to ingest as one JSON line. Records are decoded as ingest asks for them, so memory stays
 * flat. In the summary (`IngestSummary`) `lines` counts records: for JSON Lines they are the file's
 * lines (blank ones included), for JSON the array's elements, for CSV the rows after the header;
 * dead-letter entries carry that number as their `line`.
 *
 * A file malformed as a whole (see `ImportFileError`) stops the import after the records before
 * the problem were stored; the error then carries that partial result in `partial`.
 */
export async function importRecords(request: ImportRequest): Promise<ImportResult> {
  const format = decodingFormat(request.registry, request.format);
  let bytesRead = 0;
  let decodeError: unknown;
  const counted = async function* (): AsyncGenerator<Uint8Array | string> {
    try {
      for await (const chunk of request.input) {
        bytesRead += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
        yield chunk;
      }
    } catch (error) {
      if (typeof (error as NodeJS.ErrnoException).syscall !== 'string') throw error;
      throw new ImportFileError(request.source, undefined, `cannot be read: ${describeFsError(error)}`, { cause: error });
    }
  };
  const records = format.decode!(gunzipIfCompressed(counted()), { source: request.source, columns: INTERACTION_IMPORT_COLUMNS });
  const lines = async function* (): AsyncGenerator<string> {
    try {
      for await (const record of records) yield record;
    } catch (error) {
      // Ingest must still settle what it already accepted, so the error is raised after it returns.
      const zlibCode = (error as NodeJS.ErrnoException).code;
      decodeError = typeof zlibCode === 'string' && zlibCode.startsWith('Z_') ? new ImportFileError(request.source, undefined, `is a damaged gzip file (${(error as Error).message})`, { cause: error }) : error;
    }
  };
  const summary = await request.ingestLines(lines(), {
    source: request.source,
    ...(request.signal ? { signal: request.signal } : {}),
    onProgress: ({ lines: count }) => request.onProgress?.({ records: count, bytes: bytesRead }),
  });
  const result: ImportResult = { ...summary, format: format.name, source: request.source, bytesRead };
  if (decodeError !== undefined) {
    if (decodeError instanceof ImportFileError) decodeError.partial = result;
    throw decodeError;
  }
  return result;
}

/** Imports a file; the format defaults to the one its name's ending selects (`.jsonl`, `.json`, `.csv`, each optionally `.gz`). */
export async function importFile(request: Omit<ImportRequest, 'input' | 'source' | 'format'> & { path: string; format?: string }): Promise<ImportResult> {
  const path = resolve(request.path);
  const format = request.format ?? request.registry.formatForFile(path)?.name;
  if (!format) {
    const readable = request.registry.formats.filter((candidate) => candidate.decode).map((candidate) => candidate.name);
    throw new ExportOptionError('format', `cannot be told from the name of ${path}; pass one of ${readable.join(', ')} (--format)`);
  }
  decodingFormat(request.registry, format);
  try {
    const stats = await stat(path);
    if (stats.isDirectory()) throw new ImportFileError(path, undefined, 'is a directory; pass a file');
  } catch (error) {
    if (error instanceof ImportFileError) throw error;
    throw new ImportFileError(path, undefined, `cannot be read: ${describeFsError(error)}`, { cause: error });
  }
  const stream = createReadStream(path);
  try {
    return await importRecords({ ...request, format, input: stream, source: path });
  } finally {
    stream.destroy();
  }
}

function decodingFormat(registry: ExportRegistry, name: string): ExportFormat {
  const format = registry.format(name);
  if (typeof format.decode !== 'function') {
    const readable = registry.formats.filter((candidate) => candidate.decode).map((candidate) => candidate.name);
    throw new ExportOptionError('format', `"${name}" is export-only and cannot be imported; import takes ${readable.join(', ')}`);
  }
  return format;
}
