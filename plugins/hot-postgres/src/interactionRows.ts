import type { ContentRef, Interaction } from '@strata/core';

/** A `user_interactions` row as pg returns it (int8 parsed to numbers by the tier's pool). */
export interface InteractionRow {
  id: number;
  event_id: string;
  session_id: string;
  timestamp: number;
  user_role: string;
  query: string;
  query_hash: string;
  query_type: string;
  response_time: number;
  response_length: number | null;
  code_snippets_shown: number;
  citations_provided: number;
  success: boolean;
  user_rating: number | null;
  follow_up_query: boolean;
  conversation_turn: number;
  ip_hash: string | null;
  user_agent_hash: string | null;
  content: string;
  created_at: number;
}

/** Columns of the insert, with the array type each is passed as (one array per column, read with unnest). */
export const INSERT_COLUMNS = [
  ['event_id', 'text'],
  ['session_id', 'text'],
  ['timestamp', 'int8'],
  ['user_role', 'text'],
  ['query', 'text'],
  ['query_hash', 'text'],
  ['query_type', 'text'],
  ['response_time', 'float8'],
  ['response_length', 'int8'],
  ['code_snippets_shown', 'int8'],
  ['citations_provided', 'int8'],
  ['success', 'bool'],
  ['user_rating', 'int2'],
  ['follow_up_query', 'bool'],
  ['conversation_turn', 'int8'],
  ['ip_hash', 'text'],
  ['user_agent_hash', 'text'],
  ['content', 'text'],
  ['created_at', 'int8'],
] as const;

/** The batch as one array per column, in INSERT_COLUMNS order. */
export function toColumnArrays(events: readonly Interaction[], createdAt: number, queryHashes: readonly string[]): unknown[][] {
  const columns: unknown[][] = INSERT_COLUMNS.map(() => new Array(events.length));
  events.forEach((event, index) => {
    const values = [
      event.eventId,
      event.sessionId,
      event.timestamp,
      event.userRole,
      event.query,
      queryHashes[index],
      event.queryType,
      event.responseTime,
      event.responseLength,
      event.codeSnippetsShown,
      event.citationsProvided,
      event.success,
      event.userRating,
      event.followUpQuery,
      event.conversationTurn,
      event.ipHash,
      event.userAgentHash,
      event.content.length === 0 ? '[]' : JSON.stringify(event.content),
      createdAt,
    ];
    for (let column = 0; column < values.length; column += 1) columns[column]![index] = values[column];
  });
  return columns;
}

/** The row as the Interaction it was stored from, keys in hot-sqlite's order (so archive lines hash the same from either tier). */
export function fromRow(row: InteractionRow): Interaction {
  return {
    eventId: row.event_id,
    sessionId: row.session_id,
    timestamp: row.timestamp,
    userRole: row.user_role,
    query: row.query,
    queryType: row.query_type,
    responseTime: row.response_time,
    responseLength: row.response_length,
    codeSnippetsShown: row.code_snippets_shown,
    citationsProvided: row.citations_provided,
    success: row.success,
    userRating: row.user_rating,
    followUpQuery: row.follow_up_query,
    conversationTurn: row.conversation_turn,
    ipHash: row.ip_hash,
    userAgentHash: row.user_agent_hash,
    content: row.content === '[]' ? [] : (JSON.parse(row.content) as ContentRef[]),
  };
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
