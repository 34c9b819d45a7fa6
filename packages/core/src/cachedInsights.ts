import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { CacheStore } from './cache.js';
import { describeError } from './errors.js';
import type {
  InsightsPage,
  InsightsProvider,
  InsightsQuery,
  SystemPerformanceQuery,
  TrendingQueriesQuery,
} from './insights.js';
import type { Interaction } from './interaction.js';
import type { Metric } from './metric.js';
import { createQueryKeyer } from './queryNormalization.js';

/**
 * The insights API read through a cache.
 *
 * Every answer is stored under a key derived from the question and the query (its fields sorted,
 * absent ones dropped), with tags saying what data it was computed from: the question, each UTC day
 * of the range the answer covered (`commonQuestions@2026-01-05`), `<question>@open-range` when the
 * range has an open end, and for common questions and content the items it lists (their all-time
 * fields — last asked, roles — change whenever the item is used again, on any day). A committed
 * batch then drops only the answers whose tags it touches (`invalidateForBatch`), and metric writes
 * only the system-performance answers (`invalidateForMetrics`).
 *
 * Concurrent misses of one key compute once (the others wait for that computation). An answer
 * whose computation was overtaken by an invalidation of one of its tags is returned but not
 * stored, so a read racing a commit cannot put a pre-commit answer back into the cache. Across
 * processes sharing a Redis store each process computes a missing key once (not once in all), and
 * that race can leave an answer stale for at most its TTL.
 */

export const INSIGHTS_CACHE_CATEGORIES = [
  'commonQuestions',
  'userBehaviour',
  'contentEffectiveness',
  'businessMetrics',
  'trendingQueries',
  'systemPerformance',
] as const;

/** A cached question; its name is also its category tag. */
export type InsightsCacheCategory = (typeof INSIGHTS_CACHE_CATEGORIES)[number];

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

/**
 * How long each answer may be served from the cache, in ms. The first four are the plan's.
 * Trending compares a week against four weeks before it and moves as slowly as content
 * performance: 15 min. System performance follows the monitor, which samples every minute: 1 min.
 * Ingest invalidates what it changes, so a TTL bounds staleness only where invalidation cannot
 * reach (another process's memory cache, a race across processes) and for answers that depend on
 * the time they are read (the hot tier reads minutes only within the last day).
 */
export const DEFAULT_INSIGHTS_CACHE_TTLS: Readonly<Record<InsightsCacheCategory, number>> = Object.freeze({
  commonQuestions: 5 * MINUTE_MS,
  userBehaviour: 10 * MINUTE_MS,
  contentEffectiveness: 15 * MINUTE_MS,
  businessMetrics: 60 * MINUTE_MS,
  trendingQueries: 15 * MINUTE_MS,
  systemPerformance: 1 * MINUTE_MS,
});

/**
 * How far from an event the start of its session may lie. Sessions are counted in the bucket of
 * their first event, and a later event can convert a session (or an earlier, late event move its
 * start), so an event changes the session figures of the days within this window of it.
 */
export const DEFAULT_SESSION_WINDOW_MS = DAY_MS;

/** A bounded range longer than this many days is tagged `open-range` instead of day by day. */
export const MAX_DAY_TAGS = 400;

export const OPEN_RANGE_TAG = 'open-range';

export interface CachedInsightsPolicy {
  /** TTL per question, in ms; unset ones keep `DEFAULT_INSIGHTS_CACHE_TTLS`. */
  ttls?: Partial<Record<InsightsCacheCategory, number>>;
  /** See `DEFAULT_SESSION_WINDOW_MS`. */
  sessionWindowMs?: number;
}

export interface CachedInsightsOptions extends CachedInsightsPolicy {
  /** Where a failing store is reported (a store should never throw; a third-party one might). */
  logger?: Logger;
}

/**
 * A cache store that also carries the policy its owner configured (the cache plugin's `ttls` and
 * `sessionWindow`), so the core can apply it without knowing the plugin. Options given to
 * `cachedInsights` win over it.
 */
export interface InsightsCacheStore extends CacheStore {
  readonly insightsPolicy?: CachedInsightsPolicy;
}

