import { createHash } from 'node:crypto';
import { StorageError } from './errors.js';
import type {
  CommonQuestion,
  ContentEffectiveness,
  InsightsPage,
  InsightsProvider,
  InsightsQuery,
  SystemPerformanceQuery,
  TrendingPage,
  TrendingQueriesQuery,
  TrendingQuery,
} from './insights.js';
import { monthOf, monthRange } from './lifecycle.js';
import type { TimeRange } from './types.js';

/**
 * One insights API over the hot tier and the warm tier's monthly aggregates.
 *
 * Retention archives whole months, adds them to the warm tier, then prunes the hot tier's
 * per-question and per-content daily rollups before the first month it kept; from then on
 * `hot.detailCoverage()` says where the hot tier's detail starts (`S`). Common questions, content
 * effectiveness and trending are answered by splitting the range at `S`: the part before from the
 * warm tier (whole months), the part from `S` on from the hot tier (whole days). Rows of the same
 * question or item are merged by adding their sums, and every rate, average and score is computed
 * again from the sums with the tiers' documented formulas, so a range answered in two parts gives
 * the numbers one tier holding all the data would. Every other question goes to the hot tier,
 * which keeps its business, behaviour and system rollups for good.
 */

const NAME = 'layered insights';
const DAY_MS = 86_400_000;
/** Page size when the caller gives none; the cap keeps a page cheap to serialise. Same as hot-sqlite's. */
export const LAYERED_DEFAULT_LIMIT = 50;
export const LAYERED_MAX_LIMIT = 1_000;
/** Page size used to read each tier's part whole. */
const READ_PAGE = 1_000;
/** A tier that keeps handing out cursors past this many pages is looping; stop rather than spin. */
const MAX_READ_PAGES = 100_000;

/**
 * Content effectiveness that also says how many of its uses reported a relevance. Without it the
 * mean relevance of two parts cannot be weighted exactly, so tiers that can should return it
 * (historical-sqlite does; layered answers do, so they can be layered again).
 */
export interface CountedContentEffectiveness extends ContentEffectiveness {
  relevanceCount: number;
}

/**
 * Layers the warm tier's answers under the hot tier's. Returns `hot` itself when there is no warm
 * tier or the hot tier cannot say how far its detail reaches, so nothing is added to any call.
 */
export function layerInsights(hot: InsightsProvider, warm?: InsightsProvider): InsightsProvider {
  if (!warm || !hot.detailCoverage) return hot;
  return new LayeredInsights(hot, warm);
}

/**
 * How a content item's performance score is computed (hot-sqlite's documented formula, in the same
 * order of operations, so the same sums give the same double): the Laplace-smoothed success rate
 * times the mean relevance smoothed toward ½.
 */
export function contentPerformanceScore(successes: number, accesses: number, relevanceMicroSum: number, relevanceCount: number): number {
  return (((successes + 1.0) / (accesses + 2)) * (relevanceMicroSum / 1e6 + 0.5)) / (relevanceCount + 1);
}

/** How far recent asks exceed the history's prediction, in Poisson standard deviations (hot-sqlite's formula). */
export function trendingScoreOf(recentAsks: number, expectedAsks: number): number {
  return (recentAsks - expectedAsks) / Math.sqrt(expectedAsks + 1);
}

type Part = { tier: 'warm' | 'hot'; range: TimeRange };
type CursorValue = number | string;

interface QuestionSums {
  queryHash: string;
  query: string;
  category: string;
  asks: number;
  successes: number;
  responseUs: number;
  ratingSum: number;
  ratingCount: number;
  roles: string[];
  lastAsked: number;
  /** Which tier's per-question facts (category, roles) this row carries: the hot tier's win. */
  fromHot: boolean;
}

interface ContentSums {
  contentType: string;
  contentId: string;
  accesses: number;
  successes: number;
  relevanceMicros: number;
  relevanceCount: number;
  roles: string[];
  firstAccessed: number;
  lastAccessed: number;
  fromHot: boolean;
}

