import { createReadStream, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Strata } from '@strata/core';
import { ImportFileError, exportEnvironmentOf, importRecords, type ImportResult } from '@strata/exporters';
import { CliError, withStrata, writeJson, writeLine, type CliIo, type CommandContext } from './commandContext.js';
import { formatCount, formatDuration, formatPairs } from './formatTable.js';
import { SIGNAL_EXIT_CODES, watchInterruption, type StopSignal } from './interruption.js';
import { createByteProgress } from './progress.js';

export interface ImportCommandOptions {
  format?: string;
  json?: boolean;
}

/** What `strata import --json` prints. */
export interface ImportReport extends ImportResult {
  /** Records processed per second. */
  recordsPerSecond: number;
  /** Where rejected records went, when there were any. */
  deadLetterDir: string | null;
  interrupted: StopSignal | null;
}

interface ImportInput {
  source: string;
  /** Opened only once the format is known, so a refused import leaves no stream opening behind. */
  open(): NodeJS.ReadableStream;
  size: number | undefined;
}

function openImportInput(file: string, io: CliIo): ImportInput {
  if (file === '-') return { source: 'stdin', open: () => io.stdin, size: undefined };
  const path = resolve(io.cwd, file);
  let size: number;
  try {
    const stats = statSync(path);
    if (stats.isDirectory()) throw new CliError(`cannot import ${path}: it is a directory; pass a .jsonl, .json or .csv file (optionally .gz), or - for stdin`);
    size = stats.size;
  } catch (error) {
    if (error instanceof CliError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new CliError(`cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (error as Error).message}`, { cause: error });
  }
  return { source: path, open: () => createReadStream(path), size };
}

/**
 * `strata import`: reads interactions exported as JSON Lines, JSON or CSV (gzip or not) and sends
 * them through Strata's ingest path as the command's principal (write permission), so validation,
 * privacy, dead-lettering and eventId deduplication apply as to `strata ingest`.
 */
export async function importCommand(context: CommandContext, file: string, options: ImportCommandOptions): Promise<number> {
  const { io } = context;
  const input = openImportInput(file, io);
  const interruption = watchInterruption(io);
  const progress = createByteProgress(io.stderr, input.size ?? 0, 'import');
  let stream: NodeJS.ReadableStream | undefined;
  try {
    const report = await withStrata(context, async (strata, scoped) => {
      const { registry } = exportEnvironmentOf(strata, { onSkipped: (kind, reason) => writeLine(io.stderr, `strata: warning: skipped a contributed export ${kind}: ${reason}`) });
      const format = options.format ?? (input.source === 'stdin' ? undefined : registry.formatForFile(input.source)?.name);
      if (!format) {
        const readable = registry.formats.filter((candidate) => candidate.decode).map((candidate) => candidate.name).join(', ');
        throw new CliError(input.source === 'stdin' ? `--format is needed when importing stdin; one of ${readable}` : `cannot tell the format from the name of ${input.source}; pass --format (${readable})`);
      }
      registry.format(format);
      let result: ImportResult;
      try {
        stream = input.open();
        result = await importRecords({
          registry,
          format,
          input: stream as AsyncIterable<Buffer>,
          source: input.source,
          ingestLines: (lines, ingestOptions) => scoped.ingestLines(lines, ingestOptions),
          signal: interruption.signal,
          onProgress: ({ records, bytes }) => progress.update(bytes, { lines: records }),
        });
      } catch (error) {
        if (error instanceof ImportFileError && error.partial) {
          progress.stop();
          printImportReport(io, await withDeadLetters(strata, error.partial, interruption.received), false);
        }
        throw error;
      }
      return withDeadLetters(strata, result, interruption.received);
    });
    progress.stop();
    printImportReport(io, report, options.json === true);
    if (report.interrupted) return SIGNAL_EXIT_CODES[report.interrupted];
    if (report.failed > 0) return 1;
    return report.rejected > 0 ? 2 : 0;
  } finally {
    progress.stop();
    interruption.dispose();
    if (stream && stream !== io.stdin && 'destroy' in stream) (stream as NodeJS.ReadableStream & { destroy(): void }).destroy();
  }
}

async function withDeadLetters(strata: Strata, summary: ImportResult, received: StopSignal | undefined): Promise<ImportReport> {
  const processed = summary.lines - summary.blank;
  const seconds = summary.durationMs / 1_000;
  return {
    ...summary,
    recordsPerSecond: seconds > 0 ? Math.round(processed / seconds) : processed,
    deadLetterDir: summary.deadLetter > 0 ? (await strata.status()).deadLetterDir : null,
    interrupted: received ?? null,
  };
}

function printImportReport(io: CliIo, report: ImportReport, json: boolean): void {
  if (report.failed > 0) {
    io.stderr.write(`strata: ${formatCount(report.failed)} valid record(s) could not be stored (storage failure); they are in ${report.deadLetterDir ?? 'the dead-letter store'}; check the storage error logged above, then import again\n`);
  }
  if (json) {
    writeJson(io.stdout, report);
    return;
  }
  const { stdout } = io;
  writeLine(stdout, `Imported ${report.source} (${report.format})${report.interrupted ? ` (stopped by ${report.interrupted})` : ''}`);
  writeLine(
    stdout,
    formatPairs([
      ['records', `${formatCount(report.lines)}${report.blank > 0 ? ` (${formatCount(report.blank)} blank, skipped)` : ''}`],
      ['accepted', `${formatCount(report.accepted)} (${formatCount(report.stored)} stored, ${formatCount(report.duplicates)} duplicate${report.duplicates === 1 ? '' : 's'} already stored)`],
      ['rejected', formatCount(report.rejected)],
      ['failed', formatCount(report.failed)],
      ['time', `${formatDuration(report.durationMs)} (${formatCount(report.recordsPerSecond)} records/s)`],
    ]),
  );
  if (report.rejected > 0 && report.deadLetterDir) {
    writeLine(stdout, `${formatCount(report.rejected)} record(s) rejected; each is in ${report.deadLetterDir} with its record number (line) and the reason.`);
  }
  if (report.interrupted) writeLine(stdout, 'Everything read before the signal was stored. Run the same command again to finish: records already stored count as duplicates.');
}
