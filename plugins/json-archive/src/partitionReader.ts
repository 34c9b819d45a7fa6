import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { pipeline, type Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';
import type { Interaction } from '@strata/core';
import { ARCHIVE_NAME, ArchiveCorruptError } from './archiveErrors.js';
import type { StoredPartition } from './monthManifest.js';

/**
 * Reads a partition file through an open handle. The handle is read from the start each time, so
 * the bytes checked and the bytes then read are those of one file even if it is replaced meanwhile.
 */

const NEWLINE = 0x0a;

export function corruptPartition(entry: StoredPartition, path: string, problem: string, cause?: unknown): ArchiveCorruptError {
  return new ArchiveCorruptError(
    `${ARCHIVE_NAME}: partition "${entry.id}" (${path}) failed verification: ${problem}; restore the file from a backup (its checksums are in the manifest)`,
    path,
    entry.id,
    cause === undefined ? {} : { cause },
  );
}

function rawStream(handle: FileHandle): Readable {
  return handle.createReadStream({ start: 0, autoClose: false });
}

/** The decompressed content; a consumer that stops early destroys both streams, the handle stays open. */
function inflated(handle: FileHandle): Readable {
  return pipeline(rawStream(handle), createGunzip(), () => {
    // Errors reach the consumer through the gunzip stream it iterates.
  });
}

/** Size and SHA-256 of the stored bytes, without decompressing: enough to know the file is the one written. */
export async function checkStoredBytes(handle: FileHandle, entry: StoredPartition, path: string): Promise<void> {
  const { size } = await handle.stat();
  if (size !== entry.bytes) {
    throw corruptPartition(entry, path, `size is ${size} bytes, the manifest says ${entry.bytes} (${size < entry.bytes ? 'truncated' : 'bytes were added'})`);
  }
  const hash = createHash('sha256');
  for await (const chunk of rawStream(handle)) hash.update(chunk as Buffer);
  const actual = hash.digest('hex');
  if (actual !== entry.fileSha256) throw corruptPartition(entry, path, `file SHA-256 is ${actual}, the manifest says ${entry.fileSha256} (the file was altered)`);
}

/** Decompresses the whole file and checks the row count, the rows' SHA-256 and the final newline. */
export async function checkStoredRows(handle: FileHandle, entry: StoredPartition, path: string): Promise<void> {
  const hash = createHash('sha256');
  let rows = 0;
  let lastByte = NEWLINE;
  try {
    for await (const chunk of inflated(handle)) {
      const bytes = chunk as Buffer;
      hash.update(bytes);
      for (let index = bytes.indexOf(NEWLINE); index !== -1; index = bytes.indexOf(NEWLINE, index + 1)) rows += 1;
      if (bytes.length > 0) lastByte = bytes[bytes.length - 1]!;
    }
  } catch (error) {
    throw corruptPartition(entry, path, `the gzip stream is damaged (${(error as Error).message})`, error);
  }
  checkRowFacts(entry, path, rows, hash.digest('hex'), lastByte === NEWLINE);
}

function checkRowFacts(entry: StoredPartition, path: string, rows: number, rowsSha256: string, endsWithNewline: boolean): void {
  if (!endsWithNewline) throw corruptPartition(entry, path, 'the last line is cut short (no final newline)');
  if (rows !== entry.rows) throw corruptPartition(entry, path, `holds ${rows} row(s), the manifest says ${entry.rows}`);
  if (rowsSha256 !== entry.rowsSha256) throw corruptPartition(entry, path, `rows SHA-256 is ${rowsSha256}, the manifest says ${entry.rowsSha256}`);
}

export interface ReadRowsOptions {
  batchSize: number;
  signal?: AbortSignal | undefined;
}

/**
 * The rows in stored order, in batches, decompressed as they are consumed. Call after
 * `checkStoredBytes`: the count and digest are checked again at the end, before the last batch, so
 * a file changed in place while being read still fails rather than ending quietly.
 * Stops without error when the signal aborts.
 */
export async function* readStoredRows(handle: FileHandle, entry: StoredPartition, path: string, options: ReadRowsOptions): AsyncGenerator<Interaction[]> {
  const hash = createHash('sha256');
  const decoder = new StringDecoder('utf8');
  let pending = '';
  let rows = 0;
  let batch: Interaction[] = [];
  const stream = inflated(handle);
  try {
    for await (const chunk of stream) {
      hash.update(chunk as Buffer);
      pending += decoder.write(chunk as Buffer);
      let start = 0;
      for (let end = pending.indexOf('\n'); end !== -1; end = pending.indexOf('\n', start)) {
        batch.push(parseLine(pending.slice(start, end), entry, path, rows));
        rows += 1;
        start = end + 1;
        if (batch.length >= options.batchSize) {
          if (options.signal?.aborted) return;
          yield batch;
          batch = [];
        }
      }
      pending = pending.slice(start);
    }
  } catch (error) {
    if (error instanceof ArchiveCorruptError) throw error;
    throw corruptPartition(entry, path, `the gzip stream is damaged (${(error as Error).message})`, error);
  } finally {
    stream.destroy();
  }
  pending += decoder.end();
  checkRowFacts(entry, path, rows, hash.digest('hex'), pending.length === 0);
  if (batch.length > 0 && !options.signal?.aborted) yield batch;
}

function parseLine(line: string, entry: StoredPartition, path: string, index: number): Interaction {
  try {
    const row = JSON.parse(line) as unknown;
    if (typeof row === 'object' && row !== null && !Array.isArray(row)) return row as Interaction;
  } catch (error) {
    throw corruptPartition(entry, path, `line ${index + 1} is not valid JSON`, error);
  }
  throw corruptPartition(entry, path, `line ${index + 1} is not a JSON object`);
}
