import type { EventLimits } from './interaction.js';
import { parseTimestamp } from './timestamp.js';

/** The fields of a valid interaction, as the zod schema outputs them (timestamp in epoch ms). */
export interface CheckedInteraction {
  eventId?: string | null;
  sessionId: string;
  timestamp: number;
  userRole: string;
  query: string;
  queryType: string;
  responseTime: number;
  responseLength?: number | null;
  codeSnippetsShown?: number | null;
  citationsProvided?: number | null;
  success: boolean;
  userRating?: number | null;
  followUpQuery?: boolean | null;
  conversationTurn?: number | null;
  ipAddress?: string | null;
  userAgent?: string | null;
  ipHash?: string | null;
  userAgentHash?: string | null;
  /** Fresh items in the stored form (`relevance` null when not given), so they can be stored as they are. */
  content?: Array<{ type: string; id: string; relevance: number | null }> | null;
}

const isText = (value: unknown, max: number): value is string => typeof value === 'string' && value.length >= 1 && value.length <= max;
const isAbsent = (value: unknown): value is null | undefined => value === undefined || value === null;
const isCount = (value: unknown): boolean => isAbsent(value) || (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0);
const isOptionalText = (value: unknown, max: number): boolean => isAbsent(value) || (typeof value === 'string' && value.length <= max);

/**
 * The common case without zod: returns the checked fields when the event is certainly valid, or
 * undefined when it is not (or might not be), in which case the zod schema runs and explains why.
 * It accepts nothing the schema rejects (a property test holds the two together); it exists
 * because validation runs for every event on the ingest path.
 */
export function checkInteractionFast(input: Record<string, unknown>, limits: EventLimits, queryTypes: ReadonlySet<string>, nowMs: number): CheckedInteraction | undefined {
  const { eventId, sessionId, timestamp, userRole, query, queryType, responseTime, success } = input;
  if (!(isAbsent(eventId) || isText(eventId, 128))) return undefined;
  if (!isText(sessionId, 256) || !isText(userRole, 64)) return undefined;
  if (typeof query !== 'string' || query.length === 0) return undefined;
  if (query.length * 3 > limits.maxQueryBytes && Buffer.byteLength(query, 'utf8') > limits.maxQueryBytes) return undefined;
  if (typeof queryType !== 'string' || !queryTypes.has(queryType)) return undefined;
  if (typeof responseTime !== 'number' || !Number.isFinite(responseTime) || responseTime < 0) return undefined;
  if (typeof success !== 'boolean') return undefined;
  const { responseLength, codeSnippetsShown, citationsProvided, userRating, followUpQuery, conversationTurn, ipAddress, userAgent, ipHash, userAgentHash, content } = input;
  if (!isCount(responseLength) || !isCount(codeSnippetsShown) || !isCount(citationsProvided)) return undefined;
  if (!(isAbsent(userRating) || (typeof userRating === 'number' && Number.isSafeInteger(userRating) && userRating >= 1 && userRating <= 5))) return undefined;
  if (!(isAbsent(followUpQuery) || typeof followUpQuery === 'boolean')) return undefined;
  if (!(isAbsent(conversationTurn) || (typeof conversationTurn === 'number' && Number.isSafeInteger(conversationTurn) && conversationTurn >= 1))) return undefined;
  if (!isOptionalText(ipAddress, 1024) || !isOptionalText(userAgent, 1024)) return undefined;
  if (!isOptionalText(ipHash, 128) || !isOptionalText(userAgentHash, 128)) return undefined;
  let items: CheckedInteraction['content'];
  if (!isAbsent(content)) {
    if (!Array.isArray(content) || content.length > 200) return undefined;
    items = [];
    for (const item of content as unknown[]) {
      if (typeof item !== 'object' || item === null || Array.isArray(item)) return undefined;
      const { type, id, relevance } = item as Record<string, unknown>;
      if (!isText(type, 64) || !isText(id, 256)) return undefined;
      if (!(isAbsent(relevance) || (typeof relevance === 'number' && relevance >= 0 && relevance <= 1))) return undefined;
      items.push({ type, id, relevance: (relevance as number | null | undefined) ?? null });
    }
  }
  const time = parseTimestamp(timestamp, nowMs, limits.maxFutureMs);
  if (!time.ok) return undefined;
  return {
    eventId: eventId as string | null | undefined,
    sessionId,
    timestamp: time.ms,
    userRole,
    query,
    queryType,
    responseTime,
    responseLength: responseLength as number | null | undefined,
    codeSnippetsShown: codeSnippetsShown as number | null | undefined,
    citationsProvided: citationsProvided as number | null | undefined,
    success,
    userRating: userRating as number | null | undefined,
    followUpQuery: followUpQuery as boolean | null | undefined,
    conversationTurn: conversationTurn as number | null | undefined,
    ipAddress: ipAddress as string | null | undefined,
    userAgent: userAgent as string | null | undefined,
    ipHash: ipHash as string | null | undefined,
    userAgentHash: userAgentHash as string | null | undefined,
    content: items ?? (content as null | undefined),
  };
}
