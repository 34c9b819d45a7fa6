import {
  DEFAULT_EVENT_LIMITS,
  InteractionSchema,
  ValidationError,
  createInteractionSchema,
  createInteractionValidator,
  deriveEventId,
  formatIssues,
  type Interaction,
  type Issue,
} from '@strata/core';
import { describe, expect, it } from 'vitest';
import { interaction } from './fixtures.js';

const NOW = Date.UTC(2025, 6, 1, 12);
const validate = createInteractionValidator(DEFAULT_EVENT_LIMITS, () => NOW);

function accepted(input: unknown): Interaction {
  const result = validate(input);
  if (!result.ok) throw new Error(`expected the interaction to be accepted, got: ${formatIssues(result.issues)}`);
  return result.value;
}

function issuesOf(input: unknown): Issue[] {
  const result = validate(input);
  if (result.ok) throw new Error('expected the interaction to be rejected');
  return result.issues;
}

function withoutField(field: string): Record<string, unknown> {
  const event = interaction();
  delete event[field];
  return event;
}

describe('valid interactions', () => {
  it('turns a complete interaction into its stored form with the timestamp in epoch ms', () => {
    const value = accepted(
      interaction({
        eventId: 'evt-1',
        responseLength: 420,
        codeSnippetsShown: 2,
        citationsProvided: 3,
        userRating: 5,
        followUpQuery: true,
        conversationTurn: 4,
        content: [{ type: 'code_snippet', id: 'snip-9', relevance: 0.8 }],
      }),
    );
    expect(value).toEqual({
      eventId: 'evt-1',
      sessionId: 'session-1',
      timestamp: Date.UTC(2025, 5, 1, 12),
      userRole: 'developer',
      query: 'How do I deploy a Node service?',
      queryType: 'technical',
      responseTime: 1.25,
      responseLength: 420,
      codeSnippetsShown: 2,
      citationsProvided: 3,
      success: true,
      userRating: 5,
      followUpQuery: true,
      conversationTurn: 4,
      ipHash: null,
      userAgentHash: null,
      content: [{ type: 'code_snippet', id: 'snip-9', relevance: 0.8 }],
    });
  });

  it('applies the defaults of every optional field that is absent', () => {
    const value = accepted(interaction());
    expect(value).toMatchObject({
      responseLength: null,
      codeSnippetsShown: 0,
      citationsProvided: 0,
      userRating: null,
      followUpQuery: false,
      conversationTurn: 1,
      content: [],
    });
  });

  it('accepts null for every optional field and applies the same defaults', () => {
    const value = accepted(
      interaction({
        eventId: null,
        responseLength: null,
        codeSnippetsShown: null,
        citationsProvided: null,
        userRating: null,
        followUpQuery: null,
        conversationTurn: null,
        ipAddress: null,
        userAgent: null,
        content: null,
      }),
    );
    expect(value).toMatchObject({ codeSnippetsShown: 0, citationsProvided: 0, conversationTurn: 1, followUpQuery: false, content: [], userRating: null });
    expect(value.eventId).toMatch(/^d-[0-9a-f]{32}$/);
  });

  it('accepts a content item whose relevance is null or absent', () => {
    const value = accepted(interaction({ content: [{ type: 'career_kb', id: 'kb-1', relevance: null }, { type: 'mma_link', id: 'l-2' }] }));
    expect(value.content).toEqual([
      { type: 'career_kb', id: 'kb-1', relevance: null },
      { type: 'mma_link', id: 'l-2', relevance: null },
    ]);
  });

  it('accepts epoch milliseconds as the timestamp', () => {
    expect(accepted(interaction({ timestamp: Date.UTC(2025, 0, 2) })).timestamp).toBe(Date.UTC(2025, 0, 2));
  });

  it('reads an ISO timestamp with an offset as the same instant in UTC', () => {
    expect(accepted(interaction({ timestamp: '2025-06-01T14:00:00+02:00' })).timestamp).toBe(Date.UTC(2025, 5, 1, 12));
  });

  it('keeps the eventId it was given', () => {
    expect(accepted(interaction({ eventId: 'caller-id-7' })).eventId).toBe('caller-id-7');
  });

  it('derives the same eventId every time for the same event sent without one', () => {
    const first = accepted(interaction());
    const second = accepted(interaction());
    expect(first.eventId).toMatch(/^d-[0-9a-f]{32}$/);
    expect(second.eventId).toBe(first.eventId);
    expect(deriveEventId(first)).toBe(first.eventId);
  });

  it('derives different eventIds for events that differ in query, session, time or turn', () => {
    const ids = new Set(
      [
        interaction(),
        interaction({ query: 'another question' }),
        interaction({ sessionId: 'session-2' }),
        interaction({ timestamp: '2025-06-01T12:00:01.000Z' }),
        interaction({ conversationTurn: 2 }),
      ].map((event) => accepted(event).eventId),
    );
    expect(ids.size).toBe(5);
  });

  it('ignores fields it does not know instead of storing them', () => {
    const value = accepted(interaction({ favouriteColour: 'blue' }));
    expect(value).not.toHaveProperty('favouriteColour');
  });

  it('accepts SQL in text fields and keeps it literally', () => {
    const sql = "'; DROP TABLE user_interactions; --";
    const value = accepted(interaction({ query: sql, sessionId: "s' OR '1'='1", userRole: 'admin"; DELETE FROM x; --' }));
    expect(value.query).toBe(sql);
    expect(value.sessionId).toBe("s' OR '1'='1");
    expect(value.userRole).toBe('admin"; DELETE FROM x; --');
  });

  it.each([
    ['emoji', 'How do I 🚀 deploy? 👩🏽‍💻'],
    ['right-to-left text', 'كيف أنشر تطبيقي؟ שלום'],
    ['combining characters', 'Zalgo: Z̵̢̛a̶l̷g̸o̴ and e\u0301'],
    ['a lone high surrogate', 'broken \ud800 pair'],
    ['a lone low surrogate', '\udc00 at the start'],
    ['zero-width and control characters', 'a\u200bb\u0000c\u202e'],
  ])('accepts a query with %s unchanged', (_what, query) => {
    expect(accepted(interaction({ query })).query).toBe(query);
  });

  it('accepts a query type added through limits.queryTypes', () => {
    const custom = createInteractionValidator({ ...DEFAULT_EVENT_LIMITS, queryTypes: [...DEFAULT_EVENT_LIMITS.queryTypes, 'billing'] }, () => NOW);
    expect(custom(interaction({ queryType: 'billing' })).ok).toBe(true);
  });

  it('accepts a timestamp inside the 24 h clock-skew allowance', () => {
    expect(accepted(interaction({ timestamp: NOW + 23 * 3_600_000 })).timestamp).toBe(NOW + 23 * 3_600_000);
  });

  it('exports a zod schema that parses what a caller sends', () => {
    const schema = createInteractionSchema(DEFAULT_EVENT_LIMITS, () => NOW);
    expect(schema.safeParse(interaction()).success).toBe(true);
    expect(InteractionSchema.safeParse(interaction({ userRating: 6 })).success).toBe(false);
  });
});

