import type { Interaction } from '@strata/core';
import { INTERACTION_COLUMNS, interactionFromRow, interactionValues, type StoredInteractionRow } from '@strata/hot-sqlite';

/** A `user_interactions` row as pg returns it (int8 parsed to numbers by the tier's pool, booleans as booleans). */
export type InteractionRow = StoredInteractionRow<boolean>;

/** The array type each column is passed as (one array per column, read with unnest). */
const COLUMN_TYPES: Record<(typeof INTERACTION_COLUMNS)[number], string> = {
  event_id: 'text',
  session_id: 'text',
  timestamp: 'int8',
  user_role: 'text',
  query: 'text',
  query_hash: 'text',
  query_type: 'text',
  response_time: 'float8',
  response_length: 'int8',
  code_snippets_shown: 'int8',
  citations_provided: 'int8',
  success: 'bool',
  user_rating: 'int2',
  follow_up_query: 'bool',
  conversation_turn: 'int8',
  ip_hash: 'text',
  user_agent_hash: 'text',
  content: 'text',
  created_at: 'int8',
};

/** Columns of the insert, in hot-sqlite's order, with the array type each is passed as. */
export const INSERT_COLUMNS = INTERACTION_COLUMNS.map((column) => [column, COLUMN_TYPES[column]] as const);

/** The batch as one array per column, in INSERT_COLUMNS order. */
export function toColumnArrays(events: readonly Interaction[], createdAt: number, queryHashes: readonly string[]): unknown[][] {
  const columns: unknown[][] = INSERT_COLUMNS.map(() => new Array(events.length));
  events.forEach((event, index) => {
    const values = interactionValues(event, createdAt, queryHashes[index]!, asBool);
    for (let column = 0; column < values.length; column += 1) columns[column]![index] = values[column];
  });
  return columns;
}

/** The row as the Interaction it was stored from, keys in hot-sqlite's order (so archive lines hash the same from either tier). */
export function fromRow(row: InteractionRow): Interaction {
  return interactionFromRow(row, asBool);
}

function asBool(value: boolean): boolean {
  return value;
}

const NUL = '\u0000';
const REPLACEMENT = '\uFFFD';

function clean<T extends string | null>(text: T): T {
  return (text !== null && text.includes(NUL) ? text.replaceAll(NUL, REPLACEMENT) : text) as T;
}

/** A text as it is stored: U+0000 replaced by U+FFFD. */
export function withoutNulText(text: string): string {
  return clean(text);
}

/**
 * PostgreSQL text cannot hold U+0000: it is stored as U+FFFD (the Unicode replacement character),
 * so one such event never fails the batch it arrived in. Returns the event itself when it has none.
 */
export function withoutNul(event: Interaction): Interaction {
  const texts = [event.eventId, event.sessionId, event.userRole, event.query, event.queryType, event.ipHash ?? '', event.userAgentHash ?? ''];
  const inContent = event.content.some((item) => item.type.includes(NUL) || item.id.includes(NUL));
  if (!inContent && !texts.some((text) => text.includes(NUL))) return event;
  return {
    ...event,
    eventId: clean(event.eventId),
    sessionId: clean(event.sessionId),
    userRole: clean(event.userRole),
    query: clean(event.query),
    queryType: clean(event.queryType),
    ipHash: clean(event.ipHash),
    userAgentHash: clean(event.userAgentHash),
    content: event.content.map((item) => ({ ...item, type: clean(item.type), id: clean(item.id) })),
  };
}
