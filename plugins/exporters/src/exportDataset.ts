import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { InsightsProvider, StorageTier, TierRole } from '@strata/core';
import { ExportOptionError, ExportWriteError, describeFsError } from './exportErrors.js';
import type { ExportFormat } from './exportFormat.js';
import type { ExportRegistry } from './exportRegistry.js';
import type { ExportFilter, ExportQuery, ExportSource, ExportSourceContext } from './exportSource.js';

/** What an export reads from: one Strata's tiers and insights, and the formats and sources it knows. */
export interface ExportEnvironment {
  readonly registry: ExportRegistry;
  storage(role: TierRole): StorageTier | undefined;
  readonly insights: InsightsProvider;
}

export interface ExportRequest {
  /** A dataset of the registry (`interactions`, `sessions`, `queries`, `content`, `business-metrics`, or a contributed one). */
  dataset: string;
  /** A format of the registry (`jsonl`, `json`, `csv`, or a contributed one). */
  format: string;
  query?: ExportQuery;
  /** Stops the export after the current batch; the result says `interrupted`. */
  signal?: AbortSignal;
  /** Called after each batch is handed to the output. */
  onProgress?(progress: { rows: number; bytes: number }): void;
}

export interface ExportResult {
  dataset: string;
  format: string;
  rows: number;
  /** Bytes the format produced (before any gzip). */
  bytes: number;
  durationMs: number;
  /** Where rows came from, as the source counted them (`hot`, `cold`, `warm`, `duplicatesSkipped`…). */
  counts: Record<string, number>;
  /** True when the signal stopped it before the last row. */
  interrupted: boolean;
}

export interface FileExportResult extends ExportResult {
  /** Absolute path of the file written (absent when interrupted: nothing was left behind). */
  file: string;
  /** Size of the file on disk (after gzip, when used). */
  fileBytes: number;
  gzip: boolean;
}

/** A checked export, ready to stream: every option was validated before any output is touched. */
export interface PreparedExport {
  readonly source: ExportSource;
  readonly format: ExportFormat;
  readonly query: ExportQuery;
  /** The encoded output, pulled as the destination takes it. Iterate once. */
  chunks(): AsyncGenerator<string | Uint8Array>;
  /** Filled in as `chunks` runs; final once it finished. */
  readonly result: ExportResult;
}

/**
 * Rows encoded into one output chunk. A chunk is one string, then one Buffer: kept well under V8's
 * large-object size (~128 kB), it is freed by the cheap young-generation collections. Whole
 * 1,000-row batches (~500 kB) went to the large-object space, freed only by full collections, and
 * peak memory of a 1M-row export rose from ~150 MB to ~200 MB (bench/export.mjs).
 */
const ENCODE_ROWS = 100;

const FILTER_NAMES: Record<ExportFilter, string> = { range: 'range', userRole: 'userRole', queryType: 'queryType' };

/** Validates a request against the registry: dataset, format, filters the dataset applies, and the range. */
export function prepareExport(environment: ExportEnvironment, request: ExportRequest): PreparedExport {
  const source = environment.registry.source(request.dataset);
  const format = environment.registry.format(request.format);
  const query = checkQuery(request.query ?? {}, source);
  const result: ExportResult = { dataset: source.dataset, format: format.name, rows: 0, bytes: 0, durationMs: 0, counts: {}, interrupted: false };
  const context: ExportSourceContext = {
    storage: (role) => environment.storage(role),
    insights: environment.insights,
    signal: request.signal,
    count(key, amount) {
      result.counts[key] = (result.counts[key] ?? 0) + amount;
    },
  };
  let used = false;
  return {
    source,
    format,
    query,
    result,
    async *chunks() {
      if (used) throw new Error('exporters: a prepared export streams once; prepare it again');
      used = true;
      const started = performance.now();
      const encoder = format.encoder({ name: source.dataset, columns: source.columns });
      const measure = (chunk: string | Uint8Array) => (result.bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength);
      try {
        const head = encoder.begin();
        measure(head);
        yield head;
        for await (const batch of source.rows(query, context)) {
          for (let start = 0; start < batch.length; start += ENCODE_ROWS) {
            const rows = batch.length <= ENCODE_ROWS ? batch : batch.slice(start, start + ENCODE_ROWS);
            const chunk = encoder.rows(rows);
            result.rows += rows.length;
            measure(chunk);
            yield chunk;
          }
          if (batch.length > 0) request.onProgress?.({ rows: result.rows, bytes: result.bytes });
          if (request.signal?.aborted) break;
        }
        if (request.signal?.aborted) {
          result.interrupted = true;
          return;
        }
        const tail = encoder.end();
        measure(tail);
        yield tail;
      } finally {
        result.durationMs = performance.now() - started;
      }
    },
  };
}