/** The insights API with its cache, and the calls that keep the cache true to the data. */
export interface CachedInsights extends InsightsProvider {
  readonly store: CacheStore;
  /** The TTLs in force, per question. */
  readonly ttls: Readonly<Record<InsightsCacheCategory, number>>;
  /** Drops the answers a committed batch of interactions can change. Never throws. */
  invalidateForBatch(events: readonly Pick<Interaction, 'timestamp' | 'query' | 'content'>[]): Promise<void>;
  /** Drops the system-performance answers the written samples can change. Never throws. */
  invalidateForMetrics(metrics: readonly Pick<Metric, 'timestamp'>[]): Promise<void>;
  /** Drops every cached answer (after erasure, retention moves, restores). Never throws. */
  invalidateAll(): Promise<void>;
}

/** Wraps an insights provider so its answers are read through `store`. */
export function cachedInsights(provider: InsightsProvider, store: InsightsCacheStore, options: CachedInsightsOptions = {}): CachedInsights {
  return new CachedInsightsProvider(provider, store, options);
}

/** The cache key of a question and query: the same for queries that differ only in field order or absent fields. */
export function insightsCacheKey(category: InsightsCacheCategory, query: object | undefined): string {
  const digest = createHash('sha256')
    .update(canonicalText(query ?? {}))
    .digest('hex')
    .slice(0, 32);
  return `insights:v1:${category}:${digest}`;
}

/** The tags of an answer: what data it was computed from (see the module comment). */
export function insightsCacheTags(category: InsightsCacheCategory, query: InsightsQuery | undefined, answer: InsightsPage<unknown>): string[] {
  const tags: string[] = [category];
  const covered = answer.range ?? { from: query?.range?.from ?? null, to: query?.range?.to ?? null };
  // Trending ignores the range's start; without an end it reads up to the last day with data, which any new day moves.
  const open =
    query?.range?.to === undefined ||
    (category !== 'trendingQueries' && query.range.from === undefined) ||
    !isBound(covered.from) ||
    !isBound(covered.to);
  const days = open ? undefined : daysOf(covered.from as number, covered.to as number);
  if (days === undefined) {
    tags.push(`${category}@${OPEN_RANGE_TAG}`);
    return tags;
  }
  for (const day of days) tags.push(dayTag(category, day));
  // All-time fields of the listed items change with any new use of them, on any day.
  if (category === 'commonQuestions') for (const item of answer.items as Array<{ queryHash: string }>) tags.push(questionTag(item.queryHash));
  if (category === 'contentEffectiveness') for (const item of answer.items as Array<{ contentType: string; contentId: string }>) tags.push(contentTag(item.contentType, item.contentId));
  return tags;
}

/** The tags a committed batch of interactions touches. */
export function batchInvalidationTags(events: readonly Pick<Interaction, 'timestamp' | 'query' | 'content'>[], sessionWindowMs = DEFAULT_SESSION_WINDOW_MS, queryKey = createQueryKeyer()): string[] {
  if (events.length === 0) return [];
  const days = new Set<number>();
  const sessionDays = new Set<number>();
  const items = new Set<string>();
  for (const event of events) {
    days.add(Math.floor(event.timestamp / DAY_MS));
    const first = Math.floor((event.timestamp - sessionWindowMs) / DAY_MS);
    const last = Math.floor((event.timestamp + sessionWindowMs) / DAY_MS);
    for (let day = first; day <= last; day += 1) sessionDays.add(day);
    items.add(questionTag(queryKey(event.query).hash));
    for (const content of event.content ?? []) items.add(contentTag(content.type, content.id));
  }
  const tags: string[] = [];
  for (const category of ['commonQuestions', 'contentEffectiveness', 'trendingQueries'] as const) {
    tags.push(`${category}@${OPEN_RANGE_TAG}`);
    for (const day of days) tags.push(dayTag(category, day * DAY_MS));
  }
  for (const category of ['userBehaviour', 'businessMetrics'] as const) {
    tags.push(`${category}@${OPEN_RANGE_TAG}`);
    for (const day of sessionDays) tags.push(dayTag(category, day * DAY_MS));
  }
  tags.push(...items);
  return tags;
}

