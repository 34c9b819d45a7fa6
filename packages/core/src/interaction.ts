import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Issue } from './errors.js';
import { describeType, parseTimestamp, preview } from './timestamp.js';
import { checkInteractionFast, type CheckedInteraction } from './fastInteraction.js';

/** The query types every installation knows; config may add more. */
export const DEFAULT_QUERY_TYPES = ['technical', 'career', 'mma', 'fun', 'general'] as const;

/** Limits applied to every incoming event. */
export interface EventLimits {
  /** Largest `query` accepted, in UTF-8 bytes. Default 32 KiB. */
  maxQueryBytes: number;
  /** How far in the future a timestamp may be (clock skew allowance), in ms. Default 24 h. */
  maxFutureMs: number;
  /** Accepted values of `queryType`. */
  queryTypes: readonly string[];
}

export const DEFAULT_EVENT_LIMITS: EventLimits = {
  maxQueryBytes: 32 * 1024,
  maxFutureMs: 24 * 3_600_000,
  queryTypes: DEFAULT_QUERY_TYPES,
};

type IssueInput = { input?: unknown };
/** Error text for a field: "is required" when absent, otherwise the rule and what was sent. */
const rule = (text: string) => (issue: IssueInput) =>
  issue.input === undefined ? 'is required' : `${text}, got ${preview(issue.input)}`;

const text = (max: number) =>
  z.string({ error: rule(`must be a string`) }).min(1, { error: 'must not be empty' }).max(max, { error: `must be at most ${max} characters` });

const count = (name: string) =>
  z
    .number({ error: rule(`must be a whole number of ${name} (0 or more)`) })
    .int({ error: rule(`must be a whole number of ${name} (0 or more)`) })
    .min(0, { error: rule(`must be a whole number of ${name} (0 or more)`) });

/** A knowledge item used to answer: a career knowledge-base entry, a code snippet, a link. */
export const ContentRefSchema = z.object({
  type: text(64),
  id: text(256),
  relevance: z
    .number({ error: rule('must be a number from 0 to 1') })
    .min(0, { error: rule('must be a number from 0 to 1') })
    .max(1, { error: rule('must be a number from 0 to 1') })
    .nullish(),
});

/**
 * Builds the schema of an incoming interaction for the given limits and clock.
 * The schema checks shape and ranges; `normalizeInteraction` turns its output into the stored form.
 */
