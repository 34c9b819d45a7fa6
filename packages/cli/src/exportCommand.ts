import { resolve } from 'node:path';
import { Writable } from 'node:stream';
import cliProgress from 'cli-progress';
import { exportEnvironmentOf, exportOperation, exportToFile, exportToStream, parseTimeBound, type ExportQuery, type ExportResult } from '@strata/exporters';
import { pluginHistorySources } from './exportHistorySources.js';
import { CliError, withStrata, writeJson, writeLine, type CliIo, type CliOutput, type CommandContext } from './commandContext.js';
import { formatBytes, formatCount, formatDuration, formatPairs } from './formatTable.js';
import { SIGNAL_EXIT_CODES, watchInterruption, type StopSignal } from './interruption.js';

export interface ExportCommandOptions {
  dataset?: string;
  format?: string;
  from?: string;
  to?: string;
  role?: string;
  queryType?: string;
  out: string;
  json?: boolean;
}

/** What `strata export --json` prints (on stderr when the data goes to stdout). */
export interface ExportReport extends ExportResult {
  /** The file written, or `-` for stdout. */
  out: string;
  /** Bytes on disk (after gzip) for a file; the bytes written for stdout. */
  fileBytes: number;
  rowsPerSecond: number;
  interrupted: boolean;
  signal: StopSignal | null;
}

/** Turns the flags into a query; `now` is injectable so tests need not depend on the clock. */
export function exportQueryFromOptions(options: ExportCommandOptions, now: number = Date.now()): ExportQuery {
  const query: ExportQuery = {};
  const from = options.from === undefined ? undefined : parseTimeBound(options.from, '--from', now);
  const to = options.to === undefined ? undefined : parseTimeBound(options.to, '--to', now);
  if (from !== undefined && to !== undefined && from >= to) {
    throw new CliError(`--from (${new Date(from).toISOString()}) must be before --to (${new Date(to).toISOString()})`);
  }
  if (from !== undefined || to !== undefined) query.range = { ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) };
  for (const [flag, key] of [['--role', 'userRole'], ['--query-type', 'queryType']] as const) {
    const value = key === 'userRole' ? options.role : options.queryType;
    if (value === undefined) continue;
    if (value.trim() === '') throw new CliError(`${flag} must not be empty`);
    query[key] = value;
  }
  return query;
}

/**
 * `strata export`: streams a dataset out of every tier that holds it as CSV, JSON or JSON Lines,
 * into a file (written atomically) or stdout, at constant memory. Raw interactions need the
 * `export.interactions` permission, aggregates `export.summaries`; what was exported is audited.
 */
export async function exportCommand(context: CommandContext, options: ExportCommandOptions): Promise<number> {
  const { io } = context;
  const query = exportQueryFromOptions(options);
  const dataset = options.dataset ?? 'interactions';
  const toStdout = options.out === '-';
  const out = toStdout ? '-' : resolve(io.cwd, options.out);
  const interruption = watchInterruption(io);
  const progress = createRowProgress(io.stderr, dataset);
  try {
    const report = await withStrata(context, async (strata, scoped) => {
      const environment = exportEnvironmentOf(strata, {
        sources: pluginHistorySources(strata),
        onSkipped: (kind, reason) => writeLine(io.stderr, `strata: warning: skipped a contributed export ${kind}: ${reason}`),
      });
      const source = environment.registry.source(dataset);
      const format = options.format ?? (toStdout ? undefined : environment.registry.formatForFile(out)?.name);
      if (!format) {
        const names = environment.registry.formats.map((candidate) => candidate.name).join(', ');
        throw new CliError(toStdout ? `--format is needed when writing to stdout (--out -); one of ${names}` : `cannot tell the format from the name of ${out}; pass --format (${names})`);
      }
      environment.registry.format(format);
      const operation = exportOperation(source);
      const target = auditTarget(dataset, format, query, out);
      scoped.authorize(operation, target);
      const request = { dataset, format, query, signal: interruption.signal, onProgress: (update: { rows: number; bytes: number }) => progress.update(update) };
      let result: ExportResult & { fileBytes: number };
      if (toStdout) {
        const exported = await exportToStream(environment, request, stdoutWritable(io), { end: false });
        result = { ...exported, fileBytes: exported.bytes };
      } else {
        result = await exportToFile(environment, request, out);
      }
      scoped.audit(operation, target, { rows: result.rows, bytes: result.fileBytes, interrupted: result.interrupted });
      return result;
    });
    progress.stop();
    const seconds = report.durationMs / 1_000;
    const full: ExportReport = {
      ...report,
      out,
      rowsPerSecond: seconds > 0 ? Math.round(report.rows / seconds) : report.rows,
      signal: interruption.received ?? null,
    };
    printExportReport(toStdout ? io.stderr : io.stdout, full, options.json === true);
    return full.interrupted && full.signal ? SIGNAL_EXIT_CODES[full.signal] : 0;
  } catch (error) {
    // The reader of stdout stopped reading (`| head`): what it wanted was written; say so, without a stack.
    if (toStdout && (error as NodeJS.ErrnoException).code === 'EPIPE') {
      writeLine(io.stderr, 'strata: stdout was closed by its reader; the export stopped there');
      return 0;
    }
    throw error;
  } finally {
    progress.stop();
    interruption.dispose();
  }
}