describe('rejected interactions', () => {
  it.each([
    ['an array', [], 'an array'],
    ['null', null, 'null'],
    ['a number', 42, 'a number'],
    ['a string', 'x', 'a string'],
    ['a boolean', true, 'a boolean'],
    ['nothing', undefined, 'nothing'],
  ])('rejects %s because an interaction must be a JSON object', (_what, input, described) => {
    expect(issuesOf(input)).toEqual([{ path: '', message: `an interaction must be a JSON object, got ${described}` }]);
  });

  it.each(['sessionId', 'timestamp', 'userRole', 'query', 'queryType', 'responseTime', 'success'])('names %s when it is missing', (field) => {
    expect(issuesOf(withoutField(field))).toEqual([{ path: field, message: 'is required' }]);
  });

  it('reports every missing required field at once', () => {
    expect(issuesOf({}).map((issue) => issue.path)).toEqual(['sessionId', 'timestamp', 'userRole', 'query', 'queryType', 'responseTime', 'success']);
  });

  it.each([
    ['sessionId', 42, 'sessionId: must be a string, got 42'],
    ['userRole', ['admin'], 'userRole: must be a string, got an array'],
    ['query', { text: 'hi' }, 'query: must be a string, got an object'],
    ['queryType', 7, 'queryType: must be one of technical, career, mma, fun, general, got 7'],
    ['queryType', 'weather', 'queryType: must be one of technical, career, mma, fun, general (add more with limits.queryTypes), got "weather"'],
    ['responseTime', '1.5', 'responseTime: must be a non-negative number of seconds, got "1.5"'],
    ['success', 'yes', 'success: must be true or false, got "yes"'],
    ['success', 1, 'success: must be true or false, got 1'],
    ['userRating', '5', 'userRating: must be an integer from 1 to 5, got "5"'],
    ['followUpQuery', 'no', 'followUpQuery: must be true or false, got "no"'],
    ['content', 'kb-1', 'content: must be an array of { type, id, relevance? }, got "kb-1"'],
    ['ipAddress', 127001, 'ipAddress: must be a string, got 127001'],
  ])('rejects %s of the wrong type (%j) with the field and what was sent', (field, value, message) => {
    expect(formatIssues(issuesOf(interaction({ [field]: value })))).toBe(message);
  });

  it.each([
    ['responseTime', -1, 'responseTime: must be a non-negative number of seconds, got -1'],
    ['userRating', 0, 'userRating: must be an integer from 1 to 5, got 0'],
    ['userRating', 6, 'userRating: must be an integer from 1 to 5, got 6'],
    ['userRating', 2.5, 'userRating: must be an integer from 1 to 5, got 2.5'],
    ['conversationTurn', 0, 'conversationTurn: must be an integer of 1 or more, got 0'],
    ['conversationTurn', 1.5, 'conversationTurn: must be an integer of 1 or more, got 1.5'],
    ['codeSnippetsShown', -2, 'codeSnippetsShown: must be a whole number of snippets (0 or more), got -2'],
    ['citationsProvided', 0.5, 'citationsProvided: must be a whole number of citations (0 or more), got 0.5'],
    ['responseLength', -10, 'responseLength: must be a whole number of characters (0 or more), got -10'],
  ])('rejects %s out of range (%j) with the rule and the value', (field, value, message) => {
    expect(formatIssues(issuesOf(interaction({ [field]: value })))).toBe(message);
  });

  it('names the content item whose relevance is out of range', () => {
    expect(formatIssues(issuesOf(interaction({ content: [{ type: 'kb', id: 'a' }, { type: 'kb', id: 'b', relevance: 1.5 }] })))).toBe(
      'content[1].relevance: must be a number from 0 to 1, got 1.5',
    );
  });

  it('reports problems in several fields together', () => {
    expect(issuesOf(interaction({ userRating: 6, responseTime: -1, success: 'yes' })).map((issue) => issue.path)).toEqual([
      'responseTime',
      'success',
      'userRating',
    ]);
  });

  it.each([
    ['a word', 'yesterday', 'must be an ISO-8601 date-time or epoch milliseconds, got "yesterday"'],
    ['an empty string', '', 'must be an ISO-8601 date-time or epoch milliseconds, got ""'],
    ['month 13', '2025-13-01T00:00:00Z', 'is not a real date-time, got "2025-13-01T00:00:00Z"'],
    ['February 30', '2025-02-30', 'is not a real date, got "2025-02-30"'],
    ['hour 25', '2025-01-01T25:00:00Z', 'is not a real date-time, got "2025-01-01T25:00:00Z"'],
    ['an object', { when: 'now' }, 'must be an ISO-8601 string or epoch milliseconds, got an object'],
    ['a boolean', true, 'must be an ISO-8601 string or epoch milliseconds, got a boolean'],
    ['null', null, 'must be an ISO-8601 string or epoch milliseconds, got null'],
    ['a date before 2000', '1999-12-31T23:59:59Z', 'must be after 2000-01-01, got "1999-12-31T23:59:59Z"'],
  ])('rejects a timestamp that is %s', (_what, timestamp, message) => {
    expect(issuesOf(interaction({ timestamp }))).toEqual([{ path: 'timestamp', message }]);
  });

  it('rejects a timestamp more than 24 h in the future', () => {
    const [issue] = issuesOf(interaction({ timestamp: NOW + 25 * 3_600_000 }));
    expect(issue).toEqual({ path: 'timestamp', message: `is more than 24 h in the future, got ${NOW + 25 * 3_600_000}` });
  });

  it('hints that a timestamp in seconds should be sent in milliseconds', () => {
    const [issue] = issuesOf(interaction({ timestamp: Math.floor(NOW / 1000) }));
    expect(issue?.path).toBe('timestamp');
    expect(issue?.message).toContain('this looks like seconds; send milliseconds');
  });

  it.each([
    ['eventId', 'eventId: must not be empty'],
    ['sessionId', 'sessionId: must not be empty'],
    ['userRole', 'userRole: must not be empty'],
    ['query', 'query: must not be empty'],
  ])('rejects an empty %s', (field, message) => {
    expect(formatIssues(issuesOf(interaction({ [field]: '' })))).toBe(message);
  });

  it('rejects a __proto__ key as JSON.parse produces it', () => {
    const input: unknown = JSON.parse(JSON.stringify(interaction()).replace('{', '{"__proto__":{"isAdmin":true},'));
    expect(issuesOf(input)).toEqual([{ path: '__proto__', message: 'is not an allowed field name' }]);
  });

  it('rejects constructor and prototype keys', () => {
    expect(issuesOf({ ...interaction(), constructor: { prototype: {} }, prototype: 1 }).map((issue) => issue.path)).toEqual(['constructor', 'prototype']);
  });

  it('rejects a __proto__ key inside a content item and names the item', () => {
    const input: unknown = JSON.parse(JSON.stringify(interaction({ content: [{ type: 'kb', id: 'a' }] })).replace('{"type"', '{"__proto__":{},"type"'));
    expect(issuesOf(input)).toEqual([{ path: 'content[0].__proto__', message: 'is not an allowed field name' }]);
  });

  it('does not pollute Object.prototype while validating a __proto__ key', () => {
    validate(JSON.parse('{"__proto__":{"polluted":true}}'));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('rejects a query over 32 KiB and names limits.maxQueryBytes', () => {
    expect(issuesOf(interaction({ query: 'x'.repeat(32 * 1024 + 1) }))).toEqual([
      { path: 'query', message: 'is 32769 bytes; the limit is 32768 bytes (limits.maxQueryBytes)' },
    ]);
  });

  it('accepts a query of exactly 32 KiB', () => {
    expect(accepted(interaction({ query: 'x'.repeat(32 * 1024) })).query).toHaveLength(32 * 1024);
  });

  it('counts the query limit in UTF-8 bytes, not characters', () => {
    const query = '€'.repeat(11_000); // 3 bytes each: 33,000 bytes in 11,000 characters
    expect(issuesOf(interaction({ query }))[0]?.message).toBe('is 33000 bytes; the limit is 32768 bytes (limits.maxQueryBytes)');
  });

  it('applies a configured limits.maxQueryBytes', () => {
    const strict = createInteractionValidator({ ...DEFAULT_EVENT_LIMITS, maxQueryBytes: 10 }, () => NOW);
    expect(strict(interaction({ query: '0123456789' })).ok).toBe(true);
    expect(strict(interaction({ query: '0123456789a' }))).toEqual({
      ok: false,
      issues: [{ path: 'query', message: 'is 11 bytes; the limit is 10 bytes (limits.maxQueryBytes)' }],
    });
  });

  it('rejects an eventId longer than 128 characters', () => {
    expect(formatIssues(issuesOf(interaction({ eventId: 'e'.repeat(129) })))).toBe('eventId: must be at most 128 characters');
  });

  it('rejects more than 200 content items', () => {
    const content = Array.from({ length: 201 }, (_, index) => ({ type: 'kb', id: `k${index}` }));
    expect(formatIssues(issuesOf(interaction({ content })))).toBe('content: must list at most 200 items');
  });

  it('rejects an object whose fields throw when read, instead of throwing', () => {
    const hostile = {
      ...interaction(),
      get sessionId(): string {
        throw new Error('getter exploded');
      },
    };
    expect(issuesOf(hostile)).toEqual([{ path: '', message: 'an interaction could not be read: getter exploded' }]);
  });

  it('formats a ValidationError message as field: reason pairs with a stable code', () => {
    const error = new ValidationError(issuesOf(interaction({ userRating: 6 })));
    expect(error.code).toBe('STRATA_VALIDATION_FAILED');
    expect(error.message).toBe('userRating: must be an integer from 1 to 5, got 6');
  });
});