/** The tags written system-performance samples touch. */
export function metricInvalidationTags(metrics: readonly Pick<Metric, 'timestamp'>[]): string[] {
  if (metrics.length === 0) return [];
  const days = new Set<number>();
  for (const metric of metrics) days.add(Math.floor(metric.timestamp / DAY_MS));
  return [`systemPerformance@${OPEN_RANGE_TAG}`, ...[...days].map((day) => dayTag('systemPerformance', day * DAY_MS))];
}

class CachedInsightsProvider implements CachedInsights {
  readonly ttls: Readonly<Record<InsightsCacheCategory, number>>;
  readonly detailCoverage?: () => Promise<{ from: number | null }>;
  private readonly sessionWindowMs: number;
  private readonly queryKey = createQueryKeyer(10_000);
  /** Reads in progress, by key: concurrent misses of a key share one. */
  private readonly inflight = new Map<string, Promise<unknown>>();
  /** Bumped by every invalidation. */
  private epoch = 0;
  /** Epoch at which each tag was last invalidated, kept only while computations are running. */
  private readonly invalidatedAt = new Map<string, number>();
  /** Epochs at which running computations started. */
  private readonly running = new Map<symbol, number>();
  private storeFailing = false;

  constructor(
    private readonly provider: InsightsProvider,
    readonly store: InsightsCacheStore,
    private readonly options: CachedInsightsOptions,
  ) {
    const policy = store.insightsPolicy ?? {};
    this.ttls = Object.freeze({ ...DEFAULT_INSIGHTS_CACHE_TTLS, ...definedOnly(policy.ttls), ...definedOnly(options.ttls) });
    this.sessionWindowMs = options.sessionWindowMs ?? policy.sessionWindowMs ?? DEFAULT_SESSION_WINDOW_MS;
    // Coverage is cheap and changes with retention: never cached.
    if (provider.detailCoverage) this.detailCoverage = () => provider.detailCoverage!();
  }

  commonQuestions(query?: InsightsQuery) {
    return this.read('commonQuestions', query, () => this.provider.commonQuestions(query));
  }

  userBehaviour(query?: InsightsQuery) {
    return this.read('userBehaviour', query, () => this.provider.userBehaviour(query));
  }

  contentEffectiveness(query?: InsightsQuery) {
    return this.read('contentEffectiveness', query, () => this.provider.contentEffectiveness(query));
  }

  businessMetrics(query?: InsightsQuery) {
    return this.read('businessMetrics', query, () => this.provider.businessMetrics(query));
  }

  trendingQueries(query?: TrendingQueriesQuery) {
    return this.read('trendingQueries', query, () => this.provider.trendingQueries(query));
  }

  systemPerformance(query?: SystemPerformanceQuery) {
    return this.read('systemPerformance', query, () => this.provider.systemPerformance(query));
  }

  invalidateForBatch(events: readonly Pick<Interaction, 'timestamp' | 'query' | 'content'>[]): Promise<void> {
    return this.invalidate(batchInvalidationTags(events, this.sessionWindowMs, this.queryKey));
  }

  invalidateForMetrics(metrics: readonly Pick<Metric, 'timestamp'>[]): Promise<void> {
    return this.invalidate(metricInvalidationTags(metrics));
  }

  invalidateAll(): Promise<void> {
    // Every answer carries its question's tag.
    return this.invalidate([...INSIGHTS_CACHE_CATEGORIES]);
  }

  private read<Answer extends InsightsPage<unknown>>(category: InsightsCacheCategory, query: InsightsQuery | undefined, compute: () => Promise<Answer>): Promise<Answer> {
    const key = insightsCacheKey(category, query);
    const pending = this.inflight.get(key) as Promise<Answer> | undefined;
    // Waiters get their own copy, as they would from an uncached read.
    if (pending) return pending.then((answer) => structuredClone(answer));
    const reading = this.readThrough(key, category, query, compute).finally(() => {
      if (this.inflight.get(key) === reading) this.inflight.delete(key);
    });
    this.inflight.set(key, reading);
    return reading;
  }

