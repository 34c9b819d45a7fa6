import { readLines } from '@strata/core';
import { createReadStream, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { IngestSummary, ScopedStrata, Strata } from '@strata/core';
import { CliError, writeJson, writeLine, withStrata, type CommandContext, type CliIo } from './commandContext.js';
import { formatCount, formatDuration, formatPairs } from './formatTable.js';
import { SIGNAL_EXIT_CODES, watchInterruption, type Interruption, type StopSignal } from './interruption.js';
import { createByteProgress } from './progress.js';

export interface IngestCommandOptions {
  json?: boolean;
}

/** The outcome of one ingest run, as printed by `--json`. */
export interface IngestReport extends IngestSummary {
  /** File path, or `stdin`. */
  source: string;
  /** Non-blank lines processed per second. */
  eventsPerSecond: number;
  /** Where rejected lines went, when there were any. */
  deadLetterDir: string | null;
  /** The signal that stopped the run early, or null when it read the whole input. */
  interrupted: StopSignal | null;
}

/** An input opened for reading: a file with a known size, or stdin. */
export interface IngestInput {
  source: string;
  stream: NodeJS.ReadableStream;
  /** Bytes to read, when known (files): drives the progress bar. */
  size: number | undefined;
}

/** Opens `file` (or stdin for `-`), failing with a readable message before any storage is touched. */
export function openIngestInput(file: string, io: CliIo): IngestInput {
  if (file === '-') return { source: 'stdin', stream: io.stdin, size: undefined };
  const path = resolve(io.cwd, file);
  let size: number;
  try {
    const stats = statSync(path);
    if (stats.isDirectory()) throw new CliError(`cannot ingest ${path}: it is a directory; pass a .jsonl file or - for stdin`);
    size = stats.isFile() ? stats.size : 0;
  } catch (error) {
    if (error instanceof CliError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (error as Error).message;
    throw new CliError(`cannot read ${path}: ${why}`, { cause: error });
  }
  return { source: path, stream: createReadStream(path), size };
}

/**
 * Streams an input into Strata: one line at a time, pulled as needed, so memory stays flat however
 * large the input is (the core applies back-pressure when the hot tier falls behind). Stops reading
 * when `interruption` fires and still writes everything already accepted.
 */
export async function ingestInput(strata: Strata, scoped: ScopedStrata, input: IngestInput, io: CliIo, interruption?: Interruption): Promise<IngestReport> {
  const lines = readLines(input.stream as AsyncIterable<Buffer | string>);
  // An interruption stops ingestLines at the next line; returning from the generator then ends the read.
  const progress = createByteProgress(io.stderr, input.size ?? 0, 'ingest');
  let summary: IngestSummary;
  try {
    summary = await scoped.ingestLines(lines, {
      source: input.source,
      signal: interruption?.signal,
      onProgress: ({ lines: count, bytes }) => progress.update(bytes, { lines: count }),
    });
  } finally {
    progress.stop();
    await lines.return(undefined);
  }
  const processed = summary.lines - summary.blank;
  const seconds = summary.durationMs / 1_000;
  return {
    source: input.source,
    ...summary,
    eventsPerSecond: seconds > 0 ? Math.round(processed / seconds) : processed,
    deadLetterDir: summary.deadLetter > 0 ? (await strata.status()).deadLetterDir : null,
    interrupted: interruption?.received ?? null,
  };
}

/** 0 when every line was accepted, 2 when some were rejected, 1 when some could not be stored, 130/143 when interrupted. */
export function ingestExitCode(report: IngestReport): number {
  if (report.interrupted) return SIGNAL_EXIT_CODES[report.interrupted];
  if (report.failed > 0) return 1;
  if (report.rejected > 0) return 2;
  return 0;
}

export function printIngestReport(io: CliIo, report: IngestReport, json: boolean): void {
  if (report.failed > 0) {
    io.stderr.write(
      `strata: ${formatCount(report.failed)} valid event(s) could not be stored (storage failure); they are in ${report.deadLetterDir ?? 'the dead-letter store'} — check the storage error logged above, then ingest again\n`,
    );
  }
  if (json) {
    writeJson(io.stdout, report);
    return;
  }
  const { stdout } = io;
  writeLine(stdout, `Ingested ${report.source}${report.interrupted ? ` (stopped by ${report.interrupted})` : ''}`);
  writeLine(
    stdout,
    formatPairs([
      ['lines', `${formatCount(report.lines)}${report.blank > 0 ? ` (${formatCount(report.blank)} blank, skipped)` : ''}`],
      ['stored', formatCount(report.stored)],
      ['duplicates', `${formatCount(report.duplicates)}${report.duplicates > 0 ? ' (already stored, left untouched)' : ''}`],
      ['rejected', formatCount(report.rejected)],
      ['failed', formatCount(report.failed)],
      ['time', `${formatDuration(report.durationMs)} (${formatCount(report.eventsPerSecond)} events/s)`],
    ]),
  );
  if (report.rejected > 0 && report.deadLetterDir) {
    writeLine(stdout, `${formatCount(report.rejected)} line(s) rejected; each is in ${report.deadLetterDir} with its line number and the reason.`);
  }
  if (report.interrupted) {
    writeLine(stdout, 'Everything read before the signal was stored. Run the same command again to finish: events already stored count as duplicates.');
  }
}

export async function ingestCommand(context: CommandContext, file: string, options: IngestCommandOptions): Promise<number> {
  const { io } = context;
  const input = openIngestInput(file, io);
  const interruption = watchInterruption(io);
  try {
    const report = await withStrata(context, (strata, scoped) => ingestInput(strata, scoped, input, io, interruption));
    printIngestReport(io, report, options.json === true);
    return ingestExitCode(report);
  } finally {
    interruption.dispose();
    if (input.stream !== io.stdin && 'destroy' in input.stream) (input.stream as NodeJS.ReadableStream & { destroy(): void }).destroy();
  }
}
