import { StrataError } from './errors.js';
import type { Page, StorageTier, TimeRange } from './types.js';

/**
 * The dashboard questions of the plan, answered from rollups maintained at ingest, so that the cost
 * of an answer does not grow with the number of stored events. Every question takes a time range
 * and a role, and pages long answers with opaque cursors.
 */
export interface InsightsQuery {
  /**
   * Half-open `[from, to)` in epoch ms; absent ends are unbounded. Rollups cannot split a bucket,
   * so a tier widens the range outward to whole buckets and says what it covered in the answer's `range`.
   */
  range?: TimeRange;
  /** Only interactions (and sessions) of this role. */
  userRole?: string;
  /** Page size. Default 50; tiers cap it (hot-sqlite: 1,000). */
  limit?: number;
  /** Opaque cursor from a previous page's `nextCursor`, for the same question. */
  cursor?: string;
}

/** A page of an answer, with the range it actually covers. */
export interface InsightsPage<T> extends Page<T> {
  /** The range after widening to whole rollup buckets; null ends are unbounded. */
  range: { from: number | null; to: number | null };
}

/** A question people ask, grouped by its normalised text. Ordered by asks, most first. */
export interface CommonQuestion {
  queryHash: string;
  /** The normalised text (lower case, whitespace folded, trailing punctuation dropped). */
  query: string;
  /** The query type of its earliest ask. */
  category: string;
  asks: number;
  successRate: number;
  /** Seconds. */
  avgResponseTime: number;
  avgRating: number | null;
  ratedAsks: number;
  /** Roles that ask it, most asks first, over all stored data (role mixes change slowly; a range would cost a scan per role). */
  popularRoles: string[];
  /** When it was last asked, in epoch ms (over all stored data, not only the range). */
  lastAsked: number;
}

/** How one role uses the assistant. Ordered by interactions, most first. */
export interface RoleBehaviour {
  userRole: string;
  interactions: number;
  /** Sessions of this role that started in the range (a session's role is that of its first event). */
  sessions: number;
  /** interactions / sessions: interactions in the range per session started in it. */
  queriesPerSession: number | null;
  successRate: number | null;
  /** Seconds. */
  avgResponseTime: number | null;
  p95ResponseTime: number | null;
  avgRating: number | null;
  ratedInteractions: number;
  /** Share of the sessions started in the range that reached the conversion depth. */
  conversionRate: number | null;
  followUpRate: number | null;
  codeSnippetsPerInteraction: number | null;
  citationsPerInteraction: number | null;
  /** Interactions per query type. */
  queryTypes: Record<string, number>;
}

/** How well one knowledge item serves answers. Ordered by performance score, best first. */
export interface ContentEffectiveness {
  contentType: string;
  contentId: string;
  /** Answers that used it. */
  accesses: number;
  /** Mean of the relevance scores reported with it; null when none was. */
  avgRelevance: number | null;
  /** Uses that reported a relevance score: the weight of `avgRelevance` when answers are merged. */
  relevanceCount: number;
  /** Share of the answers using it that succeeded. */
  successRate: number;
  /** The tier's documented effectiveness score, from 0 to 1. */
  performanceScore: number;
  /** Roles whose answers used it, most uses first, over all stored data. */
  roles: string[];
  /** First and last use over all stored data, in epoch ms. */
  firstAccessed: number;
  lastAccessed: number;
}

/** The business figures of one UTC day. Ordered by day, oldest first. */
export interface DailyBusinessMetrics {
  /** Epoch ms of 00:00 UTC. */
  day: number;
  /** `YYYY-MM-DD`. */
  date: string;
  interactions: number;
  /** Sessions whose first event falls in the day. */
  sessions: number;
  /** Of those, the sessions that reached the conversion depth. */
  convertedSessions: number;
  successRate: number | null;
  avgResponseTime: number | null;
  p95ResponseTime: number | null;
  avgRating: number | null;
  ratedInteractions: number;
}

export interface TrendingQueriesQuery extends InsightsQuery {
  /** Length of the recent window, in days. Default 7. */
  recentDays?: number;
  /** Length of the history it is compared with, just before the recent window, in days. Default 28. */
  baselineDays?: number;
}

/** A question asked more in the recent window than its history predicts. Ordered by score, highest first. */
export interface TrendingQuery {
  queryHash: string;
  query: string;
  recentAsks: number;
  baselineAsks: number;
  /** baselineAsks scaled to the length of the recent window. */
  expectedAsks: number;
  /** The tier's documented trending score; positive means above its history. */
  trendingScore: number;
}

export interface TrendingPage extends InsightsPage<TrendingQuery> {
  /** End of the recent window, epoch ms: the range's end, or the end of the last day with data. */
  asOf: number | null;
  recentDays: number;
  baselineDays: number;
}

export type InsightsGranularity = 'minute' | 'hour' | 'day';

export interface SystemPerformanceQuery extends InsightsQuery {
  /** Bucket size of the series. Default `hour`. */
  granularity?: InsightsGranularity;
  /** Only this metric. */
  metricName?: string;
}

/** One metric in one time bucket. Ordered by bucket, then metric, component and unit. `userRole` does not apply. */
export interface SystemPerformancePoint {
  bucketStart: number;
  metricName: string;
  component: string | null;
  unit: string | null;
  samples: number;
  avg: number;
  min: number;
  max: number;
}

/** The insights API. A storage tier that keeps rollups provides it; `strata.insights` delegates to the hot tier's. */
export interface InsightsProvider {
  commonQuestions(query?: InsightsQuery): Promise<InsightsPage<CommonQuestion>>;
  userBehaviour(query?: InsightsQuery): Promise<InsightsPage<RoleBehaviour>>;
  contentEffectiveness(query?: InsightsQuery): Promise<InsightsPage<ContentEffectiveness>>;
  businessMetrics(query?: InsightsQuery): Promise<InsightsPage<DailyBusinessMetrics>>;
  trendingQueries(query?: TrendingQueriesQuery): Promise<TrendingPage>;
  systemPerformance(query?: SystemPerformanceQuery): Promise<InsightsPage<SystemPerformancePoint>>;
  /**
   * Earliest time (epoch ms, start of a UTC day) from which per-question and per-content answers
   * (common questions, content effectiveness, trending) are complete here; older days were pruned
   * after archival and are answered by the warm tier. `null`: nothing was pruned.
   */
  detailCoverage?(): Promise<{ from: number | null }>;
}

/** The insights of a tier, or a provider whose every answer says the tier has none. */
export function tierInsights(tier: StorageTier): InsightsProvider {
  if (tier.insights) return tier.insights;
  const missing = async (): Promise<never> => {
    throw new StrataError('STRATA_STORAGE_FAILED', `${tier.name}: this tier does not answer insights; use a hot tier that keeps rollups, such as hot-sqlite`);
  };
  return {
    commonQuestions: missing,
    userBehaviour: missing,
    contentEffectiveness: missing,
    businessMetrics: missing,
    trendingQueries: missing,
    systemPerformance: missing,
  };
}
