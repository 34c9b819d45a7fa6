import { ValidationError, type InsightsGranularity, type InsightsPage, type InsightsQuery, type SystemPerformanceQuery } from '@strata/core';
import { compareText } from './compareText.js';
import { DAY_MS, HOUR_MS, MINUTE_MS, alignRange, reportedBound } from './timeBuckets.js';

/**
 * Page sizes and cursors of the insights answers. Every tier that answers insights pages with
 * these, so the same answer pages the same way and its cursors are the same strings whichever
 * tier gave it. `tier` is the plugin name its errors start with.
 */

export const DEFAULT_INSIGHTS_LIMIT = 50;
export const MAX_INSIGHTS_LIMIT = 1_000;

/** A value of a cursor's sort key. */
export type CursorValue = number | string;
/** The type of each value of a cursor's sort key, in order. */
export type CursorTypes = ReadonlyArray<'number' | 'string'>;

/** The page size asked for, made a whole number from 1 to MAX_INSIGHTS_LIMIT; the default when absent or not finite. */
export function insightsPageSize(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return DEFAULT_INSIGHTS_LIMIT;
  return Math.min(Math.max(1, Math.trunc(limit)), MAX_INSIGHTS_LIMIT);
}

/** The opaque cursor naming the sort key of a page's last item, for the question `kind`. */
export function encodeCursor(kind: string, values: readonly CursorValue[]): string {
  return Buffer.from(JSON.stringify([kind, ...values])).toString('base64url');
}

/** The sort key a cursor of `kind` names; a ValidationError (path `cursor`) when it is not one `encodeCursor` made for `kind` with these types. */
export function decodeCursor(tier: string, kind: string, cursor: string, types: CursorTypes): CursorValue[] {
  try {
    const decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(decoded) && decoded[0] === kind && decoded.length === types.length + 1) {
      const values = decoded.slice(1) as unknown[];
      if (values.every((value, index) => typeof value === types[index] && (typeof value !== 'number' || Number.isFinite(value)))) return values as CursorValue[];
    }
  } catch {
    // fall through to the error below
  }
  throw new ValidationError([{ path: 'cursor', message: `${tier}: cursor ${JSON.stringify(cursor.slice(0, 40))} is not one this tier issued for this question; pass nextCursor from a previous page of the same question` }]);
}

/**
 * A page of an already ordered list, after the item the cursor names (by its sort key). Items
 * must be sorted by keys shaped [number (descending), ...strings (ascending, by code point)].
 */
export function pageAfter<T>(
  tier: string,
  items: readonly T[],
  limit: number,
  cursor: string | undefined,
  kind: string,
  types: CursorTypes,
  keyOf: (item: T) => CursorValue[],
  range: InsightsPage<T>['range'],
): InsightsPage<T> {
  let start = 0;
  if (cursor) {
    const after = decodeCursor(tier, kind, cursor, types);
    start = items.findIndex((item) => compareKeys(keyOf(item), after) > 0);
    if (start < 0) start = items.length;
  }
  const page = items.slice(start, start + limit);
  const last = page[page.length - 1];
  return { items: page, nextCursor: start + limit < items.length && last !== undefined ? encodeCursor(kind, keyOf(last)) : null, range };
}

/** Compares sort keys shaped [number (descending), ...strings (ascending)]. */
function compareKeys(a: readonly CursorValue[], b: readonly CursorValue[]): number {
  const byNumber = (b[0] as number) - (a[0] as number);
  if (byNumber !== 0) return byNumber;
  for (let index = 1; index < a.length; index += 1) {
    const order = compareText(a[index] as string, b[index] as string);
    if (order !== 0) return order;
  }
  return 0;
}

/** The keyset of an answer read page by page: its question, the types of its sort key, and the key a first page starts after. */
export interface Keyset {
  kind: string;
  types: CursorTypes;
  first: readonly CursorValue[];
}

/** Questions by asks (descending), ties by id: first asked first. */
export const QUESTIONS_KEYSET: Keyset = { kind: 'questions', types: ['number', 'number'], first: [Number.MAX_SAFE_INTEGER, 0] };
/** Content by score (descending), ties by id: first used first. */
export const CONTENT_KEYSET: Keyset = { kind: 'content', types: ['number', 'number'], first: [Number.POSITIVE_INFINITY, 0] };
/** Metric rollup rows by bucket, name, component and unit. */
export const METRICS_KEYSET: Keyset = { kind: 'metrics', types: ['number', 'string', 'string', 'string'], first: [Number.MIN_SAFE_INTEGER, '', '', ''] };

const GRANULARITY_MS: Record<InsightsGranularity, number> = { minute: MINUTE_MS, hour: HOUR_MS, day: DAY_MS };

/** A ranked answer over the daily rollups (questions, content): its range widened to whole UTC days, and its page. */
export function dailyKeysetPage<Item>(keyset: Keyset, query: InsightsQuery): { days: { from: number; to: number }; page: KeysetPageQuery<Item> } {
  const days = alignRange(query.range, DAY_MS);
  return { days, page: { ...keyset, cursor: query.cursor, limit: insightsPageSize(query.limit), range: { from: reportedBound(days.from), to: reportedBound(days.to) } } };
}

/** System performance at a granularity (default hour): its range widened to whole buckets, and its page. */
export function metricsKeysetPage<Item>(
  tier: string,
  query: SystemPerformanceQuery,
): { granularity: InsightsGranularity; aligned: { from: number; to: number }; page: KeysetPageQuery<Item> } {
  const granularity = query.granularity ?? 'hour';
  const size = GRANULARITY_MS[granularity];
  if (size === undefined) throw new ValidationError([{ path: 'granularity', message: `must be minute, hour or day, got ${JSON.stringify(granularity)} (${tier})` }]);
  const aligned = alignRange(query.range, size);
  return {
    granularity,
    aligned,
    page: { ...METRICS_KEYSET, cursor: query.cursor, limit: insightsPageSize(query.limit), range: { from: reportedBound(aligned.from), to: reportedBound(aligned.to) } },
  };
}

/** What a keyset page is read by: its keyset, the cursor given, the page size and the range it reports. */
export interface KeysetPageQuery<Item> extends Keyset {
  cursor: string | undefined;
  limit: number;
  range: InsightsPage<Item>['range'];
}

/**
 * A page read by keyset: `read` returns up to `limit + 1` rows after the sort key the cursor
 * names, in order; the extra row only says that a next page exists, whose cursor names the key of
 * this page's last row.
 */
export async function keysetPage<Row, Item>(
  tier: string,
  page: KeysetPageQuery<Item>,
  read: (after: readonly CursorValue[], limit: number) => Row[] | Promise<Row[]>,
  keyOf: (row: Row) => CursorValue[],
  itemOf: (row: Row) => Item,
): Promise<InsightsPage<Item>> {
  const after = page.cursor ? decodeCursor(tier, page.kind, page.cursor, page.types) : page.first;
  const rows = await read(after, page.limit);
  const last = rows[page.limit - 1];
  return {
    items: rows.slice(0, page.limit).map(itemOf),
    nextCursor: rows.length > page.limit && last ? encodeCursor(page.kind, keyOf(last)) : null,
    range: page.range,
  };
}
