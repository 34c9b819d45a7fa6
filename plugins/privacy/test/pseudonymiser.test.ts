import { describe, expect, it } from 'vitest';
import { PSEUDONYM_FORMAT, createPseudonymiser, decodeKey, pseudonymWith, type PrivacyKeyring } from '../src/index.js';

const keyA = decodeKey('a1'.repeat(32), 'A');
const keyB = decodeKey('b2'.repeat(32), 'B');
const ringA: PrivacyKeyring = { current: keyA, previous: [] };

describe('pseudonymiser', () => {
  it('is deterministic: the same value and key give the same pseudonym, with or without the cache', () => {
    const cached = createPseudonymiser(ringA);
    const uncached = createPseudonymiser(ringA, { cacheSize: 0 });
    const first = cached.pseudonymise('sessionId', 'sess-42');
    expect(cached.pseudonymise('sessionId', 'sess-42')).toBe(first);
    expect(uncached.pseudonymise('sessionId', 'sess-42')).toBe(first);
    expect(first).toMatch(PSEUDONYM_FORMAT);
  });

  it('is a keyed HMAC: another key gives an unrelated pseudonym, tagged with its key id', () => {
    const underA = pseudonymWith(keyA, 'ipAddress', '203.0.113.7');
    const underB = pseudonymWith(keyB, 'ipAddress', '203.0.113.7');
    expect(underA).not.toBe(underB);
    expect(underA.startsWith(`ps1.${keyA.id}.`)).toBe(true);
    expect(underB.startsWith(`ps1.${keyB.id}.`)).toBe(true);
    expect(underA.slice(-22)).not.toBe(underB.slice(-22));
  });

  it('separates fields: equal text in two fields gets two pseudonyms', () => {
    const pseudonymiser = createPseudonymiser(ringA);
    expect(pseudonymiser.pseudonymise('sessionId', 'x')).not.toBe(pseudonymiser.pseudonymise('userAgent', 'x'));
  });

  it('is not a plain hash of the value', async () => {
    const { createHash } = await import('node:crypto');
    const pseudonym = pseudonymWith(keyA, 'sessionId', 's');
    for (const input of ['s', 'strata/sessionId\u0000s']) {
      expect(pseudonym).not.toContain(createHash('sha256').update(input).digest('base64url').slice(0, 22));
    }
  });

  it('gives one address one pseudonym however it is written', () => {
    const pseudonymiser = createPseudonymiser(ringA);
    expect(pseudonymiser.pseudonymise('ipAddress', '::ffff:10.0.0.1')).toBe(pseudonymiser.pseudonymise('ipAddress', '10.0.0.1'));
    expect(pseudonymiser.pseudonymise('ipAddress', '2001:DB8::1')).toBe(pseudonymiser.pseudonymise('ipAddress', '2001:db8:0:0:0:0:0:1'));
  });

  it('after a rotation, lists the pseudonyms under the new and the previous key for lookups', () => {
    const rotated = createPseudonymiser({ current: keyB, previous: [keyA] });
    expect(rotated.keyId).toBe(keyB.id);
    expect(rotated.candidates('sessionId', 'sess-1')).toEqual([pseudonymWith(keyB, 'sessionId', 'sess-1'), pseudonymWith(keyA, 'sessionId', 'sess-1')]);
  });

  it('recognises pseudonyms of known keys only', () => {
    const rotated = createPseudonymiser({ current: keyB, previous: [keyA] });
    expect(rotated.isPseudonym(pseudonymWith(keyA, 'sessionId', 'x'))).toBe(true);
    expect(rotated.isPseudonym(pseudonymWith(keyB, 'sessionId', 'x'))).toBe(true);
    expect(createPseudonymiser(ringA).isPseudonym(pseudonymWith(keyB, 'sessionId', 'x'))).toBe(false);
    expect(rotated.isPseudonym('sess-1')).toBe(false);
  });

  it('gives the same pseudonym after a value has left its bounded cache', () => {
    const pseudonymiser = createPseudonymiser(ringA, { cacheSize: 2 });
    const first = pseudonymiser.pseudonymise('userAgent', 'a');
    pseudonymiser.pseudonymise('userAgent', 'b');
    pseudonymiser.pseudonymise('userAgent', 'c');
    expect(pseudonymiser.pseudonymise('userAgent', 'a')).toBe(first);
  });
});