class LayeredInsights implements InsightsProvider {
  constructor(
    private readonly hot: InsightsProvider,
    private readonly warm: InsightsProvider,
  ) {}

  userBehaviour(query?: InsightsQuery) {
    return this.hot.userBehaviour(query);
  }

  businessMetrics(query?: InsightsQuery) {
    return this.hot.businessMetrics(query);
  }

  systemPerformance(query?: SystemPerformanceQuery) {
    return this.hot.systemPerformance(query);
  }

  /** Complete from where the warm tier is (its expired months are gone), once the hot tier was pruned. */
  async detailCoverage(): Promise<{ from: number | null }> {
    const hot = await this.hot.detailCoverage!();
    if (hot.from === null) return hot;
    return this.warm.detailCoverage ? this.warm.detailCoverage() : { from: null };
  }

  async commonQuestions(query: InsightsQuery = {}): Promise<InsightsPage<CommonQuestion>> {
    const parts = await this.partsFor(query.range, query.cursor);
    if (!Array.isArray(parts)) return parts === 'hot' ? this.hot.commonQuestions(query) : this.warm.commonQuestions(query);
    const fingerprint = fingerprintOf('questions', [query.range?.from, query.range?.to, query.userRole]);
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor, 'questions', fingerprint, ['number', 'string']);
    const ranges = await Promise.all(
      parts.map(async (part) => {
        const provider = part.tier === 'hot' ? this.hot : this.warm;
        const read = await readAll((cursor) => provider.commonQuestions({ range: part.range, userRole: query.userRole, limit: READ_PAGE, cursor }));
        return { part, ...read };
      }),
    );
    const merged = new Map<string, QuestionSums>();
    for (const { part, items } of hotFirst(ranges)) {
      for (const item of items) mergeQuestion(merged, item, part.tier === 'hot');
    }
    const ordered = [...merged.values()]
      .map(questionOf)
      .sort((a, b) => b.asks - a.asks || compareBytes(a.queryHash, b.queryHash));
    return pageAfter(ordered, query.limit, after, (item) => [item.asks, item.queryHash], 'questions', fingerprint, spanOf(ranges));
  }

  async contentEffectiveness(query: InsightsQuery = {}): Promise<InsightsPage<ContentEffectiveness>> {
    const parts = await this.partsFor(query.range, query.cursor);
    if (!Array.isArray(parts)) return parts === 'hot' ? this.hot.contentEffectiveness(query) : this.warm.contentEffectiveness(query);
    const fingerprint = fingerprintOf('content', [query.range?.from, query.range?.to, query.userRole]);
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor, 'content', fingerprint, ['number', 'string', 'string']);
    const ranges = await Promise.all(
      parts.map(async (part) => {
        const provider = part.tier === 'hot' ? this.hot : this.warm;
        const read = await readAll((cursor) => provider.contentEffectiveness({ range: part.range, userRole: query.userRole, limit: READ_PAGE, cursor }));
        return { part, ...read };
      }),
    );
    const merged = new Map<string, ContentSums>();
    for (const { part, items } of hotFirst(ranges)) {
      for (const item of items) mergeContent(merged, item, part.tier === 'hot');
    }
    const ordered = [...merged.values()]
      .map(contentOf)
      .sort((a, b) => b.performanceScore - a.performanceScore || compareBytes(a.contentType, b.contentType) || compareBytes(a.contentId, b.contentId));
    return pageAfter(ordered, query.limit, after, (item) => [item.performanceScore, item.contentType, item.contentId], 'content', fingerprint, spanOf(ranges));
  }

  async trendingQueries(query: TrendingQueriesQuery = {}): Promise<TrendingPage> {
    const split = await this.splitPoint();
    const layeredCursor = query.cursor !== undefined && isLayeredCursor(query.cursor);
    if (split === null && !layeredCursor) return this.hot.trendingQueries(query);
    // The hot tier validates the window lengths and knows where the data ends (asOf).
    const probe = await this.hot.trendingQueries(layeredCursor ? { ...query, cursor: undefined, limit: 1 } : query);
    if (probe.asOf === null) return probe;
    const windowStart = probe.asOf - (probe.recentDays + probe.baselineDays) * DAY_MS;
    if (!layeredCursor && (split === null || windowStart >= split)) return probe;
    if (!layeredCursor && query.cursor !== undefined) throw staleCursor(query.cursor);
    const boundary = split ?? Number.NEGATIVE_INFINITY;
    // Before the split the warm tier answers whole months: widen each window edge that falls there.
    const toMonthOutward = (ms: number, up: boolean) => (ms < boundary ? (up ? ceilMonth(ms) : floorMonth(ms)) : ms);
    const asOf = toMonthOutward(probe.asOf, true);
    const recentFrom = toMonthOutward(asOf - probe.recentDays * DAY_MS, false);
    const baselineFrom = toMonthOutward(recentFrom - probe.baselineDays * DAY_MS, false);
    const recentDays = (asOf - recentFrom) / DAY_MS;
    const baselineDays = (recentFrom - baselineFrom) / DAY_MS;
    const fingerprint = fingerprintOf('trending', [query.range?.from, query.range?.to, query.userRole, probe.recentDays, probe.baselineDays, asOf]);
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor, 'trending', fingerprint, ['number', 'string']);
    const [recent, baseline] = await Promise.all([
      this.asksByQuestion(recentFrom, asOf, boundary, query.userRole),
      this.asksByQuestion(baselineFrom, recentFrom, boundary, query.userRole),
    ]);
    const ranked: TrendingQuery[] = [];
    for (const [queryHash, { query: text, asks }] of recent) {
      if (asks <= 0) continue;
      const baselineAsks = baseline.get(queryHash)?.asks ?? 0;
      const expectedAsks = (baselineAsks * recentDays) / baselineDays;
      const trendingScore = trendingScoreOf(asks, expectedAsks);
      if (trendingScore > 0) ranked.push({ queryHash, query: text, recentAsks: asks, baselineAsks, expectedAsks, trendingScore });
    }
    ranked.sort((a, b) => b.trendingScore - a.trendingScore || compareBytes(a.queryHash, b.queryHash));
    const page = pageAfter(ranked, query.limit, after, (item) => [item.trendingScore, item.queryHash], 'trending', fingerprint, {
      from: baselineFrom,
      to: asOf,
    });
    return { ...page, asOf, recentDays, baselineDays };
  }

  /** Asks per question in `[from, to)`, the part before `boundary` from the warm tier, the rest from the hot tier. */
  private async asksByQuestion(from: number, to: number, boundary: number, userRole: string | undefined): Promise<Map<string, { query: string; asks: number }>> {
    const parts: Part[] = [];
    if (from < boundary) parts.push({ tier: 'warm', range: { from, to: Math.min(to, boundary) } });
    if (to > boundary) parts.push({ tier: 'hot', range: { from: Math.max(from, boundary), to } });
    const asks = new Map<string, { query: string; asks: number }>();
    for (const part of parts) {
      const provider = part.tier === 'hot' ? this.hot : this.warm;
      const { items } = await readAll((cursor) => provider.commonQuestions({ range: part.range, userRole, limit: READ_PAGE, cursor }));
      for (const item of items) {
        const known = asks.get(item.queryHash);
        if (known) known.asks += item.asks;
        else asks.set(item.queryHash, { query: item.query, asks: item.asks });
      }
    }
    return asks;
  }

  /**
   * Where the hot tier's detail starts, as a month start: the warm tier answers whole months, so a
   * coverage inside a month (retention never leaves one) hands the rest of that month to the warm tier.
   */
  private async splitPoint(): Promise<number | null> {
    const { from } = await this.hot.detailCoverage!();
    return from === null ? null : ceilMonth(from);
  }

  /**
   * Which tier answers a range: one of them whole (`'hot'`, `'warm'`), or both, each its part. A
   * cursor issued by this layer keeps the merging path even if the range now lies in one tier.
   */
  private async partsFor(range: TimeRange | undefined, cursor: string | undefined): Promise<'hot' | 'warm' | Part[]> {
    const split = await this.splitPoint();
    const layeredCursor = cursor !== undefined && isLayeredCursor(cursor);
    const from = range?.from ?? Number.NEGATIVE_INFINITY;
    const to = range?.to ?? Number.POSITIVE_INFINITY;
    const whole = range ?? {};
    let parts: Part[];
    if (split === null || !(from < to) || from >= split) parts = [{ tier: 'hot', range: whole }];
    else if (to <= split) parts = [{ tier: 'warm', range: whole }];
    else parts = [{ tier: 'warm', range: { ...whole, to: split } }, { tier: 'hot', range: { ...whole, from: split } }];
    if (!layeredCursor && parts.length === 1) return parts[0]!.tier;
    if (!layeredCursor && cursor !== undefined) throw staleCursor(cursor);
    return parts;
  }
}

