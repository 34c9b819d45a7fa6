import { hashQuery, normalizeQuery, type ContentRef, type Interaction } from '@strata/core';

/** A `user_interactions` row as better-sqlite3 returns it. */
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
  success: number;
  user_rating: number | null;
  follow_up_query: number;
  conversation_turn: number;
  ip_hash: string | null;
  user_agent_hash: string | null;
  content: string;
  created_at: number;
}

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
export function toInsertParams(event: Interaction, createdAt: number, queryHash?: string): unknown[] {
  return [
    event.eventId,
    event.sessionId,
    event.timestamp,
    event.userRole,
    event.query,
    queryHash ?? hashQuery(normalizeQuery(event.query)),
    event.queryType,
    event.responseTime,
    event.responseLength,
    event.codeSnippetsShown,
    event.citationsProvided,
    event.success ? 1 : 0,
    event.userRating,
    event.followUpQuery ? 1 : 0,
    event.conversationTurn,
    event.ipHash,
    event.userAgentHash,
    event.content.length === 0 ? '[]' : JSON.stringify(event.content),
    createdAt,
  ];
}

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
    success: row.success === 1,
    userRating: row.user_rating,
    followUpQuery: row.follow_up_query === 1,
    conversationTurn: row.conversation_turn,
    ipHash: row.ip_hash,
    userAgentHash: row.user_agent_hash,
    content: row.content === '[]' ? [] : (JSON.parse(row.content) as ContentRef[]),
  };
}
