import { StorageError, createQueryKeyer, monthOf, monthRange, type Interaction, type MonthKey } from '@strata/core';
import { histogramBin, toMicros } from '@strata/hot-sqlite';
import { DAY_MS, compareBinary } from './months.js';

/** Per month, role and query type. */
export interface InteractionCell {
  month: MonthKey;
  role: string;
  type: string;
  interactions: number;
  successes: number;
  responseUs: number;
  responseUsMax: number;
  bins: Map<number, number>;
  ratingSum: number;
  ratingCount: number;
  snippets: number;
  citations: number;
  followUps: number;
}

/** Per month, role and normalised question. */
export interface QuestionCell {
  month: MonthKey;
  role: string;
  hash: string;
  normalized: string;
  category: string;
  firstAsked: number;
  lastAsked: number;
  asks: number;
  successes: number;
  responseUs: number;
  ratingSum: number;
  ratingCount: number;
}

/** Per month, role and knowledge item. */
export interface ContentCell {
  month: MonthKey;
  role: string;
  type: string;
  id: string;
  accesses: number;
  successes: number;
  relevanceMicros: number;
  relevanceCount: number;
  first: number;
  last: number;
}

/** Per UTC day and role. */
export interface DayCell {
  day: number;
  month: MonthKey;
  role: string;
  interactions: number;
  successes: number;
  responseUs: number;
  responseUsMax: number;
  bins: Map<number, number>;
  ratingSum: number;
  ratingCount: number;
  snippets: number;
  citations: number;
  followUps: number;
}

/**
 * The aggregates of one source's rows, accumulated in memory batch by batch. Memory grows with the
 * distinct keys (months × roles × questions, content items, days), not with the rows, so a source
 * of any size is read once and then written in one transaction, each row of each table once.
 */
export class MonthlyAggregation {
  readonly interactions = new Map<string, InteractionCell>();
  readonly questions = new Map<string, QuestionCell>();
  readonly content = new Map<string, ContentCell>();
  readonly days = new Map<string, DayCell>();
  /** Rows per month. */
  readonly rowsByMonth = new Map<MonthKey, number>();
  rows = 0;
  // Same normalisation and hash as the hot tier, so a question keeps its key across tiers.
  private readonly queryKey = createQueryKeyer();
  private monthFrom = Number.POSITIVE_INFINITY;
  private monthTo = Number.NEGATIVE_INFINITY;
  private month: MonthKey = '';

  add(batch: readonly Interaction[]): void {
    if (!Array.isArray(batch)) throw new StorageError(`historical-sqlite: rows must yield arrays of interactions, got ${describe(batch)}`);
    for (const row of batch) this.addRow(row);
  }

