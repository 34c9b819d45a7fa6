import type { Interaction } from '@strata/core';
import { describe, expect, it } from 'vitest';
import { PSEUDONYM_FORMAT, createPrivacy, createPrivacyProcessor, createPseudonymiser, createScrubber, decodeKey } from '../src/index.js';

const key = decodeKey('a1'.repeat(32), 'test key');
const pseudonymiser = createPseudonymiser({ current: key, previous: [] });

function interaction(overrides: Partial<Interaction> = {}): Interaction {
  return {
    eventId: 'ev-1',
    sessionId: 'sess-alice',
    timestamp: Date.UTC(2026, 0, 1),
    userRole: 'recruiter',
    query: 'Email me at alice@example.com about the role',
    queryType: 'career',
    responseTime: 1.2,
    responseLength: 300,
    codeSnippetsShown: 0,
    citationsProvided: 1,
    success: true,
    userRating: null,
    followUpQuery: false,
    conversationTurn: 1,
    ipHash: null,
    userAgentHash: null,
    content: [{ type: 'career_kb', id: 'kb/alice@example.com', relevance: 0.9 }],
    ipAddress: '203.0.113.77',
    userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/127.0',
    ...overrides,
  };
}

describe('privacy processor', () => {
  const processor = createPrivacyProcessor(createPrivacy({ pseudonymiser }));

  it('fills ipHash and userAgentHash, deletes the raw fields and pseudonymises the session', () => {
    const [event] = processor.process([interaction()]).events as Interaction[];
    expect(event).not.toHaveProperty('ipAddress');
    expect(event).not.toHaveProperty('userAgent');
    expect(event!.ipHash).toBe(pseudonymiser.pseudonymise('ipAddress', '203.0.113.77'));
    expect(event!.userAgentHash).toBe(pseudonymiser.pseudonymise('userAgent', 'Mozilla/5.0 (X11; Linux x86_64) Firefox/127.0'));
    expect(event!.sessionId).toMatch(PSEUDONYM_FORMAT);
    expect(event!.sessionId).toBe(pseudonymiser.pseudonymise('sessionId', 'sess-alice'));
  });

  it('keeps stored-form hashes that are its own pseudonyms and pseudonymises anything else in those fields', () => {
    const own = pseudonymiser.pseudonymise('ipAddress', '198.51.100.4');
    const [kept] = processor.process([interaction({ ipAddress: undefined, userAgent: undefined, ipHash: own, userAgentHash: null })]).events as Interaction[];
    expect(kept!.ipHash).toBe(own);
    const [raw] = processor.process([interaction({ ipAddress: undefined, userAgent: undefined, ipHash: '198.51.100.4', userAgentHash: 'curl/8.0' })]).events as Interaction[];
    expect(raw!.ipHash).toBe(pseudonymiser.pseudonymise('ipAddress', '198.51.100.4'));
    expect(raw!.userAgentHash).toBe(pseudonymiser.pseudonymise('userAgent', 'curl/8.0'));
  });

  it('scrubs the query but, by default, not content ids', () => {
    const [event] = processor.process([interaction()]).events as Interaction[];
    expect(event!.query).toBe('Email me at <EMAIL> about the role');
    expect(event!.content[0]!.id).toBe('kb/alice@example.com');
  });

  it('scrubs content ids when configured to', () => {
    const scrubbing = createPrivacyProcessor(createPrivacy({ pseudonymiser, fields: ['query', 'content.id'] }));
    const [event] = scrubbing.process([interaction()]).events as Interaction[];
    expect(event!.content[0]!.id).toBe('kb/<EMAIL>');
  });

  it('leaves a session id alone when asked to, and one that is already a pseudonym of a known key', () => {
    const keeping = createPrivacyProcessor(createPrivacy({ pseudonymiser, pseudonymiseSessionId: false }));
    expect((keeping.process([interaction()]).events[0] as Interaction).sessionId).toBe('sess-alice');
    const stored = pseudonymiser.pseudonymise('sessionId', 'sess-alice');
    expect((processor.process([interaction({ sessionId: stored })]).events[0] as Interaction).sessionId).toBe(stored);
  });

  it('leaves hashes null when the event has no network fields', () => {
    const bare = interaction();
    delete bare.ipAddress;
    delete bare.userAgent;
    const [event] = processor.process([bare]).events as Interaction[];
    expect(event!.ipHash).toBeNull();
    expect(event!.userAgentHash).toBeNull();
  });

  it('rejects an event it cannot scrub instead of storing it, without its raw fields', () => {
    const unreadable = interaction({ eventId: 'ev-bad' });
    // Reading the query throws until something is written to it (as the processor does when it rejects).
    let replaced: string | undefined;
    Object.defineProperty(unreadable, 'query', {
      configurable: true,
      enumerable: true,
      get: () => {
        if (replaced === undefined) throw new Error('query getter failed');
        return replaced;
      },
      set: (value: string) => {
        replaced = value;
      },
    });
    const result = processor.process([interaction({ eventId: 'ev-ok' }), unreadable]);
    expect(result.events.map((event) => event.eventId)).toEqual(['ev-ok']);
    expect(result.rejected).toHaveLength(1);
    expect(result.rejected![0]!.reason).toMatch(/could not scrub the event, so it was not stored \(query getter failed\)/);
    const stored = JSON.stringify(result.rejected![0]!.event);
    expect(stored).not.toContain('203.0.113.77');
    expect(stored).not.toContain('sess-alice');
    expect(stored).not.toContain('Firefox');
  });

  it('maps a session id to its stored forms for erasure', () => {
    expect(processor.storedSessionIds('sess-alice')).toEqual([pseudonymiser.pseudonymise('sessionId', 'sess-alice')]);
  });

  it('uses the custom recognisers of its scrubber', () => {
    const custom = createPrivacyProcessor(
      createPrivacy({ pseudonymiser, scrubber: createScrubber({ recognisers: [{ name: 'employee-id', pattern: '\\bEMP-\\d{6}\\b' }] }) }),
    );
    expect((custom.process([interaction({ query: 'Is EMP-004512 on leave?' })]).events[0] as Interaction).query).toBe('Is <EMPLOYEE_ID> on leave?');
  });
});
