import { StorageError, type InsightsPage } from '@strata/core';
import { DEFAULT_INSIGHTS_LIMIT, MAX_INSIGHTS_LIMIT, compareText } from '@strata/hot-sqlite';
import { NAME } from './pgConnection.js';

/**
 * Page sizes and cursors of the insights answers, in hot-sqlite's format: the same answer pages
 * the same way and its cursors are the same strings, whichever tier gave it.
 */

export function pageSize(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return DEFAULT_INSIGHTS_LIMIT;
  return Math.min(Math.max(1, Math.trunc(limit)), MAX_INSIGHTS_LIMIT);
}

export function wholeDays(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1 || value > 3_650) throw new StorageError(`${NAME}: ${name} must be a whole number of days from 1 to 3650, got ${JSON.stringify(value)}`);
  return value;
}

export type CursorValue = number | string;

/** A page of an already ordered list, after the item the cursor names (by its sort key). */
export function pageAfter<T>(
  items: readonly T[],
  limit: number,
  cursor: string | undefined,
  kind: string,
  types: ReadonlyArray<'number' | 'string'>,
  keyOf: (item: T) => CursorValue[],
  range: InsightsPage<T>['range'],
): InsightsPage<T> {
  let start = 0;
  if (cursor) {
    const after = decodeCursor(kind, cursor, types);
    // Items are sorted by key: first the numeric key descending, then the text keys ascending.
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

export function encodeCursor(kind: string, values: readonly CursorValue[]): string {
  return Buffer.from(JSON.stringify([kind, ...values])).toString('base64url');
}

export function decodeCursor(kind: string, cursor: string, types: ReadonlyArray<'number' | 'string'>): CursorValue[] {
  try {
    const decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(decoded) && decoded[0] === kind && decoded.length === types.length + 1) {
      const values = decoded.slice(1) as unknown[];
      if (values.every((value, index) => typeof value === types[index] && (typeof value !== 'number' || Number.isFinite(value)))) return values as CursorValue[];
    }
  } catch {
    // fall through to the error below
  }
  throw new StorageError(`${NAME}: cursor ${JSON.stringify(cursor.slice(0, 40))} is not one this tier issued for this question; pass nextCursor from a previous page of the same question`);
}
