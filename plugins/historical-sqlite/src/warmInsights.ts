import type Database from 'better-sqlite3';
import {
  StorageError,
  monthRange,
  type CommonQuestion,
  type CountedContentEffectiveness,
  type InsightsPage,
  type InsightsProvider,
  type InsightsQuery,
  type TrendingPage,
  type TrendingQueriesQuery,
  ValidationError,
} from '@strata/core';
import {
  DEFAULT_BASELINE_DAYS,
  DEFAULT_RECENT_DAYS,
  commonQuestionItem,
  decodeCursor,
  encodeCursor,
  insightsPageSize,
  pageAfter,
  performanceScoreSql,
  rankTrending,
  trendingWindowDays,
  type CursorTypes,
  type ContentSums,
  type CursorValue,
  type QuestionSums,
  type TrendingAsks,
} from '@strata/hot-sqlite';
import { DAY_MS, compareBinary, floorMonth, monthSpan } from './months.js';

const NAME = 'historical-sqlite';
/** The warm tier's cursors name their question with this prefix, so a hot tier's cursor is refused here. */
const CURSOR_PREFIX = 'warm-';
/** Sorts above every query hash (hex) and every content key, so a first page starts at the top. */
const FIRST = '';

/** A question's monthly sums; what is known of the question itself is read for the page's rows only. */
type QuestionGroup = Pick<QuestionSums, 'query_hash' | 'asks' | 'successes' | 'response_us_sum' | 'rating_sum' | 'rating_count'>;

/** A content item's monthly sums; when it was first and last used is read for the page's rows only. */
type ContentGroup = Omit<ContentSums, 'first_accessed' | 'last_accessed'>;

/** Statements in two shapes: over all roles, and for one role. */
interface ByRole {
  all: Database.Statement;
  role: Database.Statement;
}

/**
 * The insights the warm tier can answer, over whole months: common questions, content
 * effectiveness and trending, with the same result types, formulas and orders as hot-sqlite
 * (ties by query hash, or by content type and id, in BINARY order). Ranges are widened outward to
 * whole months and every answer reports the range it covered. Per-question and per-item facts
 * (roles, first and last use, category) are over everything this tier holds.
 *
 * Business metrics, behaviour by role and system performance are the hot tier's: it keeps those
 * rollups for good, sessions included, which monthly sums from separate sources cannot count.
 */
export class HistoricalSqliteInsights implements InsightsProvider {
  private readonly questionGroups: ByRole;
  private readonly questionRoles: Database.Statement;
  private readonly questionFacts: Database.Statement;
  private readonly contentGroups: ByRole;
  private readonly contentRoles: Database.Statement;
  private readonly contentSpans: Database.Statement;
  private readonly trendingAsks: ByRole;
  private readonly latestMonth: Database.Statement;
  private readonly expiredBefore: Database.Statement;

  constructor(
    db: Database.Database,
    private readonly assertOpen: () => void,
  ) {
    // With a role, `month IN (…)` lets the (month, user_role, …) key seek each month's run of that role.
    const roleMonths = `month IN (SELECT DISTINCT month FROM interactions_monthly WHERE month >= @from AND month < @to) AND user_role = @role`;
    const questions = (where: string) =>
      db.prepare(
        `SELECT query_hash, SUM(asks) AS total_asks, SUM(successes) AS successes, SUM(response_us_sum) AS response_us_sum,
                SUM(rating_sum) AS rating_sum, SUM(rating_count) AS rating_count
         FROM questions_monthly WHERE ${where}
         GROUP BY query_hash
         HAVING total_asks < @asks OR (total_asks = @asks AND query_hash > @hash)
         ORDER BY total_asks DESC, query_hash LIMIT @limit`,
      );
    this.questionGroups = { all: questions('month >= @from AND month < @to'), role: questions(roleMonths) };
    this.questionRoles = db.prepare(
      `SELECT query_hash AS key, user_role, SUM(asks) AS n, MAX(last_asked) AS last FROM questions_monthly
       WHERE query_hash IN (SELECT value FROM json_each(?)) GROUP BY query_hash, user_role`,
    );
    this.questionFacts = db.prepare(
      `SELECT query_hash, query_normalized, query_category FROM (
         SELECT query_hash, query_normalized, query_category,
                ROW_NUMBER() OVER (PARTITION BY query_hash ORDER BY first_asked, query_category) AS n
         FROM questions_monthly WHERE query_hash IN (SELECT value FROM json_each(?)))
       WHERE n = 1`,
    );
    const score = performanceScoreSql('SUM(successes)', 'SUM(accesses)', 'SUM(relevance_micro_sum)', 'SUM(relevance_count)');
    const content = (where: string) =>
      db.prepare(
        `SELECT content_type, content_id, SUM(accesses) AS accesses, SUM(successes) AS successes,
                SUM(relevance_micro_sum) AS relevance_micro_sum, SUM(relevance_count) AS relevance_count, ${score} AS score
         FROM content_monthly WHERE ${where}
         GROUP BY content_type, content_id
         HAVING score < @score OR (score = @score AND (content_type, content_id) > (@type, @id))
         ORDER BY score DESC, content_type, content_id LIMIT @limit`,
      );
    this.contentGroups = { all: content('month >= @from AND month < @to'), role: content(roleMonths) };
    this.contentRoles = db.prepare(
      `SELECT json_array(content_type, content_id) AS key, user_role, SUM(accesses) AS n FROM content_monthly
       WHERE (content_type, content_id) IN (SELECT value ->> 0, value ->> 1 FROM json_each(?)) GROUP BY content_type, content_id, user_role`,
    );
    this.contentSpans = db.prepare(
      `SELECT json_array(content_type, content_id) AS key, MIN(first_accessed) AS first, MAX(last_accessed) AS last FROM content_monthly
       WHERE (content_type, content_id) IN (SELECT value ->> 0, value ->> 1 FROM json_each(?)) GROUP BY content_type, content_id`,
    );
    const trending = (where: string) =>
      db.prepare(
        `SELECT query_hash, SUM(CASE WHEN month >= @recent THEN asks ELSE 0 END) AS recent, SUM(CASE WHEN month < @recent THEN asks ELSE 0 END) AS baseline,
                MIN(query_normalized) AS query_normalized
         FROM questions_monthly WHERE ${where}
         GROUP BY query_hash HAVING recent > 0`,
      );
    this.trendingAsks = { all: trending('month >= @from AND month < @to'), role: trending(roleMonths) };
    this.latestMonth = db.prepare('SELECT MAX(month) FROM interactions_monthly').pluck();
    this.expiredBefore = db.prepare(`SELECT value FROM tier_state WHERE key = 'expired_before'`).pluck();
  }

