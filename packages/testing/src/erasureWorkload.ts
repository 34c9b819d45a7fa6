import type { Interaction } from '@strata/core';
import { sampleInteractions } from './storageTierConformance.js';

/** The question only the erasure workload's subject asked; its text must leave every tier with them. */
export const ERASED_ALONE_QUESTION = 'Who reviewed the Ferris contract for Ms Example?';

export interface ArchivedErasureWorkload {
  /** Every event, the subject's lone question included. */
  events: Interaction[];
  /** Sessions to erase (every fifth). */
  erased: ReadonlySet<string>;
  /** The erased sessions' rows that retention archived (their older half, and the lone question). */
  archived: Interaction[];
  /** The erased sessions' rows still held by the hot tier after archiving: what erasing there removes. */
  heldOfErased: number;
}

/**
 * Sessions to erase, part of whose rows were archived before the request, for hot tiers' erasure
 * tests: the tier stores `events`, deletes `archived` as retention would, then erases each session
 * of `erased` with its archived rows; its rollups must equal those of a tier that never stored the
 * erased sessions.
 */
export function archivedErasureWorkload(count = 900, seed = 22): ArchivedErasureWorkload {
  const events = sampleInteractions(count, seed);
  const sessions = [...new Set(events.map((event) => event.sessionId))];
  const erased = new Set(sessions.filter((_, index) => index % 5 === 0));
  const subject = [...erased][0]!;
  const alone: Interaction = { ...events.find((event) => event.sessionId === subject)!, eventId: 'alone-1', query: ERASED_ALONE_QUESTION };
  const ofErased = events.filter((event) => erased.has(event.sessionId)).sort((a, b) => a.timestamp - b.timestamp);
  events.push(alone);
  const archived = [...ofErased.slice(0, Math.floor(ofErased.length / 2)), alone];
  return { events, erased, archived, heldOfErased: ofErased.length + 1 - archived.length };
}
