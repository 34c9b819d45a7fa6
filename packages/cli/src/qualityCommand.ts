import { parseDuration, parseTimestamp, type ResolvedConfig } from '@strata/core';
import {
  QualityOptionsSchema,
  openQualityService,
  type QualityHistoryEntry,
  type QualityHistoryQuery,
  type QualityReport,
  type ResolvedQualityOptions,
} from '@strata/quality';
import { CliError, withStrata, writeJson, writeLine, type CommandContext } from './commandContext.js';
import { formatTable } from './formatTable.js';

export interface QualityCommandOptions {
  json?: boolean;
  /** Overrides the window of checks over raw rows (`24h`, `7d`). */
  window?: string;
  /** Print past results instead of running the checks. */
  history?: boolean;
  check?: string;
  since?: string;
  limit?: string;
}

/** What `strata quality --history --json` prints. */
export interface QualityHistoryOutput {
  file: string;
  entries: QualityHistoryEntry[];
}

const HOUR_MS = 3_600_000;

/**
 * `strata quality`: runs every data-quality check against the hot tier now, stores the report in
 * the quality history (the same `quality.db` the daily job writes) and prints it. Uses the quality
 * plugin's options when the config lists the plugin, else its defaults. Exit 0 when every check
 * passed (or was skipped), 2 when one warned or failed, 1 on a fatal error.
 * `--history` prints past results instead (exit 0).
 */
export async function qualityCommand(context: CommandContext, options: QualityCommandOptions): Promise<number> {
  const windowMs = options.window === undefined ? undefined : parseWindow(options.window);
  const historyQuery = options.history ? historyQueryFromOptions(options, Date.now()) : undefined;
  if (!options.history && (options.check !== undefined || options.since !== undefined || options.limit !== undefined)) {
    throw new CliError('--check, --since and --limit select past results; use them with --history');
  }

  const outcome = await withStrata(context, async (strata, scoped) => {
    // Quality results are summaries of the data, like the report; running them writes only to the quality history.
    scoped.authorize('report.read', { quality: historyQuery ? 'history' : 'run' });
    const service = openQualityService({
      dataDir: strata.config.dataDir,
      options: qualityOptionsOf(strata.config),
      hotTier: () => strata.storage('hot'),
      now: () => Date.now(),
      logger: strata.logger,
    });
    try {
      if (historyQuery) return { history: { file: service.file, entries: service.history(historyQuery) } };
      return { report: await service.run({ trigger: 'cli', ...(windowMs !== undefined ? { windowMs } : {}) }) };
    } finally {
      service.close();
    }
  });

  const { stdout } = context.io;
  if (outcome.history) {
    if (options.json) writeJson(stdout, outcome.history);
    else printHistory(context, outcome.history);
    return 0;
  }
  const report = outcome.report!;
  if (options.json) writeJson(stdout, report);
  else printReport(context, report);
  return report.status === 'pass' ? 0 : 2;
}

/** The quality plugin's validated options from the config, or its defaults when it is not listed. */
export function qualityOptionsOf(config: ResolvedConfig): ResolvedQualityOptions {
  const configured = config.plugins.find((plugin) => plugin.definition.name === 'quality');
  return configured ? (configured.options as ResolvedQualityOptions) : QualityOptionsSchema.parse({});
}

export function historyQueryFromOptions(options: QualityCommandOptions, now: number): QualityHistoryQuery {
  const query: QualityHistoryQuery = {};
  if (options.check !== undefined) {
    if (options.check.trim() === '') throw new CliError('--check must not be empty; name a check such as freshness or rule:<name>');
    query.check = options.check;
  }
  if (options.since !== undefined) query.since = parseSince(options.since, now);
  if (options.limit !== undefined) {
    const limit = Number(options.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new CliError(`--limit must be a whole number from 1 to 10000, got ${JSON.stringify(options.limit)}`);
    query.limit = limit;
  }
  return query;
}

function parseWindow(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined || ms < HOUR_MS || ms > 366 * 24 * HOUR_MS) {
    throw new CliError(`--window must be a duration from 1h to 366d such as 24h or 7d, got ${JSON.stringify(text)}`);
  }
  return ms;
}

/** `7d` means seven days before now; anything else must be an ISO-8601 date-time or epoch milliseconds. */
function parseSince(text: string, now: number): number {
  const ago = parseDuration(text);
  if (ago !== undefined) return now - ago;
  const parsed = parseTimestamp(/^\d+$/.test(text.trim()) ? Number(text) : text, now, Number.POSITIVE_INFINITY);
  if (!parsed.ok) throw new CliError(`--since ${parsed.reason}; use a duration such as 7d or a date such as 2026-01-31`);
  return parsed.ms;
}

const STATUS_LABEL: Record<string, string> = { pass: 'pass', warn: 'WARN', fail: 'FAIL', skipped: 'skipped' };

function printReport(context: CommandContext, report: QualityReport): void {
  const { stdout } = context.io;
  const { pass, warn, fail, skipped } = report.counts;
  writeLine(
    stdout,
    `Data quality (run ${report.runId}, ${report.source}, window ${iso(report.window.from)} – ${iso(report.window.to)}): ${report.status.toUpperCase()}`,
  );
  writeLine(stdout, `  ${pass} pass, ${warn} warn, ${fail} fail, ${skipped} skipped`);
  writeLine(stdout);
  writeLine(
    stdout,
    formatTable(
      [{ header: 'check' }, { header: 'status' }, { header: 'observed', align: 'right' }, { header: 'threshold', maxWidth: 90 }, { header: 'finding' }],
      report.results.map((result) => [
        result.check,
        STATUS_LABEL[result.status] ?? result.status,
        formatObserved(result.observed, result.unit),
        result.threshold ?? '-',
        result.message,
      ]),
    ),
  );
}

function printHistory(context: CommandContext, history: QualityHistoryOutput): void {
  const { stdout } = context.io;
  if (history.entries.length === 0) {
    writeLine(stdout, `No quality results match (history in ${history.file}).`);
    return;
  }
  writeLine(stdout, `Quality history (${history.file}), newest first`);
  writeLine(
    stdout,
    formatTable(
      [{ header: 'run', align: 'right' }, { header: 'finished' }, { header: 'check' }, { header: 'status' }, { header: 'observed', align: 'right' }, { header: 'finding', maxWidth: 100 }],
      history.entries.map((entry) => [entry.runId, iso(entry.at), entry.check, STATUS_LABEL[entry.status] ?? entry.status, formatObserved(entry.observed, entry.unit), entry.message]),
    ),
  );
}

function formatObserved(value: number | null, unit: string | null): string {
  if (value === null) return '-';
  if (unit === 'ratio') return `${(value * 100).toFixed(value === 0 ? 0 : 3)} %`;
  if (unit === 's') return value < 120 ? `${Math.round(value)} s` : value < 7_200 ? `${Math.round(value / 60)} min` : `${(value / 3_600).toFixed(1)} h`;
  const shown = Number.isInteger(value) ? String(value) : value.toFixed(2);
  return unit && unit !== 'z' ? `${shown} ${unit}` : shown;
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/:\d\d\.\d{3}Z$/, 'Z');
}