  async commonQuestions(query: InsightsQuery = {}): Promise<InsightsPage<CommonQuestion>> {
    this.assertOpen();
    const limit = insightsPageSize(query.limit);
    const span = monthSpan(query.range);
    const [asks, hash] = query.cursor ? (decodeWarmCursor('questions', query.cursor, ['number', 'string']) as [number, string]) : [Number.MAX_SAFE_INTEGER, FIRST];
    const role = checkRole(query.userRole);
    const rows = statementFor(this.questionGroups, role).all({
      from: span.fromMonth, to: span.toMonth, asks, hash, limit: limit + 1, ...(role === undefined ? {} : { role }),
    }) as Array<QuestionGroup & { total_asks: number }>;
    const page = rows.slice(0, limit);
    const hashes = JSON.stringify(page.map((row) => row.query_hash));
    const roles = rankedRoles(this.questionRoles.all(hashes) as Array<{ key: string; user_role: string; n: number; last: number }>);
    const facts = new Map((this.questionFacts.all(hashes) as Array<{ query_hash: string; query_normalized: string; query_category: string }>).map((row) => [row.query_hash, row]));
    const items = page.map((row): CommonQuestion => {
      const fact = facts.get(row.query_hash)!;
      const known = roles.get(row.query_hash)!;
      return commonQuestionItem({ ...row, ...fact, asks: row.total_asks, last_asked: known.last }, known.roles);
    });
    const last = page[page.length - 1];
    return {
      items,
      nextCursor: rows.length > limit && last ? encodeCursor(`${CURSOR_PREFIX}questions`, [last.total_asks, last.query_hash]) : null,
      range: { from: span.from, to: span.to },
    };
  }

  async contentEffectiveness(query: InsightsQuery = {}): Promise<InsightsPage<CountedContentEffectiveness>> {
    this.assertOpen();
    const limit = insightsPageSize(query.limit);
    const span = monthSpan(query.range);
    const [score, type, id] = query.cursor
      ? (decodeWarmCursor('content', query.cursor, ['number', 'string', 'string']) as [number, string, string])
      : [Number.POSITIVE_INFINITY, FIRST, FIRST];
    const role = checkRole(query.userRole);
    const rows = statementFor(this.contentGroups, role).all({
      from: span.fromMonth, to: span.toMonth, score, type, id, limit: limit + 1, ...(role === undefined ? {} : { role }),
    }) as ContentGroup[];
    const page = rows.slice(0, limit);
    const keys = JSON.stringify(page.map((row) => [row.content_type, row.content_id]));
    const roles = rankedRoles(this.contentRoles.all(keys) as Array<{ key: string; user_role: string; n: number }>);
    const spans = new Map((this.contentSpans.all(keys) as Array<{ key: string; first: number; last: number }>).map((row) => [row.key, row]));
    const items = page.map((row): CountedContentEffectiveness => {
      const key = JSON.stringify([row.content_type, row.content_id]);
      const used = spans.get(key)!;
      return {
        contentType: row.content_type,
        contentId: row.content_id,
        accesses: row.accesses,
        avgRelevance: row.relevance_count > 0 ? row.relevance_micro_sum / 1e6 / row.relevance_count : null,
        successRate: row.successes / row.accesses,
        performanceScore: row.score,
        roles: roles.get(key)!.roles,
        firstAccessed: used.first,
        lastAccessed: used.last,
        relevanceCount: row.relevance_count,
      };
    });
    const last = page[page.length - 1];
    return {
      items,
      nextCursor: rows.length > limit && last ? encodeCursor(`${CURSOR_PREFIX}content`, [last.score, last.content_type, last.content_id]) : null,
      range: { from: span.from, to: span.to },
    };
  }