export function createInteractionSchema(limits: EventLimits = DEFAULT_EVENT_LIMITS, now: () => number = Date.now) {
  const queryTypes = new Set(limits.queryTypes);
  return z.object({
    eventId: text(128).nullish(),
    sessionId: text(256),
    timestamp: z.unknown().transform((value, ctx) => {
      if (value === undefined) {
        ctx.issues.push({ code: 'custom', message: 'is required', input: value });
        return z.NEVER;
      }
      const parsed = parseTimestamp(value, now(), limits.maxFutureMs);
      if (!parsed.ok) {
        ctx.issues.push({ code: 'custom', message: parsed.reason, input: value });
        return z.NEVER;
      }
      return parsed.ms;
    }),
    userRole: text(64),
    query: z
      .string({ error: rule('must be a string') })
      .min(1, { error: 'must not be empty' })
      .check((ctx) => {
        // Cheap pre-check: a string can only exceed the byte limit if 3 bytes per char could.
        if (ctx.value.length * 3 <= limits.maxQueryBytes) return;
        const bytes = Buffer.byteLength(ctx.value, 'utf8');
        if (bytes > limits.maxQueryBytes) {
          ctx.issues.push({
            code: 'custom',
            message: `is ${bytes} bytes; the limit is ${limits.maxQueryBytes} bytes (limits.maxQueryBytes)`,
            input: ctx.value,
          });
        }
      }),
    queryType: z.string({ error: rule(`must be one of ${[...queryTypes].join(', ')}`) }).refine((v) => queryTypes.has(v), {
      error: (issue) => `must be one of ${[...queryTypes].join(', ')} (add more with limits.queryTypes), got ${preview(issue.input)}`,
    }),
    responseTime: z
      .number({ error: rule('must be a non-negative number of seconds') })
      .min(0, { error: rule('must be a non-negative number of seconds') }),
    responseLength: count('characters').nullish(),
    codeSnippetsShown: count('snippets').nullish(),
    citationsProvided: count('citations').nullish(),
    success: z.boolean({ error: rule('must be true or false') }),
    userRating: z
      .number({ error: rule('must be an integer from 1 to 5') })
      .int({ error: rule('must be an integer from 1 to 5') })
      .min(1, { error: rule('must be an integer from 1 to 5') })
      .max(5, { error: rule('must be an integer from 1 to 5') })
      .nullish(),
    followUpQuery: z.boolean({ error: rule('must be true or false') }).nullish(),
    conversationTurn: z
      .number({ error: rule('must be an integer of 1 or more') })
      .int({ error: rule('must be an integer of 1 or more') })
      .min(1, { error: rule('must be an integer of 1 or more') })
      .nullish(),
    ipAddress: z.string({ error: rule('must be a string') }).max(1024, { error: 'must be at most 1024 characters' }).nullish(),
    userAgent: z.string({ error: rule('must be a string') }).max(1024, { error: 'must be at most 1024 characters' }).nullish(),
    // The stored forms, as exports carry them: re-importing keeps them (the privacy processor
    // re-pseudonymises any value that is not one of its own pseudonyms).
    ipHash: z.string({ error: rule('must be a string') }).max(128, { error: 'must be at most 128 characters' }).nullish(),
    userAgentHash: z.string({ error: rule('must be a string') }).max(128, { error: 'must be at most 128 characters' }).nullish(),
    content: z
      .array(ContentRefSchema, { error: rule('must be an array of { type, id, relevance? }') })
      .max(200, { error: 'must list at most 200 items' })
      .nullish(),
  });
}

/** The interaction schema with the default limits and the system clock. */
export const InteractionSchema = createInteractionSchema();

/** What a caller sends: timestamps as ISO strings or epoch ms, optional fields may be absent or null. */
export type InteractionInput = z.input<ReturnType<typeof createInteractionSchema>>;

/** A knowledge item used for an answer. */
export interface ContentRef {
  type: string;
  id: string;
  relevance: number | null;
}

/**
 * An interaction as it flows through the pipeline and is stored: defaults applied, timestamp in
 * epoch ms, `eventId` always set. `ipAddress` and `userAgent` exist only in flight: the pipeline
 * removes them before anything is stored (a privacy processor turns them into keyed hashes first).
 */
export interface Interaction {
  eventId: string;
  sessionId: string;
  timestamp: number;
  userRole: string;
  query: string;
  queryType: string;
  responseTime: number;
  responseLength: number | null;
  codeSnippetsShown: number;
  citationsProvided: number;
  success: boolean;
  userRating: number | null;
  followUpQuery: boolean;
  conversationTurn: number;
  ipHash: string | null;
  userAgentHash: string | null;
  content: ContentRef[];
  ipAddress?: string;
  userAgent?: string;
}

type ParsedInteraction = z.output<ReturnType<typeof createInteractionSchema>>;

/** Keys that could reach an object's prototype if a consumer merged the event naively. */
const FORBIDDEN_KEYS = ['__proto__', 'constructor', 'prototype'];

export type ValidationResult<T> = { ok: true; value: T } | { ok: false; issues: Issue[] };