function auditTarget(dataset: string, format: string, query: ExportQuery, out: string): Record<string, unknown> {
  return {
    dataset,
    format,
    range: query.range ? { from: query.range.from ?? null, to: query.range.to ?? null } : null,
    userRole: query.userRole ?? null,
    queryType: query.queryType ?? null,
    out,
  };
}

function printExportReport(output: CliOutput, report: ExportReport, json: boolean): void {
  if (json) {
    writeJson(output, report);
    return;
  }
  if (report.interrupted) {
    writeLine(output, `Export of ${report.dataset} stopped by ${report.signal ?? 'a signal'} after ${formatCount(report.rows)} row(s); ${report.out === '-' ? 'the output is incomplete' : `nothing was written to ${report.out}`}.`);
    return;
  }
  writeLine(output, `Exported ${formatCount(report.rows)} ${report.dataset} row(s) as ${report.format} to ${report.out === '-' ? 'stdout' : report.out}`);
  const sources = Object.entries(report.counts)
    .filter(([, count]) => count > 0)
    .map(([key, count]) => `${key} ${formatCount(count)}`);
  writeLine(
    output,
    formatPairs([
      ['rows', formatCount(report.rows)],
      ['bytes', `${formatBytes(report.fileBytes)}${report.fileBytes !== report.bytes ? ` (${formatBytes(report.bytes)} before gzip)` : ''}`],
      ['time', `${formatDuration(report.durationMs)} (${formatCount(report.rowsPerSecond)} rows/s)`],
      ...(sources.length > 0 ? [['from', sources.join(', ')] as [string, string]] : []),
    ]),
  );
}

/**
 * stdout as a stream that honours back-pressure: `process.stdout` signals it with `write()`
 * returning false and a later `drain`; a test's capture just takes the text.
 */
function stdoutWritable(io: CliIo): Writable {
  const target = io.stdout as CliOutput & Partial<NodeJS.WritableStream>;
  const isStream = typeof target.once === 'function' && typeof target.off === 'function';
  // A reader that goes away (`strata export … --out - | head`) shows up as an error on stdout, not on a write.
  const onError = (error: Error) => adapter.destroy(error);
  const adapter = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      const accepted = target.write(isStream ? chunk : chunk.toString('utf8'));
      if (accepted === false && isStream) target.once!('drain', () => callback());
      else callback();
    },
    destroy(error, callback) {
      if (isStream) target.off!('error', onError);
      callback(error);
    },
    final(callback) {
      if (isStream) target.off!('error', onError);
      callback();
    },
  });
  if (isStream) target.on!('error', onError);
  return adapter;
}

/** Rows and bytes so far on stderr, drawn only on a terminal (the row count is not known in advance). */
function createRowProgress(output: CliOutput, label: string): { update(progress: { rows: number; bytes: number }): void; stop(): void } {
  if (output.isTTY !== true) return { update: () => undefined, stop: () => undefined };
  const bar = new cliProgress.SingleBar(
    {
      stream: output as unknown as NodeJS.WritableStream,
      format: `export ${label} | {rows} rows | {bytes}`,
      hideCursor: true,
      clearOnComplete: true,
      fps: 8,
      gracefulExit: false,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(1, 0, { rows: '0', bytes: formatBytes(0) });
  let stopped = false;
  return {
    update({ rows, bytes }) {
      if (!stopped) bar.update(0, { rows: formatCount(rows), bytes: formatBytes(bytes) });
    },
    stop() {
      if (stopped) return;
      stopped = true;
      bar.stop();
    },
  };
}
