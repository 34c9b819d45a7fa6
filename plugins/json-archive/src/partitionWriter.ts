import { createHash, type Hash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { interactionLine, monthRange, type Interaction, type MonthKey } from '@strata/core';
import { ArchiveInputError, abortError } from './archiveErrors.js';

/** What writing a partition's rows produced: the manifest entry's figures. */
export interface PartitionFileFacts {
  rows: number;
  /** `InteractionDigest` of the rows (SHA-256 of the uncompressed JSONL). */
  rowsSha256: string;
  firstTimestamp: number | null;
  lastTimestamp: number | null;
  timeOrdered: boolean;
  /** Size and SHA-256 of the compressed file; absent when only the rows were digested. */
  bytes: number;
  fileSha256: string;
}

export type RowBatches = AsyncIterable<Interaction[]> | Iterable<Interaction[]>;

interface WriteFileOptions {
  gzipLevel: number;
  signal?: AbortSignal | undefined;
}

/**
 * Checks rows belong to one month and accumulates the digest and time facts as lines are encoded.
 * The digest is taken over exactly the bytes compressed, so a partition's `rowsSha256` is also the
 * SHA-256 of its decompressed content.
 */
class RowAccumulator {
  readonly rowsHash: Hash = createHash('sha256');
  rows = 0;
  first: number | null = null;
  last: number | null = null;
  timeOrdered = true;
  private previous = -Infinity;
  private readonly from: number;
  private readonly to: number;

  constructor(private readonly month: MonthKey) {
    ({ from: this.from, to: this.to } = monthRange(month));
  }

  /** The batch as JSONL text, after checking each row. */
  encode(batch: unknown): string {
    if (!Array.isArray(batch)) throw new ArchiveInputError('rows', `must yield arrays of interactions, got ${batch === null ? 'null' : typeof batch}`);
    let text = '';
    for (const row of batch as Interaction[]) {
      const index = this.rows;
      if (typeof row !== 'object' || row === null) throw new ArchiveInputError(`rows[${index}]`, `must be an interaction object, got ${row === null ? 'null' : typeof row}`);
      const time = row.timestamp;
      if (typeof time !== 'number' || !Number.isFinite(time)) throw new ArchiveInputError(`rows[${index}].timestamp`, `must be epoch milliseconds, got ${JSON.stringify(time)}`);
      if (time < this.from || time >= this.to) {
        throw new ArchiveInputError(
          `rows[${index}].timestamp`,
          `is ${new Date(time).toISOString()}, outside month ${this.month}; write each month's rows to a partition of that month`,
        );
      }
      text += `${interactionLine(row)}\n`;
      if (time < this.previous) this.timeOrdered = false;
      this.previous = time;
      this.first = this.first === null ? time : Math.min(this.first, time);
      this.last = this.last === null ? time : Math.max(this.last, time);
      this.rows += 1;
    }
    this.rowsHash.update(text);
    return text;
  }
}

async function* encodedBatches(rows: RowBatches, accumulator: RowAccumulator, signal: AbortSignal | undefined): AsyncGenerator<Buffer> {
  if (signal?.aborted) throw abortError(signal);
  if (typeof rows !== 'object' || rows === null || (!(Symbol.asyncIterator in rows) && !(Symbol.iterator in rows))) {
    throw new ArchiveInputError('rows', `must be an iterable or async iterable of interaction arrays, got ${rows === null ? 'null' : typeof rows}`);
  }
  for await (const batch of rows) {
    if (signal?.aborted) throw abortError(signal);
    const text = accumulator.encode(batch);
    if (text.length > 0) yield Buffer.from(text, 'utf8');
  }
  if (signal?.aborted) throw abortError(signal);
}

/**
 * Streams the rows into a new gzip file at `path` (which must not exist) and syncs it. Batches are
 * pulled only as fast as the compressor and the disk take them, so memory stays at one batch.
 */
export async function writePartitionFile(path: string, month: MonthKey, rows: RowBatches, options: WriteFileOptions): Promise<PartitionFileFacts> {
  const accumulator = new RowAccumulator(month);
  const fileHash = createHash('sha256');
  let bytes = 0;
  const handle = await open(path, 'wx');
  try {
    await pipeline(encodedBatches(rows, accumulator, options.signal), createGzip({ level: options.gzipLevel }), async (compressed: AsyncIterable<Buffer>) => {
      for await (const chunk of compressed) {
        fileHash.update(chunk);
        bytes += chunk.length;
        for (let offset = 0; offset < chunk.length; ) offset += (await handle.write(chunk, offset, chunk.length - offset)).bytesWritten;
      }
    });
    await handle.sync();
  } finally {
    await handle.close();
  }
  return {
    rows: accumulator.rows,
    rowsSha256: accumulator.rowsHash.digest('hex'),
    firstTimestamp: accumulator.first,
    lastTimestamp: accumulator.last,
    timeOrdered: accumulator.timeOrdered,
    bytes,
    fileSha256: fileHash.digest('hex'),
  };
}

/** The digest of the rows alone (checked the same way), for comparing a retried write with the stored partition without writing. */
export async function digestRows(month: MonthKey, rows: RowBatches, signal?: AbortSignal): Promise<{ rows: number; rowsSha256: string }> {
  const accumulator = new RowAccumulator(month);
  for await (const _chunk of encodedBatches(rows, accumulator, signal)) {
    // encoding is the work: it checks and hashes each batch
  }
  return { rows: accumulator.rows, rowsSha256: accumulator.rowsHash.digest('hex') };
}