/** Every page of one question of one tier. */
async function readAll<T>(fetchPage: (cursor: string | undefined) => Promise<InsightsPage<T>>): Promise<{ items: T[]; range: InsightsPage<T>['range'] }> {
  const items: T[] = [];
  let cursor: string | undefined;
  let range: InsightsPage<T>['range'] = { from: null, to: null };
  for (let pages = 0; pages < MAX_READ_PAGES; pages += 1) {
    const page = await fetchPage(cursor);
    if (pages === 0) range = page.range;
    items.push(...page.items);
    if (page.nextCursor === null) return { items, range };
    if (page.nextCursor === cursor) break;
    cursor = page.nextCursor;
  }
  throw new StorageError(`${NAME}: a tier kept returning the same next page; its cursors do not advance, so its answer cannot be read whole`);
}

/** The hot tier's part first: its per-item facts (category, roles) are kept for all time, so they lead a union. */
function hotFirst<T extends { part: Part }>(parts: readonly T[]): T[] {
  return [...parts].sort((a, b) => Number(b.part.tier === 'hot') - Number(a.part.tier === 'hot'));
}

/** The range the parts cover together: from the earliest part's start to the latest part's end. */
function spanOf(parts: ReadonlyArray<{ part: Part; range: InsightsPage<unknown>['range'] }>): InsightsPage<unknown>['range'] {
  const warm = parts.find(({ part }) => part.tier === 'warm');
  const hot = parts.find(({ part }) => part.tier === 'hot');
  return { from: (warm ?? hot)!.range.from, to: (hot ?? warm)!.range.to };
}

