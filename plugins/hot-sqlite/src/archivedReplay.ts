import type { Interaction } from '@strata/core';

/**
 * Stored-at time given to archived rows when an erasure replays them. Their real one was not
 * archived, and it only decides whether an event had a minute rollup (stored within a day of
 * happening): with this value they get none in the replay, so old minute rows keep them. Readers
 * use minute rows only inside the last day, and a guessed stored-at time could take counts off
 * another event's minute. Shared by every hot tier, so their rollups stay identical.
 */
export const ARCHIVED_STORED_AT = Number.MAX_SAFE_INTEGER;

/**
 * The archived rows an erasure of `sessionId` must replay besides the rows the tier still holds
 * (`heldEventIds`): the session's own, each event once. The rollups counted each event once.
 */
export function archivedToReplay(archived: readonly Interaction[], sessionId: string, heldEventIds: ReadonlySet<string>): Interaction[] {
  const seen = new Set<string>();
  return archived.filter((event) => event.sessionId === sessionId && !heldEventIds.has(event.eventId) && !seen.has(event.eventId) && seen.add(event.eventId));
}
