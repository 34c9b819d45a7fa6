import { normalizeQuery, type InteractionInput } from '@strata/core';
import { createRandom, generateWorkload } from '@strata/testing';

export const DAY = 86_400_000;
/** Tuesday 10 February 2026, 12:00 UTC: the analysis' windows end at the end of that day. */
export const NOW = Date.UTC(2026, 1, 10, 12, 0);
export const AS_OF = Date.UTC(2026, 1, 11);
/** The recent week: [RECENT_FROM, AS_OF). */
export const RECENT_FROM = AS_OF - 7 * DAY;
/** The 28 days before it: [BASELINE_FROM, RECENT_FROM). */
export const BASELINE_FROM = RECENT_FROM - 28 * DAY;

/** Shapes every generated event may be given. */
export type EventEdit = (event: InteractionInput, time: number) => void;

/**
 * Five weeks of the generator's steady traffic (about `perDay` events a day) ending an hour before
 * NOW, each event passed through `edit` first, so a test bends one part of it.
 */
export function steadyWorkload(options: { perDay?: number; seed?: number; edit?: EventEdit } = {}): InteractionInput[] {
  const days = 35;
  const start = NOW - days * DAY - 60 * 60_000;
  const events = [...generateWorkload({ events: days * (options.perDay ?? 400), seed: options.seed ?? 11, start, days, networkFields: false, idPrefix: 'steady' })];
  if (options.edit) for (const event of events) options.edit(event, timeOf(event));
  return events;
}

export function timeOf(event: InteractionInput): number {
  return typeof event.timestamp === 'number' ? event.timestamp : Date.parse(String(event.timestamp));
}

/**
 * `count` events of one question spread evenly over `[from, to)`, each a session of its own;
 * `shape` sets anything else (success, content, role) for the i-th.
 */
export function askedEvents(
  query: string,
  count: number,
  range: { from: number; to: number },
  shape: (index: number, event: InteractionInput) => void = () => undefined,
  prefix = slug(query),
): InteractionInput[] {
  return Array.from({ length: count }, (_, index) => {
    const event: InteractionInput = {
      eventId: `${prefix}-${index}`,
      sessionId: `${prefix}-session-${index}`,
      timestamp: range.from + Math.floor(((index + 0.5) * (range.to - range.from)) / count),
      userRole: 'software_engineer',
      query,
      queryType: 'technical',
      responseTime: 2,
      success: true,
      codeSnippetsShown: 0,
      citationsProvided: 0,
      conversationTurn: 1,
      followUpQuery: false,
    };
    shape(index, event);
    return event;
  });
}

/** A deterministic coin: true for about `share` of the calls. */
export function coin(seed: number): (share: number) => boolean {
  const random = createRandom(seed);
  return (share) => random.next() < share;
}

export const normalised = normalizeQuery;

function slug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '-').slice(0, 40);
}