/** Builds a validator for interactions: shape, ranges, limits, then the normalised stored form. */
export function createInteractionValidator(limits: EventLimits = DEFAULT_EVENT_LIMITS, now: () => number = Date.now) {
  const schema = createInteractionSchema(limits, now);
  const queryTypes = new Set(limits.queryTypes);
  return function validateInteraction(input: unknown): ValidationResult<Interaction> {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      return { ok: false, issues: [{ path: '', message: `an interaction must be a JSON object, got ${describeType(input)}` }] };
    }
    try {
      const forbidden = findForbiddenKeys(input as Record<string, unknown>);
      if (forbidden.length > 0) return { ok: false, issues: forbidden };
      const fast = checkInteractionFast(input as Record<string, unknown>, limits, queryTypes, now());
      // The fast check built fresh content items already in the stored form.
      if (fast) return { ok: true, value: normalizeInteraction(fast, fast.content ?? []) };
      const parsed = schema.safeParse(input, { reportInput: true });
      if (!parsed.success) {
        return { ok: false, issues: parsed.error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message })) };
      }
      return { ok: true, value: normalizeInteraction(parsed.data, storedContent(parsed.data.content)) };
    } catch (error) {
      // A getter or proxy that throws while being read is bad data too: `record` must never throw.
      return { ok: false, issues: [unreadable('an interaction', error)] };
    }
  };
}

/** The issue for a value whose fields threw while being read. */
export function unreadable(what: string, error: unknown): Issue {
  return { path: '', message: `${what} could not be read: ${error instanceof Error ? error.message : String(error)}` };
}

/** Issues for own keys that could reach an object's prototype (at the top level and in `content` items). */
export function findForbiddenKeys(input: Record<string, unknown>): Issue[] {
  // Runs for every event: the list is only allocated once something is found.
  let issues: Issue[] | undefined;
  for (const key of FORBIDDEN_KEYS) {
    if (Object.prototype.hasOwnProperty.call(input, key)) (issues ??= []).push({ path: key, message: 'is not an allowed field name' });
  }
  const content = input.content;
  if (Array.isArray(content)) {
    for (let index = 0; index < content.length; index += 1) {
      const item: unknown = content[index];
      if (typeof item !== 'object' || item === null) continue;
      for (const key of FORBIDDEN_KEYS) {
        if (Object.prototype.hasOwnProperty.call(item, key)) (issues ??= []).push({ path: `content[${index}].${key}`, message: 'is not an allowed field name' });
      }
    }
  }
  return issues ?? [];
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}

/** Content items in the stored form: `relevance` always present, null when not given. */
function storedContent(items: ParsedInteraction['content']): ContentRef[] {
  return (items ?? []).map((item) => ({ type: item.type, id: item.id, relevance: item.relevance ?? null }));
}

function normalizeInteraction(parsed: ParsedInteraction | CheckedInteraction, content: ContentRef[]): Interaction {
  const interaction: Interaction = {
    eventId: '',
    sessionId: parsed.sessionId,
    timestamp: parsed.timestamp,
    userRole: parsed.userRole,
    query: parsed.query,
    queryType: parsed.queryType,
    responseTime: parsed.responseTime,
    responseLength: parsed.responseLength ?? null,
    codeSnippetsShown: parsed.codeSnippetsShown ?? 0,
    citationsProvided: parsed.citationsProvided ?? 0,
    success: parsed.success,
    userRating: parsed.userRating ?? null,
    followUpQuery: parsed.followUpQuery ?? false,
    conversationTurn: parsed.conversationTurn ?? 1,
    ipHash: parsed.ipHash ?? null,
    userAgentHash: parsed.userAgentHash ?? null,
    content,
  };
  if (parsed.ipAddress) interaction.ipAddress = parsed.ipAddress;
  if (parsed.userAgent) interaction.userAgent = parsed.userAgent;
  interaction.eventId = parsed.eventId ?? deriveEventId(interaction);
  return interaction;
}

/**
 * An event sent without `eventId` gets one derived from what identifies it (session, time, turn,
 * query), so re-sending the same file stores each event once even when the producer has no ids.
 */
export function deriveEventId(event: Pick<Interaction, 'sessionId' | 'timestamp' | 'conversationTurn' | 'query' | 'userRole'>): string {
  const hash = createHash('sha256');
  hash.update(`${event.sessionId}\u0000${event.timestamp}\u0000${event.conversationTurn}\u0000${event.userRole}\u0000${event.query}`);
  return `d-${hash.digest('hex').slice(0, 32)}`;
}
