import {
  parseDuration,
  parseTimestamp,
  type CommonQuestion,
  type ContentEffectiveness,
  type DailyBusinessMetrics,
  type InsightsPage,
  type InsightsProvider,
  type Report,
  type ReportQuery,
  type RoleBehaviour,
  type SystemPerformancePoint,
  type TrendingPage,
} from '@strata/core';
import { CliError, writeJson, writeLine, withStrata, type CliIo, type CommandContext } from './commandContext.js';
import { formatCount, formatPairs, formatPercent, formatSeconds, formatTable } from './formatTable.js';
import { latestFindingsForReport, renderReportFindings } from './insightsCommand.js';

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

/** The insights shown with a report: the same range and role, `--top` rows of the ranked lists. */
export interface ReportInsights {
  businessMetrics: DailyBusinessMetrics[];
  userBehaviour: RoleBehaviour[];
  commonQuestions: CommonQuestion[];
  trendingQueries: Pick<TrendingPage, 'items' | 'asOf' | 'recentDays' | 'baselineDays'>;
  contentEffectiveness: ContentEffectiveness[];
  /** Per day (per hour when the range is two days or less). */
  systemPerformance: SystemPerformancePoint[];
}

const DAY_MS = 86_400_000;
/** Per-day series are read whole, page by page, up to this many rows (a decade of days). */
const MAX_SERIES_ROWS = 5_000;

/** Asks the insights API every question of the report, for the report's range and role. */
export async function collectInsights(insights: InsightsProvider, query: ReportQuery): Promise<ReportInsights> {
  const filter = { ...(query.range ? { range: query.range } : {}), ...(query.userRole !== undefined ? { userRole: query.userRole } : {}) };
  const top = query.topN ?? 10;
  const span = query.range?.from !== undefined ? (query.range.to ?? Date.now()) - query.range.from : Number.POSITIVE_INFINITY;
  const [businessMetrics, userBehaviour, commonQuestions, trending, contentEffectiveness, systemPerformance] = await Promise.all([
    allPages((cursor) => insights.businessMetrics({ ...filter, limit: 1_000, ...(cursor ? { cursor } : {}) })),
    allPages((cursor) => insights.userBehaviour({ ...filter, limit: 1_000, ...(cursor ? { cursor } : {}) })),
    insights.commonQuestions({ ...filter, limit: top }),
    insights.trendingQueries({ ...filter, limit: top }),
    insights.contentEffectiveness({ ...filter, limit: top }),
    allPages((cursor) =>
      insights.systemPerformance({
        ...(query.range ? { range: query.range } : {}),
        granularity: span <= 2 * DAY_MS ? 'hour' : 'day',
        limit: 1_000,
        ...(cursor ? { cursor } : {}),
      }),
    ),
  ]);
  return {
    businessMetrics,
    userBehaviour,
    commonQuestions: commonQuestions.items,
    trendingQueries: { items: trending.items, asOf: trending.asOf, recentDays: trending.recentDays, baselineDays: trending.baselineDays },
    contentEffectiveness: contentEffectiveness.items,
    systemPerformance,
  };
}

async function allPages<T>(ask: (cursor: string | undefined) => Promise<InsightsPage<T>>): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await ask(cursor);
    items.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor && items.length < MAX_SERIES_ROWS);
  return items;
}

