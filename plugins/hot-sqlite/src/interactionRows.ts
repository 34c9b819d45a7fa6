import { hashQuery, normalizeQuery, type ContentRef, type Interaction } from '@strata/core';

/**
 * A `user_interactions` row as a driver returns it; `Flag` is how the store gives back a boolean
 * column (better-sqlite3: 0 or 1). Every hot tier stores the same columns.
 */
export interface StoredInteractionRow<Flag> {
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
  success: Flag;
  user_rating: number | null;
  follow_up_query: Flag;
  conversation_turn: number;
  ip_hash: string | null;
  user_agent_hash: string | null;
  content: string;
  created_at: number;
}

/** A `user_interactions` row as better-sqlite3 returns it. */
export type InteractionRow = StoredInteractionRow<number>;

/** The columns an insert sets, in the order of `interactionValues`. */
export const INSERT_COLUMNS = [
  'event_id',
  'session_id',
  'timestamp',
  'user_role',
  'query',
  'query_hash',
  'query_type',
  'response_time',
  'response_length',
  'code_snippets_shown',
  'citations_provided',
  'success',
  'user_rating',
  'follow_up_query',
  'conversation_turn',
  'ip_hash',
  'user_agent_hash',
  'content',
  'created_at',
] as const;

/** Positional parameters for the insert statement, in INSERT_COLUMNS order; pass `queryHash` when already computed. */
export function toInsertParams(event: Interaction, createdAt: number, queryHash?: string, contentJson?: string): unknown[] {
  return interactionValues(event, createdAt, queryHash ?? hashQuery(normalizeQuery(event.query)), sqliteFlag, contentJson);
}

/** The `content` column's text for an event's items. */
export function contentColumn(content: readonly ContentRef[]): string {
  return content.length === 0 ? '[]' : JSON.stringify(content);
}

export function fromRow(row: InteractionRow): Interaction {
  return interactionFromRow(row, isSqliteFlagSet);
}

/**
 * The values of an event's row, in INSERT_COLUMNS order; `flag` turns a boolean into what the store
 * binds. Pass `contentJson` when `contentColumn(event.content)` is already known.
 */
export function interactionValues<Flag>(event: Interaction, createdAt: number, queryHash: string, flag: (value: boolean) => Flag, contentJson?: string): unknown[] {
  return [
    event.eventId,
    event.sessionId,
    event.timestamp,
    event.userRole,
    event.query,
    queryHash,
    event.queryType,
    event.responseTime,
    event.responseLength,
    event.codeSnippetsShown,
    event.citationsProvided,
    flag(event.success),
    event.userRating,
    flag(event.followUpQuery),
    event.conversationTurn,
    event.ipHash,
    event.userAgentHash,
    contentJson ?? contentColumn(event.content),
    createdAt,
  ];
}

/**
 * The row as the Interaction it was stored from; `isSet` reads a boolean column as the store
 * returns it. The keys keep one order, so archive lines hash the same from any tier.
 */
export function interactionFromRow<Flag>(row: StoredInteractionRow<Flag>, isSet: (flag: Flag) => boolean): Interaction {
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
    success: isSet(row.success),
    userRating: row.user_rating,
    followUpQuery: isSet(row.follow_up_query),
    conversationTurn: row.conversation_turn,
    ipHash: row.ip_hash,
    userAgentHash: row.user_agent_hash,
    content: row.content === '[]' ? [] : (JSON.parse(row.content) as ContentRef[]),
  };
}

/** SQLite has no boolean: 1 and 0. */
function sqliteFlag(value: boolean): number {
  return value ? 1 : 0;
}

function isSqliteFlagSet(flag: number): boolean {
  return flag === 1;
}