function mergeQuestion(merged: Map<string, QuestionSums>, item: CommonQuestion, fromHot: boolean): void {
  // Rates and averages are exact quotients of integer sums; multiplying back and rounding recovers the sums.
  const successes = Math.round(item.successRate * item.asks);
  const responseUs = Math.round(item.avgResponseTime * item.asks * 1e6);
  const ratingSum = item.avgRating === null ? 0 : Math.round(item.avgRating * item.ratedAsks);
  const known = merged.get(item.queryHash);
  if (!known) {
    merged.set(item.queryHash, {
      queryHash: item.queryHash,
      query: item.query,
      category: item.category,
      asks: item.asks,
      successes,
      responseUs,
      ratingSum,
      ratingCount: item.ratedAsks,
      roles: [...item.popularRoles],
      lastAsked: item.lastAsked,
      fromHot,
    });
    return;
  }
  known.asks += item.asks;
  known.successes += successes;
  known.responseUs += responseUs;
  known.ratingSum += ratingSum;
  known.ratingCount += item.ratedAsks;
  known.lastAsked = Math.max(known.lastAsked, item.lastAsked);
  for (const role of item.popularRoles) if (!known.roles.includes(role)) known.roles.push(role);
  if (fromHot && !known.fromHot) {
    known.category = item.category;
    known.fromHot = true;
  }
}

function questionOf(sums: QuestionSums): CommonQuestion {
  return {
    queryHash: sums.queryHash,
    query: sums.query,
    category: sums.category,
    asks: sums.asks,
    successRate: sums.successes / sums.asks,
    avgResponseTime: sums.responseUs / 1e6 / sums.asks,
    avgRating: sums.ratingCount > 0 ? sums.ratingSum / sums.ratingCount : null,
    ratedAsks: sums.ratingCount,
    popularRoles: sums.roles,
    lastAsked: sums.lastAsked,
  };
}