export function renderReport(report: Report, insights?: ReportInsights): string {
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
  if (insights) {
    lines.push(renderInsights(insights, totals.interactions));
    return lines.join('\n');
  }
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

/** The insights sections that follow the totals and the tables by role and query type. */
export function renderInsights(insights: ReportInsights, interactions: number): string {
  const lines: string[] = [];
  const right = (header: string) => ({ header, align: 'right' as const });
  const rating = (value: number | null) => (value === null ? '-' : value.toFixed(2));
  const ratio = (value: number | null, digits = 2) => (value === null ? '-' : value.toFixed(digits));

  if (insights.businessMetrics.length > 0) {
    lines.push('', 'Business metrics by day (UTC)');
    lines.push(
      formatTable(
        [{ header: 'day' }, right('interactions'), right('sessions'), right('converted'), right('success'), right('avg response'), right('p95 response'), right('avg rating')],
        insights.businessMetrics.map((day) => [
          day.date,
          formatCount(day.interactions),
          formatCount(day.sessions),
          formatCount(day.convertedSessions),
          formatPercent(day.successRate),
          formatSeconds(day.avgResponseTime),
          formatSeconds(day.p95ResponseTime),
          rating(day.avgRating),
        ]),
      ),
    );
  }
  if (insights.userBehaviour.length > 0) {
    lines.push('', 'Behaviour by role (sessions that started in the range)');
    lines.push(
      formatTable(
        [{ header: 'role', maxWidth: 32 }, right('sessions'), right('queries/session'), right('conversion'), right('follow-ups'), right('snippets/answer'), right('p95 response'), right('avg rating')],
        insights.userBehaviour.map((role) => [
          role.userRole,
          formatCount(role.sessions),
          ratio(role.queriesPerSession),
          formatPercent(role.conversionRate),
          formatPercent(role.followUpRate),
          ratio(role.codeSnippetsPerInteraction),
          formatSeconds(role.p95ResponseTime),
          rating(role.avgRating),
        ]),
      ),
    );
  }
  if (insights.commonQuestions.length > 0) {
    lines.push('', `Top ${insights.commonQuestions.length} queries`);
    lines.push(
      formatTable(
        [right('#'), { header: 'query', maxWidth: 60 }, right('asks'), right('share'), right('success'), right('avg response'), right('avg rating'), { header: 'asked most by', maxWidth: 40 }],
        insights.commonQuestions.map((question, index) => [
          index + 1,
          question.query,
          formatCount(question.asks),
          formatPercent(interactions > 0 ? question.asks / interactions : null),
          formatPercent(question.successRate),
          formatSeconds(question.avgResponseTime),
          rating(question.avgRating),
          question.popularRoles.slice(0, 2).join(', '),
        ]),
      ),
    );
  }
  const trending = insights.trendingQueries;
  if (trending.items.length > 0 && trending.asOf !== null) {
    const until = new Date(trending.asOf).toISOString().slice(0, 10);
    lines.push('', `Trending queries (the ${trending.recentDays} days before ${until} against the ${trending.baselineDays} days before them)`);
    lines.push(
      formatTable(
        [right('#'), { header: 'query', maxWidth: 60 }, right('recent asks'), right('expected'), right('score')],
        trending.items.map((query, index) => [index + 1, query.query, formatCount(query.recentAsks), query.expectedAsks.toFixed(1), query.trendingScore.toFixed(2)]),
      ),
    );
  }
  if (insights.contentEffectiveness.length > 0) {
    lines.push('', 'Content effectiveness (score: smoothed success rate × relevance, 0 to 1)');
    lines.push(
      formatTable(
        [right('#'), { header: 'type', maxWidth: 20 }, { header: 'id', maxWidth: 40 }, right('uses'), right('relevance'), right('success'), right('score'), { header: 'used most by', maxWidth: 40 }],
        insights.contentEffectiveness.map((content, index) => [
          index + 1,
          content.contentType,
          content.contentId,
          formatCount(content.accesses),
          ratio(content.avgRelevance),
          formatPercent(content.successRate),
          content.performanceScore.toFixed(3),
          content.roles.slice(0, 2).join(', '),
        ]),
      ),
    );
  }
  if (insights.systemPerformance.length > 0) {
    lines.push('', 'System performance');
    lines.push(
      formatTable(
        [{ header: 'from (UTC)' }, { header: 'metric', maxWidth: 40 }, { header: 'component', maxWidth: 30 }, right('samples'), right('avg'), right('min'), right('max'), { header: 'unit' }],
        insights.systemPerformance.map((point) => [
          new Date(point.bucketStart).toISOString().slice(0, 16).replace('T', ' '),
          point.metricName,
          point.component ?? '-',
          formatCount(point.samples),
          formatMetric(point.avg),
          formatMetric(point.min),
          formatMetric(point.max),
          point.unit ?? '',
        ]),
      ),
    );
  }
  return lines.join('\n');
}

/** A metric value with at most three decimals. */
function formatMetric(value: number): string {
  return Number.isInteger(value) ? formatCount(value) : value.toLocaleString('en-US', { maximumFractionDigits: 3 });
}

/** Prints the report, with the insights after it when given: `--json` prints `{ ...report, insights }` on one line. */
export function printReport(io: CliIo, report: Report, json: boolean, insights?: ReportInsights): void {
  if (json) writeJson(io.stdout, insights ? { ...report, insights } : report);
  else writeLine(io.stdout, renderReport(report, insights));
}

export async function reportCommand(context: CommandContext, options: ReportCommandOptions): Promise<number> {
  const query = reportQueryFromOptions(options);
  const { report, insights, findings } = await withStrata(context, async (strata, scoped) => ({
    report: await scoped.report(query),
    // A hot tier without rollups (a third-party tier) still gets the plain report.
    insights: strata.storage('hot')?.insights ? await collectInsights(scoped.insights, query) : undefined,
    findings: await latestFindingsForReport(strata, scoped),
  }));
  // `--json` carries the findings in the same line; text prints them as the last section.
  const reported: Report = findings && options.json ? { ...report, ...{ findings } } : report;
  printReport(context.io, reported, options.json === true, insights);
  if (findings && !options.json) writeLine(context.io.stdout, renderReportFindings(findings));
  return 0;
}
