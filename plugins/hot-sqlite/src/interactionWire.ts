import { createQueryKeyer, type ContentRef, type Interaction, type QueryKey } from '@strata/core';
import type { PreparedInteraction } from './batchAggregation.js';
import { contentColumn } from './interactionRows.js';

/**
 * A batch of interactions as one flat array of primitives, for the trip to the writer thread.
 *
 * postMessage copies with V8's structured clone, which writes every property name of every object
 * and rebuilds each object generically on the other side: 7.3 µs per event for a batch of 10,000,
 * most of it on the writer thread that bounds ingest. The flat form costs 1.0 µs on the sending
 * side and 1.4 µs on the writer (clone and rebuild).
 *
 * The sending side also works out what the row insert needs beyond the event (`PreparedInteraction`):
 * the normalised query and its hash (2.9 µs per event when every question is new) and the
 * `content` column's JSON text, so the writer thread does not.
 *
 * Layout per event: the 19 scalar fields in the order `encodeInteractions` pushes them, then the
 * number of content items, then type, id and relevance of each. `ipAddress` and `userAgent` are not carried: they exist only in
 * flight before the pipeline drops them, and no tier stores them.
 */
const SCALAR_FIELDS = 19;

export type InteractionWire = unknown[];

/**
 * Encodes `events[start..end)`, so a batch can travel in slices without copying it first.
 *
 * Pass the previous slice's array as `reuse` once it has been posted (postMessage copies it at
 * once): it is overwritten and cut to length. A fresh array per slice, grown by push, was a third
 * of what the host allocated per event; one made with `new Array(length)` has holes, which V8's
 * structured clone sends in its slow sparse form, so the array is reused instead.
 */
export function encodeInteractions(
  events: readonly Interaction[],
  start = 0,
  end = events.length,
  queryKey: (query: string) => QueryKey = createQueryKeyer(),
  reuse: unknown[] = [],
): InteractionWire {
  const values = reuse;
  let at = 0;
  for (let index = start; index < end; index += 1) {
    const event = events[index]!;
    const query = queryKey(event.query);
    values[at++] = event.eventId;
    values[at++] = event.sessionId;
    values[at++] = event.timestamp;
    values[at++] = event.userRole;
    values[at++] = event.query;
    values[at++] = event.queryType;
    values[at++] = event.responseTime;
    values[at++] = event.responseLength;
    values[at++] = event.codeSnippetsShown;
    values[at++] = event.citationsProvided;
    values[at++] = event.success;
    values[at++] = event.userRating;
    values[at++] = event.followUpQuery;
    values[at++] = event.conversationTurn;
    values[at++] = event.ipHash;
    values[at++] = event.userAgentHash;
    values[at++] = query.hash;
    values[at++] = query.normalized;
    values[at++] = contentColumn(event.content);
    values[at++] = event.content.length;
    for (const item of event.content) {
      values[at++] = item.type;
      values[at++] = item.id;
      values[at++] = item.relevance;
    }
  }
  // Every index below `at` was written in order, so the array stays packed (no holes).
  values.length = at;
  return values;
}

/** Decodes a wire array, appending to `preparedItems` (so the slices of one batch join without a copy). */
export function decodeInteractions(values: InteractionWire, preparedItems: PreparedInteraction[] = []): PreparedInteraction[] {
  let at = 0;
  while (at < values.length) {
    const items = values[at + SCALAR_FIELDS] as number;
    const content: ContentRef[] = new Array(items);
    for (let index = 0, item = at + SCALAR_FIELDS + 1; index < items; index += 1, item += 3) {
      content[index] = { type: values[item] as string, id: values[item + 1] as string, relevance: values[item + 2] as number | null };
    }
    const event: Interaction = {
      eventId: values[at] as string,
      sessionId: values[at + 1] as string,
      timestamp: values[at + 2] as number,
      userRole: values[at + 3] as string,
      query: values[at + 4] as string,
      queryType: values[at + 5] as string,
      responseTime: values[at + 6] as number,
      responseLength: values[at + 7] as number | null,
      codeSnippetsShown: values[at + 8] as number,
      citationsProvided: values[at + 9] as number,
      success: values[at + 10] as boolean,
      userRating: values[at + 11] as number | null,
      followUpQuery: values[at + 12] as boolean,
      conversationTurn: values[at + 13] as number,
      ipHash: values[at + 14] as string | null,
      userAgentHash: values[at + 15] as string | null,
      content,
    };
    preparedItems.push({ event, queryHash: values[at + 16] as string, normalizedQuery: values[at + 17] as string, contentJson: values[at + 18] as string });
    at += SCALAR_FIELDS + 1 + items * 3;
  }
  return preparedItems;
}
