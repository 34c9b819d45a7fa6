import type { ColumnSpec } from './exportFormat.js';

/**
 * The columns of an exported interaction: the stored form every tier returns (`Interaction` in
 * `@strata/core`), in the same order. `ipHash`/`userAgentHash` are the keyed hashes a privacy
 * processor made of the raw network fields (which are never stored).
 */
export const INTERACTION_COLUMNS: readonly ColumnSpec[] = [
  { name: 'eventId', type: 'text' },
  { name: 'sessionId', type: 'text' },
  { name: 'timestamp', type: 'timestamp' },
  { name: 'userRole', type: 'text' },
  { name: 'query', type: 'text' },
  { name: 'queryType', type: 'text' },
  { name: 'responseTime', type: 'number' },
  { name: 'responseLength', type: 'integer' },
  { name: 'codeSnippetsShown', type: 'integer' },
  { name: 'citationsProvided', type: 'integer' },
  { name: 'success', type: 'boolean' },
  { name: 'userRating', type: 'integer' },
  { name: 'followUpQuery', type: 'boolean' },
  { name: 'conversationTurn', type: 'integer' },
  { name: 'ipHash', type: 'text' },
  { name: 'userAgentHash', type: 'text' },
  { name: 'content', type: 'json' },
];

/**
 * What an import reads: the exported columns, plus the raw `ipAddress` and `userAgent` an
 * application sends (ingest hashes them with the privacy key and drops them).
 */
export const INTERACTION_IMPORT_COLUMNS: readonly ColumnSpec[] = [
  ...INTERACTION_COLUMNS,
  { name: 'ipAddress', type: 'text' },
  { name: 'userAgent', type: 'text' },
];