function mergeContent(merged: Map<string, ContentSums>, item: ContentEffectiveness, fromHot: boolean): void {
  const successes = Math.round(item.successRate * item.accesses);
  const relevanceCount = relevanceCountOf(item, successes);
  const relevanceMicros = item.avgRelevance === null ? 0 : Math.round(item.avgRelevance * relevanceCount * 1e6);
  const key = `${item.contentType.length}:${item.contentType}${item.contentId}`;
  const known = merged.get(key);
  if (!known) {
    merged.set(key, {
      contentType: item.contentType,
      contentId: item.contentId,
      accesses: item.accesses,
      successes,
      relevanceMicros,
      relevanceCount,
      roles: [...item.roles],
      firstAccessed: item.firstAccessed,
      lastAccessed: item.lastAccessed,
      fromHot,
    });
    return;
  }
  known.accesses += item.accesses;
  known.successes += successes;
  known.relevanceMicros += relevanceMicros;
  known.relevanceCount += relevanceCount;
  known.firstAccessed = Math.min(known.firstAccessed, item.firstAccessed);
  known.lastAccessed = Math.max(known.lastAccessed, item.lastAccessed);
  for (const role of item.roles) if (!known.roles.includes(role)) known.roles.push(role);
  known.fromHot ||= fromHot;
}

function contentOf(sums: ContentSums): CountedContentEffectiveness {
  return {
    contentType: sums.contentType,
    contentId: sums.contentId,
    accesses: sums.accesses,
    avgRelevance: sums.relevanceCount > 0 ? sums.relevanceMicros / 1e6 / sums.relevanceCount : null,
    successRate: sums.successes / sums.accesses,
    performanceScore: contentPerformanceScore(sums.successes, sums.accesses, sums.relevanceMicros, sums.relevanceCount),
    roles: sums.roles,
    firstAccessed: sums.firstAccessed,
    lastAccessed: sums.lastAccessed,
    relevanceCount: sums.relevanceCount,
  };
}

/**
 * How many uses of an item reported a relevance. Tiers that say so are taken at their word; for
 * one that does not, the count is solved from the score and the mean relevance (two equations,
 * two unknowns) and accepted only if it reproduces both exactly: a merge is exact or it fails.
 */
function relevanceCountOf(item: ContentEffectiveness, successes: number): number {
  const stated = (item as Partial<CountedContentEffectiveness>).relevanceCount;
  if (typeof stated === 'number') return stated;
  if (item.avgRelevance === null) return 0;
  const mean = item.avgRelevance;
  // score = (s+1)/(n+2) · (R + ½)/(c + 1) with R = mean · c, so (R + ½)/(c + 1) = k and c = (k − ½)/(mean − k).
  const k = (item.performanceScore * (item.accesses + 2)) / (successes + 1);
  const estimate = Math.round((k - 0.5) / (mean - k));
  const fits: number[] = [];
  if (Number.isFinite(estimate)) {
    for (let count = Math.max(1, estimate - 64); count <= Math.min(item.accesses, estimate + 64); count += 1) {
      const micros = Math.round(mean * count * 1e6);
      if (micros / 1e6 / count === mean && contentPerformanceScore(successes, item.accesses, micros, count) === item.performanceScore) fits.push(count);
    }
  }
  if (fits.length === 1) return fits[0]!;
  throw new StorageError(
    `${NAME}: cannot merge the effectiveness of ${item.contentType} ${JSON.stringify(item.contentId)} exactly: its tier does not report relevanceCount and its mean relevance (${mean}) does not determine it; use a tier version that reports relevanceCount`,
  );
}