/**
 * Streams an export into `destination` (a file stream, a socket, `process.stdout`), waiting for it
 * to drain after each batch: only one batch is in memory at a time whatever the row count. The
 * destination is ended unless `end` is false (pass false for `process.stdout`).
 */
export async function exportToStream(environment: ExportEnvironment, request: ExportRequest, destination: Writable, options: { end?: boolean; gzip?: boolean } = {}): Promise<ExportResult> {
  const prepared = prepareExport(environment, request);
  const input = Readable.from(prepared.chunks(), { objectMode: false });
  if (options.gzip) await pipeline(input, createGzip(), destination, { end: options.end ?? true });
  else await pipeline(input, destination, { end: options.end ?? true });
  return { ...prepared.result };
}

/**
 * Writes an export to `path` atomically: into a temp file beside it, synced, then renamed over
 * `path`, so a reader never sees half an export and a failed or interrupted export leaves nothing
 * (an existing file of that name is replaced only by a complete export). `gzip` defaults to the
 * name ending in `.gz`.
 */
export async function exportToFile(environment: ExportEnvironment, request: ExportRequest, path: string, options: { gzip?: boolean } = {}): Promise<FileExportResult> {
  const file = resolve(path);
  const prepared = prepareExport(environment, request);
  const gzip = options.gzip ?? file.endsWith('.gz');
  await checkDirectory(dirname(file));
  const temp = join(dirname(file), `.${basename(file)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    const input = Readable.from(prepared.chunks(), { objectMode: false });
    const output = createWriteStream(temp, { flags: 'wx' });
    if (gzip) await pipeline(input, createGzip(), output);
    else await pipeline(input, output);
    if (prepared.result.interrupted) {
      await rm(temp, { force: true });
      return { ...prepared.result, file, fileBytes: 0, gzip };
    }
    const handle = await open(temp, 'r+');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
    await syncDirectory(dirname(file));
  } catch (error) {
    await rm(temp, { force: true }).catch(() => undefined);
    if ((error as NodeJS.ErrnoException).syscall) throw new ExportWriteError(file, `cannot write the export: ${describeFsError(error)}`, { cause: error });
    throw error;
  }
  return { ...prepared.result, file, fileBytes: (await stat(file)).size, gzip };
}

async function checkDirectory(dir: string): Promise<void> {
  try {
    const stats = await stat(dir);
    if (!stats.isDirectory()) throw new ExportWriteError(dir, 'cannot write the export there: it is not a directory');
  } catch (error) {
    if (error instanceof ExportWriteError) throw error;
    throw new ExportWriteError(dir, `cannot write the export there: ${describeFsError(error)}; create the directory first`, { cause: error });
  }
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function checkQuery(query: ExportQuery, source: ExportSource): ExportQuery {
  const checked: ExportQuery = {};
  for (const filter of Object.keys(FILTER_NAMES) as ExportFilter[]) {
    if (query[filter] === undefined) continue;
    if (source.filters[filter] === undefined) {
      const applies = Object.keys(source.filters);
      throw new ExportOptionError(
        FILTER_NAMES[filter],
        `does not apply to the dataset "${source.dataset}"${applies.length ? `; it can be filtered by ${applies.join(', ')}` : ' (it takes no filter)'}`,
      );
    }
  }
  if (query.range) {
    const { from, to } = query.range;
    for (const [name, value] of [['range.from', from], ['range.to', to]] as const) {
      if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value))) throw new ExportOptionError(name, `must be epoch milliseconds, got ${JSON.stringify(value)}`);
    }
    if (from !== undefined && to !== undefined && from >= to) {
      throw new ExportOptionError('range', `is empty: from (${new Date(from).toISOString()}) must be before to (${new Date(to).toISOString()})`);
    }
    if (from !== undefined || to !== undefined) checked.range = { ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) };
  }
  for (const field of ['userRole', 'queryType'] as const) {
    const value = query[field];
    if (value === undefined) continue;
    if (typeof value !== 'string' || value.trim() === '') throw new ExportOptionError(field, `must be a non-empty string, got ${JSON.stringify(value)}`);
    checked[field] = value;
  }
  return checked;
}
