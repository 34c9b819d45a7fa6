import { parseDuration, parseTimestamp, type Report, type ReportQuery } from '@strata/core';
import { CliError, writeJson, writeLine, withStrata, type CliIo, type CommandContext } from './commandContext.js';
import { formatCount, formatPairs, formatPercent, formatSeconds, formatTable } from './formatTable.js';

export interface ReportCommandOptions {
  /** A duration back from now (`30d`, `12h`) or a date-time. Default: all stored data. */
  since?: string;
  /** A date-time or a duration back from now. Default: now. */
  until?: string;
  role?: string;
  top?: string;
  json?: boolean;
}

/** Turns the report flags into a query; `now` is injectable so tests need not depend on the clock. */
export function reportQueryFromOptions(options: ReportCommandOptions, now: number = Date.now()): ReportQuery {
  const query: ReportQuery = {};
  const from = options.since === undefined ? undefined : parseInstant(options.since, '--since', now);
  const to = options.until === undefined ? undefined : parseInstant(options.until, '--until', now);
  if (from !== undefined && to !== undefined && from >= to) {
    throw new CliError(`--since (${new Date(from).toISOString()}) must be before --until (${new Date(to).toISOString()})`);
  }
  if (from !== undefined || to !== undefined) query.range = { ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) };
  if (options.role !== undefined) {
    if (options.role.trim() === '') throw new CliError('--role must not be empty');
    query.userRole = options.role;
  }
  if (options.top !== undefined) {
    const top = Number(options.top);
    if (!Number.isInteger(top) || top < 1 || top > 1_000) throw new CliError(`--top must be a whole number from 1 to 1000, got ${JSON.stringify(options.top)}`);
    query.topN = top;
  }
  return query;
}

/** `30d` means 30 days before now; anything else must be an ISO-8601 date-time or epoch milliseconds. */
function parseInstant(text: string, flag: string, now: number): number {
  const ago = parseDuration(text);
  if (ago !== undefined) return now - ago;
  const asNumber = /^\d+$/.test(text.trim()) ? Number(text) : text;
  const parsed = parseTimestamp(asNumber, now, Number.POSITIVE_INFINITY);
  if (!parsed.ok) throw new CliError(`${flag} ${parsed.reason}; use a duration such as 30d or 12h, or a date such as 2026-01-31`);
  return parsed.ms;
}

export function renderReport(report: Report): string {
  const lines: string[] = [];
  const from = report.range.from === null ? 'the beginning' : new Date(report.range.from).toISOString();
  const to = report.range.to === null ? 'now' : new Date(report.range.to).toISOString();
  lines.push(`Report from ${from} to ${to}`, '');
  const { totals } = report;
  lines.push(
    formatPairs([
      ['interactions', formatCount(totals.interactions)],
      ['sessions', formatCount(totals.sessions)],
      ['success rate', formatPercent(totals.successRate)],
      ['avg response', formatSeconds(totals.avgResponseTime)],
      ['p95 response', formatSeconds(totals.p95ResponseTime)],
      ['avg rating', totals.avgRating === null ? '-' : `${totals.avgRating.toFixed(2)} of 5 (${formatCount(totals.ratedInteractions)} rated)`],
    ]),
  );
  if (totals.interactions === 0) {
    lines.push('', 'No interactions in this range. Ingest some with `strata ingest <file.jsonl>`, or widen --since.');
    return lines.join('\n');
  }
  const groupColumns = [
    { header: 'interactions', align: 'right' as const },
    { header: 'share', align: 'right' as const },
    { header: 'success', align: 'right' as const },
    { header: 'avg response', align: 'right' as const },
  ];
  const share = (count: number) => formatPercent(totals.interactions > 0 ? count / totals.interactions : null);
  lines.push('', 'By role');
  lines.push(
    formatTable(
      [{ header: 'role', maxWidth: 32 }, ...groupColumns],
      report.byRole.map((row) => [row.userRole, formatCount(row.interactions), share(row.interactions), formatPercent(row.successRate), formatSeconds(row.avgResponseTime)]),
    ),
  );
  lines.push('', 'By query type');
  lines.push(
    formatTable(
      [{ header: 'query type', maxWidth: 32 }, ...groupColumns],
      report.byQueryType.map((row) => [row.queryType, formatCount(row.interactions), share(row.interactions), formatPercent(row.successRate), formatSeconds(row.avgResponseTime)]),
    ),
  );
  if (report.topQueries.length > 0) {
    lines.push('', `Top ${report.topQueries.length} queries`);
    lines.push(
      formatTable(
        [{ header: '#', align: 'right' }, { header: 'query', maxWidth: 60 }, { header: 'count', align: 'right' }, { header: 'success', align: 'right' }],
        report.topQueries.map((row, index) => [index + 1, row.query, formatCount(row.count), formatPercent(row.successRate)]),
      ),
    );
  }
  return lines.join('\n');
}

export function printReport(io: CliIo, report: Report, json: boolean): void {
  if (json) writeJson(io.stdout, report);
  else writeLine(io.stdout, renderReport(report));
}

export async function reportCommand(context: CommandContext, options: ReportCommandOptions): Promise<number> {
  const query = reportQueryFromOptions(options);
  const report = await withStrata(context, (strata) => strata.report(query));
  printReport(context.io, report, options.json === true);
  return 0;
}