  /**
   * Trending over whole months: the recent window ends at the end of the range's last month (else
   * of the last month with data) and starts at the start of the month `recentDays` before that; the
   * baseline is the whole months `baselineDays` before it. The page reports the window lengths used.
   */
  async trendingQueries(query: TrendingQueriesQuery = {}): Promise<TrendingPage> {
    this.assertOpen();
    const limit = insightsPageSize(query.limit);
    const recentDaysAsked = trendingWindowDays(NAME, query.recentDays, DEFAULT_RECENT_DAYS, 'recentDays');
    const baselineDaysAsked = trendingWindowDays(NAME, query.baselineDays, DEFAULT_BASELINE_DAYS, 'baselineDays');
    const role = checkRole(query.userRole);
    const requestedEnd = monthSpan(query.range).to;
    const latest = this.latestMonth.get() as string | null;
    const asOf = query.range?.to !== undefined && requestedEnd !== null ? requestedEnd : latest === null ? null : monthRange(latest).to;
    if (asOf === null) {
      return { items: [], nextCursor: null, range: { from: null, to: null }, asOf: null, recentDays: recentDaysAsked, baselineDays: baselineDaysAsked };
    }
    const recentFrom = floorMonth(asOf - recentDaysAsked * DAY_MS);
    const baselineFrom = floorMonth(recentFrom - baselineDaysAsked * DAY_MS);
    const recentDays = (asOf - recentFrom) / DAY_MS;
    const baselineDays = (recentFrom - baselineFrom) / DAY_MS;
    const month = (ms: number) => monthSpan({ from: ms }).fromMonth;
    const rows = statementFor(this.trendingAsks, role).all({
      from: month(baselineFrom), to: month(asOf), recent: month(recentFrom), ...(role === undefined ? {} : { role }),
    }) as TrendingAsks[];
    const page = pageAfter(NAME, rankTrending(rows, recentDays, baselineDays), limit, query.cursor, `${CURSOR_PREFIX}trending`, ['number', 'string'], (item) => [item.trendingScore, item.queryHash], {
      from: baselineFrom,
      to: asOf,
    });
    return { ...page, asOf, recentDays, baselineDays };
  }

  async userBehaviour(): Promise<never> {
    throw hotTierQuestion('user behaviour');
  }

  async businessMetrics(): Promise<never> {
    throw hotTierQuestion('business metrics');
  }

  async systemPerformance(): Promise<never> {
    throw hotTierQuestion('system performance');
  }

  /** Aggregates start at the first month not expired; null when none was. */
  async detailCoverage(): Promise<{ from: number | null }> {
    this.assertOpen();
    const expired = this.expiredBefore.get() as string | undefined;
    return { from: expired === undefined ? null : monthRange(expired).from };
  }
}

function hotTierQuestion(what: string): StorageError {
  return new StorageError(
    `${NAME}: ${what} is answered by the hot tier, which keeps those rollups (sessions included) for good; ask strata.insights or the hot tier's insights`,
  );
}

function statementFor(statements: ByRole, role: string | undefined): Database.Statement {
  return role === undefined ? statements.all : statements.role;
}

function checkRole(role: unknown): string | undefined {
  if (role === undefined) return undefined;
  if (typeof role !== 'string') throw new ValidationError([{ path: 'userRole', message: `must be a string, got ${JSON.stringify(role)} (${NAME})` }]);
  return role;
}

/** Per key: its roles, most counted first (ties in BINARY order), and the latest `last` seen. */
function rankedRoles(rows: ReadonlyArray<{ key: string; user_role: string; n: number; last?: number }>): Map<string, { roles: string[]; last: number }> {
  const byKey = new Map<string, { counts: Array<[string, number]>; last: number }>();
  for (const row of rows) {
    let entry = byKey.get(row.key);
    if (!entry) {
      entry = { counts: [], last: Number.NEGATIVE_INFINITY };
      byKey.set(row.key, entry);
    }
    entry.counts.push([row.user_role, row.n]);
    if (row.last !== undefined && row.last > entry.last) entry.last = row.last;
  }
  return new Map(
    [...byKey].map(([key, { counts, last }]) => [key, { roles: counts.sort((a, b) => b[1] - a[1] || compareBinary(a[0], b[0])).map(([role]) => role), last }]),
  );
}

function decodeWarmCursor(kind: string, cursor: string, types: CursorTypes): CursorValue[] {
  return decodeCursor(NAME, `${CURSOR_PREFIX}${kind}`, cursor, types);
}
