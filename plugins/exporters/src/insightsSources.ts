import type { CommonQuestion, ContentEffectiveness, DailyBusinessMetrics, InsightsPage, InsightsQuery, StorageTier, TimeRange } from '@strata/core';
import type { ColumnSpec, ExportRow } from './exportFormat.js';
import type { ExportQuery, ExportSource, ExportSourceContext } from './exportSource.js';

/** The insights API's largest page (hot-sqlite and the layered answers cap at 1,000). */
const PAGE = 1_000;

/**
 * Query performance: one row per normalised question over the range, from the insights API
 * (`commonQuestions`): the hot tier's rollups, and the warm tier's monthly aggregates for months
 * retention moved there, merged into one answer. Most asked first.
 */
export const queriesSource: ExportSource = {
  dataset: 'queries',
  description: 'query performance per normalised question (hot rollups + warm monthly aggregates), most asked first',
  access: 'summaries',
  columns: [
    { name: 'queryHash', type: 'text' },
    { name: 'query', type: 'text' },
    { name: 'category', type: 'text' },
    { name: 'asks', type: 'integer' },
    { name: 'successRate', type: 'number' },
    { name: 'avgResponseTime', type: 'number' },
    { name: 'avgRating', type: 'number' },
    { name: 'ratedAsks', type: 'integer' },
    { name: 'popularRoles', type: 'json' },
    { name: 'lastAsked', type: 'timestamp' },
  ],
  filters: {
    range: 'when the question was asked (widened to whole UTC days, or months in the warm tier)',
    userRole: 'asks by this role only',
    queryType: "the question's category (the query type of its earliest ask)",
  },
  rows(query, context) {
    const keep = query.queryType === undefined ? undefined : (row: CommonQuestion) => row.category === query.queryType;
    return insightRows(queriesSource.columns, context, keep, (cursor) => context.insights.commonQuestions(insightsQuery(query, cursor)));
  },
};

/** Content performance: one row per knowledge item over the range (`contentEffectiveness`), best score first. */
export const contentSource: ExportSource = {
  dataset: 'content',
  description: 'content performance per knowledge item (hot rollups + warm monthly aggregates), best score first',
  access: 'summaries',
  columns: [
    { name: 'contentType', type: 'text' },
    { name: 'contentId', type: 'text' },
    { name: 'accesses', type: 'integer' },
    { name: 'avgRelevance', type: 'number' },
    { name: 'successRate', type: 'number' },
    { name: 'performanceScore', type: 'number' },
    { name: 'roles', type: 'json' },
    { name: 'firstAccessed', type: 'timestamp' },
    { name: 'lastAccessed', type: 'timestamp' },
  ],
  filters: {
    range: 'when the item was used (widened to whole UTC days, or months in the warm tier)',
    userRole: 'uses in answers to this role only',
  },
  rows(query, context) {
    return insightRows<ContentEffectiveness>(contentSource.columns, context, undefined, (cursor) => context.insights.contentEffectiveness(insightsQuery(query, cursor)));
  },
};

/** The warm tier's permanent daily figures, as historical-sqlite serves them. */
interface WarmBusinessDay {
  day: number;
  date: string;
  interactions: number;
  successRate: number;
  avgResponseTime: number;
  p95ResponseTime: number;
  avgRating: number | null;
  ratedInteractions: number;
}

interface WarmBusinessDays {
  businessDays(query: { range?: TimeRange; userRole?: string }): Promise<WarmBusinessDay[]>;
}

/**
 * Business metrics per UTC day, oldest first: the hot tier's daily rollups (kept permanently), and
 * any day only the warm tier still holds (its permanent `business_daily`) with `sessions` and
 * `convertedSessions` absent, since the warm tier does not count sessions. `tier` says which.
 */
export const businessMetricsSource: ExportSource = {
  dataset: 'business-metrics',
  description: 'business metrics per UTC day (hot daily rollups, plus days only the warm tier holds), oldest first',
  access: 'summaries',
  columns: [
    { name: 'day', type: 'timestamp' },
    { name: 'date', type: 'text' },
    { name: 'interactions', type: 'integer' },
    { name: 'sessions', type: 'integer' },
    { name: 'convertedSessions', type: 'integer' },
    { name: 'successRate', type: 'number' },
    { name: 'avgResponseTime', type: 'number' },
    { name: 'p95ResponseTime', type: 'number' },
    { name: 'avgRating', type: 'number' },
    { name: 'ratedInteractions', type: 'integer' },
    { name: 'tier', type: 'text' },
  ],
  filters: {
    range: 'the UTC day (widened to whole days)',
    userRole: 'interactions of this role, sessions started by it',
  },
  rows: (query, context) => businessDays(query, context),
};

