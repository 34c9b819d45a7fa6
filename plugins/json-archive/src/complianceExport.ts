import { createHash } from 'node:crypto';
import { open, rename } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { interactionLine, type MonthKey, type TimeRange } from '@strata/core';
import { ArchiveInputError, abortError, archiveWriteError } from './archiveErrors.js';
import { tempFileName } from './archiveLayout.js';
import { scanArchive } from './archiveScan.js';
import { ensureDirectory, removeQuietly, syncDirectory, writeFileDurably } from './durableFile.js';
import type { PartitionStore } from './partitionStore.js';

export interface ComplianceExportOptions {
  /** The JSONL file to write (`.gz` suffix: gzip-compressed unless `gzip` says otherwise). Its manifest goes beside it as `<out>.manifest.json`. */
  out: string;
  /** Only rows in `[from, to)`; default: every row. */
  range?: TimeRange;
  /** Only this session's rows (as stored: a pseudonym when a privacy processor is configured). */
  sessionId?: string;
  /** Compress the export with gzip. Default: true when `out` ends with `.gz`. */
  gzip?: boolean;
  /** Gzip level of a compressed export, 1–9. Default: the archive's level. */
  gzipLevel?: number;
  signal?: AbortSignal;
}

/** `<out>.manifest.json`: what an auditor needs to check an export against the archive. */
export interface ComplianceExportManifest {
  format: 'strata-json-archive/compliance-export';
  version: 1;
  /** Epoch ms. */
  createdAt: number;
  filter: { from: number | null; to: number | null; sessionId: string | null };
  /** The export's file name (beside the manifest). */
  file: string;
  gzip: boolean;
  rows: number;
  /** Size and SHA-256 of the export file as written. */
  bytes: number;
  sha256: string;
  /** SHA-256 of the uncompressed JSONL (the `InteractionDigest` of the exported rows, in export order). */
  rowsSha256: string;
  /** Every partition read, with its manifest checksums and how many of its rows were exported. */
  sources: Array<{ id: string; month: MonthKey; rows: number; fileSha256: string; rowsSha256: string; exportedRows: number }>;
}

function checkOptions(options: ComplianceExportOptions): void {
  if (typeof options.out !== 'string' || options.out.trim() === '') throw new ArchiveInputError('out', 'must be the path of the file to write');
  if (options.sessionId !== undefined && (typeof options.sessionId !== 'string' || options.sessionId === '')) {
    throw new ArchiveInputError('sessionId', 'must be a non-empty string when given');
  }
  for (const bound of ['from', 'to'] as const) {
    const value = options.range?.[bound];
    if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value))) throw new ArchiveInputError(`range.${bound}`, `must be epoch milliseconds, got ${JSON.stringify(value)}`);
  }
  if (options.gzipLevel !== undefined && (!Number.isInteger(options.gzipLevel) || options.gzipLevel < 1 || options.gzipLevel > 9)) {
    throw new ArchiveInputError('gzipLevel', `must be an integer from 1 to 9, got ${JSON.stringify(options.gzipLevel)}`);
  }
}

/**
 * Streams the matching archived rows, oldest first, to `out` (temp file, fsync, rename), then
 * writes the manifest the same way. Every partition read is checked against its manifest entry
 * first; a damaged one fails the export and leaves no file behind.
 */
export async function exportCompliance(store: PartitionStore, options: ComplianceExportOptions, now: number): Promise<ComplianceExportManifest> {
  checkOptions(options);
  const out = resolve(options.out);
  const range = options.range ?? {};
  const gzip = options.gzip ?? out.endsWith('.gz');
  const entries = (await store.entries({ range })).filter((entry) => entry.rows > 0);
  const sources = new Map(entries.map((entry) => [entry.id, { id: entry.id, month: entry.month, rows: entry.rows, fileSha256: entry.fileSha256, rowsSha256: entry.rowsSha256, exportedRows: 0 }]));
  const sessionId = options.sessionId;
  const rowsHash = createHash('sha256');
  const fileHash = createHash('sha256');
  let rows = 0;
  let bytes = 0;

  async function* lines(): AsyncGenerator<Buffer> {
    const scan = scanArchive(store, entries, range, {
      signal: options.signal,
      match: sessionId === undefined ? undefined : (row) => row.sessionId === sessionId,
      onRow: (_row, entry) => (sources.get(entry.id)!.exportedRows += 1),
    });
    for await (const batch of scan) {
      let text = '';
      for (const row of batch) text += `${interactionLine(row)}\n`;
      rows += batch.length;
      rowsHash.update(text);
      yield Buffer.from(text, 'utf8');
    }
    // A scan ends quietly on abort; an export must not then look complete.
    if (options.signal?.aborted) throw abortError(options.signal);
  }

  const temp = join(dirname(out), tempFileName(`.${basename(out)}`));
  try {
    await ensureDirectory(dirname(out));
    const handle = await open(temp, 'wx');
    try {
      const sink = async (chunks: AsyncIterable<Buffer>) => {
        for await (const chunk of chunks) {
          fileHash.update(chunk);
          bytes += chunk.length;
          for (let offset = 0; offset < chunk.length; ) offset += (await handle.write(chunk, offset, chunk.length - offset)).bytesWritten;
        }
      };
      if (gzip) await pipeline(Readable.from(lines()), createGzip({ level: options.gzipLevel ?? store.gzipLevel }), sink);
      else await pipeline(Readable.from(lines()), sink);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, out);
    await syncDirectory(dirname(out));
  } catch (error) {
    await removeQuietly(temp);
    throw archiveWriteError(error, 'writing a compliance export', out);
  }
  const manifest: ComplianceExportManifest = {
    format: 'strata-json-archive/compliance-export',
    version: 1,
    createdAt: now,
    filter: { from: range.from ?? null, to: range.to ?? null, sessionId: sessionId ?? null },
    file: basename(out),
    gzip,
    rows,
    bytes,
    sha256: fileHash.digest('hex'),
    rowsSha256: rowsHash.digest('hex'),
    sources: [...sources.values()],
  };
  const manifestFile = `${out}.manifest.json`;
  try {
    await writeFileDurably(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);
  } catch (error) {
    throw archiveWriteError(error, 'writing a compliance export manifest', manifestFile);
  }
  return manifest;
}