  private async readThrough<Answer extends InsightsPage<unknown>>(
    key: string,
    category: InsightsCacheCategory,
    query: InsightsQuery | undefined,
    compute: () => Promise<Answer>,
  ): Promise<Answer> {
    const cached = await this.guard('get', () => this.store.get<Answer>(key));
    if (cached !== undefined) return cached;
    const token = Symbol(key);
    const startedAt = this.epoch;
    this.running.set(token, startedAt);
    try {
      const answer = await compute();
      const tags = insightsCacheTags(category, query, answer);
      if (!this.invalidatedSince(startedAt, tags)) {
        await this.guard('set', () => this.store.set(key, answer, { ttlMs: this.ttls[category], tags }));
      }
      return answer;
    } finally {
      this.running.delete(token);
      this.forgetOldInvalidations();
    }
  }

  private async invalidate(tags: readonly string[]): Promise<void> {
    if (tags.length === 0) return;
    this.epoch += 1;
    if (this.running.size > 0) for (const tag of tags) this.invalidatedAt.set(tag, this.epoch);
    // Reads already in flight may have seen the data before the change: later readers start afresh.
    this.inflight.clear();
    await this.guard('invalidateTags', () => this.store.invalidateTags(tags));
  }

  private invalidatedSince(epoch: number, tags: readonly string[]): boolean {
    if (this.epoch === epoch) return false;
    return tags.some((tag) => (this.invalidatedAt.get(tag) ?? 0) > epoch);
  }

  /** Invalidations older than every running computation can no longer matter. */
  private forgetOldInvalidations(): void {
    if (this.running.size === 0) {
      this.invalidatedAt.clear();
      return;
    }
    if (this.invalidatedAt.size < 10_000) return;
    const oldest = Math.min(...this.running.values());
    for (const [tag, epoch] of this.invalidatedAt) if (epoch <= oldest) this.invalidatedAt.delete(tag);
  }

  /** A store that throws is treated as a miss (reads) or skipped (writes): the cache never fails a caller. */
  private async guard<T>(operation: string, work: () => Promise<T>): Promise<T | undefined> {
    try {
      const result = await work();
      if (this.storeFailing) {
        this.storeFailing = false;
        this.options.logger?.info({ store: this.store.name }, 'insights cache: store works again');
      }
      return result;
    } catch (error) {
      if (!this.storeFailing) {
        this.storeFailing = true;
        this.options.logger?.warn({ store: this.store.name, operation, err: describeError(error) }, 'insights cache: store failed; answering uncached until it works again');
      }
      return undefined;
    }
  }
}

function isBound(value: number | null | undefined): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/** Start (ms) of each UTC day `[from, to)` touches, or undefined beyond `MAX_DAY_TAGS` days. */
function daysOf(from: number, to: number): number[] | undefined {
  const low = Math.min(from, to);
  const high = Math.max(from, to);
  const first = Math.floor(low / DAY_MS);
  // An empty range still names the day it sits in: a tier widens it to a bucket of that day.
  const last = Math.max(first, Math.ceil(high / DAY_MS) - 1);
  if (last - first + 1 > MAX_DAY_TAGS) return undefined;
  const days: number[] = [];
  for (let day = first; day <= last; day += 1) days.push(day * DAY_MS);
  return days;
}

function dayTag(category: InsightsCacheCategory, dayStart: number): string {
  return `${category}@${new Date(dayStart).toISOString().slice(0, 10)}`;
}

function questionTag(queryHash: string): string {
  return `commonQuestions#${queryHash}`;
}

function contentTag(type: string, id: string): string {
  return `contentEffectiveness#${JSON.stringify([type, id])}`;
}

function definedOnly<T extends object>(value: T | undefined): Partial<T> {
  if (!value) return {};
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as Partial<T>;
}

/**
 * A text that is equal for equal queries: object keys sorted, undefined fields dropped, and
 * numbers JSON cannot tell apart (NaN, ±Infinity, -0) kept distinct from null and 0.
 */
function canonicalText(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'number':
      return Object.is(value, -0) ? '-0' : String(value);
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return String(value);
    case 'bigint':
      return `${value}n`;
    case 'object': {
      if (Array.isArray(value)) return `[${value.map((item) => (item === undefined ? 'undefined' : canonicalText(item))).join(',')}]`;
      const record = value as Record<string, unknown>;
      const fields = Object.keys(record)
        .filter((key) => record[key] !== undefined)
        .sort()
        .map((key) => `${JSON.stringify(key)}:${canonicalText(record[key])}`);
      return `{${fields.join(',')}}`;
    }
    default:
      return typeof value;
  }
}
