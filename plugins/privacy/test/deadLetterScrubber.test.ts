import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DeadLetterStore } from '@strata/core';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createPrivacy, createPrivacyProcessor, createPseudonymiser, decodeKey, scrubDeadLetterLine } from '../src/index.js';
import { temporaryDirectory } from './support.js';

const key = decodeKey('a1'.repeat(32), 'test key');
const pseudonymiser = createPseudonymiser({ current: key, previous: [] });
const processor = createPrivacyProcessor(createPrivacy({ pseudonymiser }));

const RAW = {
  sessionId: 'sess-bob-1987',
  query: 'Call me on +44 20 7946 0958 or bob.jones@example.com',
  ipAddress: '198.51.100.23',
  userAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) BobBrowser/1.0',
};

describe('dead-letter scrubbing', () => {
  it('scrubs a rejected JSON line as data: hashes for network fields, pseudonymous session, scrubbed text', () => {
    const line = JSON.stringify({ ...RAW, queryType: 'nonsense', responseTime: -1, content: [{ type: 'kb', id: 'x', note: 'card 4111 1111 1111 1111' }] });
    const scrubbed = JSON.parse(processor.scrubText(line)) as Record<string, unknown>;
    expect(scrubbed).not.toHaveProperty('ipAddress');
    expect(scrubbed).not.toHaveProperty('userAgent');
    expect(scrubbed.ipHash).toBe(pseudonymiser.pseudonymise('ipAddress', RAW.ipAddress));
    expect(scrubbed.userAgentHash).toBe(pseudonymiser.pseudonymise('userAgent', RAW.userAgent));
    expect(scrubbed.sessionId).toBe(pseudonymiser.pseudonymise('sessionId', RAW.sessionId));
    expect(scrubbed.query).toBe('Call me on <PHONE> or <EMAIL>');
    expect(scrubbed.queryType).toBe('nonsense');
    expect(JSON.stringify(scrubbed.content)).toContain('card <CARD>');
  });

  it('recognises identifier fields in nested objects too (an array of events passed to record)', () => {
    const scrubbed = processor.scrubText(JSON.stringify([RAW, { wrapper: RAW }]));
    for (const value of Object.values(RAW)) expect(scrubbed).not.toContain(value);
    expect(scrubbed).toContain(pseudonymiser.pseudonymise('userAgent', RAW.userAgent));
  });

  it('scrubs a truncated line as text, still replacing the identifier values it can see', () => {
    const line = JSON.stringify(RAW).slice(0, -12);
    const scrubbed = processor.scrubText(line);
    for (const value of [RAW.sessionId, RAW.ipAddress, 'BobBrowser', 'bob.jones@example.com', '7946 0958']) expect(scrubbed).not.toContain(value);
    expect(scrubbed).toContain(pseudonymiser.pseudonymise('ipAddress', RAW.ipAddress));
  });

  it('scrubs a reason sentence', () => {
    expect(processor.scrubText('line 3: sessionId: must be a string, got 4111111111111111 from jane@example.com')).toBe('line 3: sessionId: must be a string, got <CARD> from <EMAIL>');
  });

  it('returns text with findings in NFKC form, the form storage would fold it to', () => {
    expect(processor.scrubText('got "jane@example.com…"')).toBe('got "<EMAIL>..."');
  });

  it('without a key, drops network fields and replaces session ids', () => {
    const scrubbed = JSON.parse(scrubDeadLetterLine(JSON.stringify(RAW))) as Record<string, unknown>;
    expect(scrubbed).toEqual({ sessionId: '<SESSION>', query: 'Call me on <PHONE> or <EMAIL>' });
  });

  it('survives deeply nested JSON', () => {
    const deep = `${'['.repeat(20_000)}"bob.jones@example.com"${']'.repeat(20_000)}`;
    expect(processor.scrubText(deep)).not.toContain('bob.jones@example.com');
  });

  it('never throws, whatever the line', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 200 }), fc.json({ maxDepth: 4 }).map((json) => json)), (line) => {
        expect(typeof processor.scrubText(line)).toBe('string');
      }),
      { numRuns: 500 },
    );
  });

  describe('through the core DeadLetterStore', () => {
    let directory: ReturnType<typeof temporaryDirectory>;
    beforeEach(() => {
      directory = temporaryDirectory('dead-letter');
    });
    afterEach(() => directory.remove());

    it('leaves no raw value in the dead-letter file when the store is given the processor scrubber', async () => {
      const store = new DeadLetterStore(directory.path, () => Date.UTC(2026, 0, 2), (text) => processor.scrubText(text));
      store.append({ source: { kind: 'file', file: 'in.jsonl', line: 1 }, reason: `line 1: invalid interaction: got ${RAW.ipAddress}`, original: JSON.stringify(RAW) });
      store.append({ source: { kind: 'api', method: 'record' }, reason: 'not valid JSON', original: JSON.stringify(RAW).slice(0, 80), issues: [{ path: 'query', message: `got "${RAW.query}"` }] });
      await store.flush();
      const text = readdirSync(join(directory.path, 'dead-letter'))
        .map((file) => readFileSync(join(directory.path, 'dead-letter', file), 'utf8'))
        .join('');
      expect(text).toContain('invalid interaction');
      for (const value of [...Object.values(RAW), '+44 20 7946 0958', 'bob.jones@example.com']) expect(text).not.toContain(value);
    });
  });
});