  private addRow(row: Interaction): void {
    checkRow(row, this.rows);
    const { timestamp, userRole: role, queryType: type } = row;
    // Rows of a source are mostly from one month: work its key out once, not once per row.
    if (timestamp < this.monthFrom || timestamp >= this.monthTo) {
      this.month = monthOf(timestamp);
      ({ from: this.monthFrom, to: this.monthTo } = monthRange(this.month));
    }
    const month = this.month;
    const responseUs = toMicros(row.responseTime);
    const bin = histogramBin(row.responseTime);
    const success = row.success ? 1 : 0;
    const rating = row.userRating ?? 0;
    const rated = row.userRating === null || row.userRating === undefined ? 0 : 1;
    const snippets = row.codeSnippetsShown ?? 0;
    const citations = row.citationsProvided ?? 0;
    const followUp = row.followUpQuery ? 1 : 0;
    this.rows += 1;
    this.rowsByMonth.set(month, (this.rowsByMonth.get(month) ?? 0) + 1);

    const cellKey = `${month}${role.length}:${role}${type}`;
    let cell = this.interactions.get(cellKey);
    if (!cell) {
      cell = {
        month, role, type, interactions: 0, successes: 0, responseUs: 0, responseUsMax: 0, bins: new Map(),
        ratingSum: 0, ratingCount: 0, snippets: 0, citations: 0, followUps: 0,
      };
      this.interactions.set(cellKey, cell);
    }
    cell.interactions += 1;
    cell.successes += success;
    cell.responseUs += responseUs;
    if (responseUs > cell.responseUsMax) cell.responseUsMax = responseUs;
    cell.bins.set(bin, (cell.bins.get(bin) ?? 0) + 1);
    cell.ratingSum += rating;
    cell.ratingCount += rated;
    cell.snippets += snippets;
    cell.citations += citations;
    cell.followUps += followUp;

    const day = Math.floor(timestamp / DAY_MS) * DAY_MS;
    const dayKey = `${day}:${role}`;
    let dayCell = this.days.get(dayKey);
    if (!dayCell) {
      dayCell = {
        day, month, role, interactions: 0, successes: 0, responseUs: 0, responseUsMax: 0, bins: new Map(),
        ratingSum: 0, ratingCount: 0, snippets: 0, citations: 0, followUps: 0,
      };
      this.days.set(dayKey, dayCell);
    }
    dayCell.interactions += 1;
    dayCell.successes += success;
    dayCell.responseUs += responseUs;
    if (responseUs > dayCell.responseUsMax) dayCell.responseUsMax = responseUs;
    dayCell.bins.set(bin, (dayCell.bins.get(bin) ?? 0) + 1);
    dayCell.ratingSum += rating;
    dayCell.ratingCount += rated;
    dayCell.snippets += snippets;
    dayCell.citations += citations;
    dayCell.followUps += followUp;

    const query = this.queryKey(row.query);
    // The hash is fixed-length hex, so month + role + hash cannot collide across roles.
    const questionKey = `${month}${role.length}:${role}${query.hash}`;
    let question = this.questions.get(questionKey);
    if (!question) {
      question = {
        month, role, hash: query.hash, normalized: query.normalized, category: type, firstAsked: timestamp, lastAsked: timestamp,
        asks: 0, successes: 0, responseUs: 0, ratingSum: 0, ratingCount: 0,
      };
      this.questions.set(questionKey, question);
    } else if (timestamp < question.firstAsked || (timestamp === question.firstAsked && compareBinary(type, question.category) < 0)) {
      question.firstAsked = timestamp;
      question.category = type;
    }
    if (timestamp > question.lastAsked) question.lastAsked = timestamp;
    question.asks += 1;
    question.successes += success;
    question.responseUs += responseUs;
    question.ratingSum += rating;
    question.ratingCount += rated;

    for (const item of row.content ?? []) {
      const relevance = item.relevance ?? null;
      const itemKey = `${month}${role.length}:${role}${item.type.length}:${item.type}${item.id}`;
      let content = this.content.get(itemKey);
      if (!content) {
        content = { month, role, type: item.type, id: item.id, accesses: 0, successes: 0, relevanceMicros: 0, relevanceCount: 0, first: timestamp, last: timestamp };
        this.content.set(itemKey, content);
      }
      content.accesses += 1;
      content.successes += success;
      if (relevance !== null) {
        content.relevanceMicros += toMicros(relevance);
        content.relevanceCount += 1;
      }
      if (timestamp < content.first) content.first = timestamp;
      if (timestamp > content.last) content.last = timestamp;
    }
  }
}

/** A source's rows come from a verified archive; a row that is not an interaction is refused before anything is written. */
function checkRow(row: Interaction, index: number): void {
  const problem =
    typeof row !== 'object' || row === null ? 'is not an object'
    : typeof row.timestamp !== 'number' || !Number.isFinite(row.timestamp) ? 'has no numeric timestamp'
    : typeof row.userRole !== 'string' || row.userRole === '' ? 'has no userRole'
    : typeof row.queryType !== 'string' || row.queryType === '' ? 'has no queryType'
    : typeof row.query !== 'string' ? 'has no query'
    : typeof row.responseTime !== 'number' || !(row.responseTime >= 0) ? 'has no non-negative responseTime'
    : typeof row.success !== 'boolean' ? 'has no boolean success'
    : !Array.isArray(row.content ?? []) ? 'has a content that is not an array'
    : undefined;
  if (problem) {
    throw new StorageError(`historical-sqlite: row ${index} of the source ${problem}; pass interactions as a tier or archive returns them (nothing of this source was added)`);
  }
}

function describe(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
}
