import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PSEUDONYM_FORMAT, createPseudonymiser, decodeKey, pseudonymInput, pseudonymWith, type PrivacyKey, type PrivacyKeyring, type PseudonymField } from '../src/index.js';

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

  it('keeps the pseudonyms already stored: known values give the same pseudonyms as when they were stored', () => {
    // Computed with the first implementation (createHmac per value); stored data joins on these.
    const longKey = decodeKey('b2'.repeat(80), 'long key');
    expect(pseudonymWith(keyA, 'sessionId', 'sess-42')).toBe('ps1.5c2f59bb.1n1guWj0xLpsfatrKLVhkD');
    expect(pseudonymWith(keyA, 'ipAddress', '::ffff:10.0.0.1')).toBe('ps1.5c2f59bb.7nFxiqwOtfF34_1icY5MnX');
    expect(pseudonymWith(keyA, 'userAgent', ' Mozilla/5.0 (X11; Linux x86_64) ')).toBe('ps1.5c2f59bb.LU9VFNlXR4bQAuFIT9qXcQ');
    expect(pseudonymWith(longKey, 'sessionId', 'sess-ünï-🚀')).toBe('ps1.bb891b88.IYDUsgzuL1lfPAsyzwA8fM');
    expect(pseudonymWith(longKey, 'userAgent', '')).toBe('ps1.bb891b88.uouxJpURohDSGvMRiOGnx0');
  });

  it('is HMAC-SHA-256 of the domain and value, as computed with createHmac, with or without the cache', () => {
    const reference = (key: PrivacyKey, field: PseudonymField, value: string) =>
      `ps1.${key.id}.${createHmac('sha256', key.secret).update(`strata/${field}\u0000${pseudonymInput(field, value)}`).digest('base64url').slice(0, 22)}`;
    const secrets = fc.oneof(fc.uint8Array({ minLength: 32, maxLength: 64 }), fc.uint8Array({ minLength: 65, maxLength: 200 }));
    const fields = fc.constantFrom<PseudonymField>('sessionId', 'ipAddress', 'userAgent');
    const values = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 80 }), fc.constantFrom('10.0.0.1', ' ::ffff:10.0.0.1 ', '2001:DB8::1', '[fe80::1]', '01.2.3.4', ''));
    fc.assert(
      fc.property(secrets, fc.array(fc.tuple(fields, values), { minLength: 1, maxLength: 20 }), (secret, inputs) => {
        const key = decodeKey(Buffer.from(secret).toString('hex'), 'random key');
        const cached = createPseudonymiser({ current: key, previous: [] }, { cacheSize: 4 });
        const uncached = createPseudonymiser({ current: key, previous: [] }, { cacheSize: 0 });
        for (const [field, value] of [...inputs, ...inputs]) {
          const expected = reference(key, field, value);
          expect(cached.pseudonymise(field, value)).toBe(expected);
          expect(uncached.pseudonymise(field, value)).toBe(expected);
          expect(pseudonymWith(key, field, value)).toBe(expected);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('tells pseudonyms from raw values of any length', () => {
    const pseudonymiser = createPseudonymiser(ringA);
    const pseudonym = pseudonymiser.pseudonymise('sessionId', 'sess-1');
    expect(pseudonymiser.isPseudonym(pseudonym)).toBe(true);
    expect(pseudonymiser.isPseudonym(`${pseudonym} `)).toBe(false);
    expect(pseudonymiser.isPseudonym(pseudonym.slice(0, -1))).toBe(false);
    expect(pseudonymiser.isPseudonym(`ps2${pseudonym.slice(3)}`)).toBe(false);
    expect(pseudonymiser.isPseudonym('')).toBe(false);
  });
});
