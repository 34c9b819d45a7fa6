import { deriveEventId, type Interaction } from '@strata/core';
import { ArchiveInputError } from './archiveErrors.js';

/**
 * An interaction in the stored form every tier returns: the same keys in the same order as the hot
 * tier's rows, defaults applied, and the in-flight `ipAddress`/`userAgent` dropped (only their
 * keyed hashes are ever stored). Rows written through the cold tier therefore have the same
 * `interactionLine`, and so the same digest, as the same rows read from the hot tier.
 */
export function canonicalInteraction(event: Interaction, index: number): Interaction {
  if (typeof event !== 'object' || event === null) throw new ArchiveInputError(`batch[${index}]`, `must be an interaction object, got ${event === null ? 'null' : typeof event}`);
  if (typeof event.timestamp !== 'number' || !Number.isFinite(event.timestamp)) {
    throw new ArchiveInputError(`batch[${index}].timestamp`, `must be epoch milliseconds, got ${JSON.stringify(event.timestamp)}`);
  }
  const stored: Interaction = {
    eventId: event.eventId,
    sessionId: event.sessionId,
    timestamp: event.timestamp,
    userRole: event.userRole,
    query: event.query,
    queryType: event.queryType,
    responseTime: event.responseTime,
    responseLength: event.responseLength ?? null,
    codeSnippetsShown: event.codeSnippetsShown ?? 0,
    citationsProvided: event.citationsProvided ?? 0,
    success: event.success,
    userRating: event.userRating ?? null,
    followUpQuery: event.followUpQuery ?? false,
    conversationTurn: event.conversationTurn ?? 1,
    ipHash: event.ipHash ?? null,
    userAgentHash: event.userAgentHash ?? null,
    content: (event.content ?? []).map((item) => ({ type: item.type, id: item.id, relevance: item.relevance ?? null })),
  };
  if (typeof stored.eventId !== 'string' || stored.eventId === '') stored.eventId = deriveEventId(stored);
  return stored;
}