function insightsQuery(query: ExportQuery, cursor: string | undefined): InsightsQuery {
  return {
    ...(query.range ? { range: query.range } : {}),
    ...(query.userRole !== undefined ? { userRole: query.userRole } : {}),
    limit: PAGE,
    ...(cursor ? { cursor } : {}),
  };
}

/** Every page of an insights answer, each row cut to the dataset's columns (so extra fields a tier adds never leak into a file). */
async function* insightRows<T extends object>(
  columns: readonly ColumnSpec[],
  context: ExportSourceContext,
  keep: ((row: T) => boolean) | undefined,
  read: (cursor: string | undefined) => Promise<InsightsPage<T>>,
): AsyncGenerator<ExportRow[]> {
  let cursor: string | undefined;
  let rows = 0;
  try {
    do {
      if (context.signal?.aborted) return;
      const page = await read(cursor);
      const items = keep ? page.items.filter(keep) : page.items;
      rows += items.length;
      if (items.length > 0) yield items.map((item) => project(item as Record<string, unknown>, columns));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
  } finally {
    context.count('insights', rows);
  }
}

function project(item: Record<string, unknown>, columns: readonly ColumnSpec[]): ExportRow {
  const row: Record<string, unknown> = {};
  for (const column of columns) row[column.name] = item[column.name] ?? null;
  return row;
}

async function* businessDays(query: ExportQuery, context: ExportSourceContext): AsyncGenerator<ExportRow[]> {
  const warmDays = await readWarmDays(context.storage('warm'), query);
  let warmIndex = 0;
  let hotRows = 0;
  let warmRows = 0;
  const fromWarm = (day: WarmBusinessDay): ExportRow => {
    warmRows += 1;
    return {
      day: day.day,
      date: day.date,
      interactions: day.interactions,
      sessions: null,
      convertedSessions: null,
      successRate: day.successRate,
      avgResponseTime: day.avgResponseTime,
      p95ResponseTime: day.p95ResponseTime,
      avgRating: day.avgRating,
      ratedInteractions: day.ratedInteractions,
      tier: 'warm',
    };
  };
  const fromHot = (day: DailyBusinessMetrics): ExportRow => {
    hotRows += 1;
    return {
      day: day.day,
      date: day.date,
      interactions: day.interactions,
      sessions: day.sessions,
      convertedSessions: day.convertedSessions,
      successRate: day.successRate,
      avgResponseTime: day.avgResponseTime,
      p95ResponseTime: day.p95ResponseTime,
      avgRating: day.avgRating,
      ratedInteractions: day.ratedInteractions,
      tier: 'hot',
    };
  };
  let cursor: string | undefined;
  try {
    do {
      if (context.signal?.aborted) return;
      const page = await context.insights.businessMetrics(insightsQuery(query, cursor));
      const out: ExportRow[] = [];
      for (const day of page.items) {
        while (warmIndex < warmDays.length && warmDays[warmIndex]!.day < day.day) out.push(fromWarm(warmDays[warmIndex++]!));
        // The hot tier's figures of a day win: they also count sessions.
        if (warmIndex < warmDays.length && warmDays[warmIndex]!.day === day.day) warmIndex += 1;
        out.push(fromHot(day));
      }
      if (out.length > 0) yield out;
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    if (warmIndex < warmDays.length) yield warmDays.slice(warmIndex).map(fromWarm);
  } finally {
    context.count('hot', hotRows);
    context.count('warm', warmRows);
  }
}

/** One row per day: a decade is 3,650 small rows, so the warm days of the range are read at once. */
async function readWarmDays(tier: StorageTier | undefined, query: ExportQuery): Promise<WarmBusinessDay[]> {
  if (!tier || typeof (tier as Partial<WarmBusinessDays>).businessDays !== 'function') return [];
  return (tier as unknown as WarmBusinessDays).businessDays({
    ...(query.range ? { range: query.range } : {}),
    ...(query.userRole !== undefined ? { userRole: query.userRole } : {}),
  });
}