/** Orders strings by their UTF-8 bytes: SQLite's BINARY collation, which the tiers use for ties. */
function compareBytes(a: string, b: string): number {
  if (a === b) return 0;
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function floorMonth(ms: number): number {
  return monthRange(monthOf(ms)).from;
}

function ceilMonth(ms: number): number {
  const start = floorMonth(ms);
  return start === ms ? ms : monthRange(monthOf(ms)).to;
}

function pageSize(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return LAYERED_DEFAULT_LIMIT;
  return Math.min(Math.max(1, Math.trunc(limit)), LAYERED_MAX_LIMIT);
}

/** Names the question a cursor belongs to: its kind and every field of the query that shapes the answer. */
function fingerprintOf(kind: string, fields: readonly unknown[]): string {
  return createHash('sha256')
    .update(JSON.stringify([kind, ...fields.map((field) => field ?? null)]))
    .digest('base64url')
    .slice(0, 16);
}

/**
 * A page of a fully ordered answer, after the item whose sort key the cursor holds. Keys are
 * [number (descending), ...strings (ascending)], unique per item, so pages never overlap or skip.
 */
function pageAfter<T>(
  items: readonly T[],
  limit: number | undefined,
  after: CursorValue[] | undefined,
  keyOf: (item: T) => CursorValue[],
  kind: string,
  fingerprint: string,
  range: InsightsPage<T>['range'],
): InsightsPage<T> {
  const size = pageSize(limit);
  let start = 0;
  if (after) {
    start = items.findIndex((item) => compareKeys(keyOf(item), after) > 0);
    if (start < 0) start = items.length;
  }
  const page = items.slice(start, start + size);
  const last = page[page.length - 1];
  const nextCursor = start + size < items.length && last !== undefined ? encodeCursor(kind, fingerprint, keyOf(last)) : null;
  return { items: page, nextCursor, range };
}

function compareKeys(a: readonly CursorValue[], b: readonly CursorValue[]): number {
  const byNumber = (b[0] as number) - (a[0] as number);
  if (byNumber !== 0) return byNumber;
  for (let index = 1; index < a.length; index += 1) {
    const order = compareBytes(a[index] as string, b[index] as string);
    if (order !== 0) return order;
  }
  return 0;
}

const CURSOR_TAG = 'layered';

function encodeCursor(kind: string, fingerprint: string, key: readonly CursorValue[]): string {
  return Buffer.from(JSON.stringify([CURSOR_TAG, kind, fingerprint, ...key])).toString('base64url');
}

function parseCursor(cursor: string): unknown[] | undefined {
  try {
    const decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    return Array.isArray(decoded) && decoded[0] === CURSOR_TAG ? decoded : undefined;
  } catch {
    return undefined;
  }
}

function isLayeredCursor(cursor: string): boolean {
  return parseCursor(cursor) !== undefined;
}

function decodeCursor(cursor: string, kind: string, fingerprint: string, types: ReadonlyArray<'number' | 'string'>): CursorValue[] {
  const decoded = parseCursor(cursor);
  const shown = JSON.stringify(cursor.slice(0, 40));
  if (!decoded || typeof decoded[1] !== 'string' || typeof decoded[2] !== 'string') {
    throw new StorageError(`${NAME}: cursor ${shown} is not one this API issued; pass nextCursor from a previous page of the same question`);
  }
  if (decoded[1] !== kind || decoded[2] !== fingerprint) {
    throw new StorageError(
      `${NAME}: cursor ${shown} belongs to another question, range, role or trending window (or new data moved the trending window); ask again from the first page`,
    );
  }
  const key = decoded.slice(3);
  if (key.length !== types.length || !key.every((value, index) => typeof value === types[index] && (typeof value !== 'number' || Number.isFinite(value)))) {
    throw new StorageError(`${NAME}: cursor ${shown} is damaged; pass nextCursor from a previous page of the same question`);
  }
  return key as CursorValue[];
}

/** A tier's own cursor, handed back after retention moved part of its range into the warm tier. */
function staleCursor(cursor: string): StorageError {
  return new StorageError(
    `${NAME}: cursor ${JSON.stringify(cursor.slice(0, 40))} was not issued by this API for a range split between the hot and warm tiers (a tier's own cursor, issued before retention moved part of the range into the warm tier?); ask again from the first page`,
  );
}
