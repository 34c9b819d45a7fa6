import { describe, expect, it } from 'vitest';
import { createPseudonymCache } from '../src/pseudonymCache.js';

describe('createPseudonymCache', () => {
  it('remembers what it was given', () => {
    const cache = createPseudonymCache(10);
    cache.add('a', 'ps-a');
    expect(cache.get('a')).toBe('ps-a');
    expect(cache.get('b')).toBeUndefined();
  });

  it('holds at most its capacity: a value not used for a while leaves', () => {
    const cache = createPseudonymCache(4);
    for (let index = 0; index < 100; index += 1) cache.add(`v${index}`, `p${index}`);
    const held = Array.from({ length: 100 }, (_, index) => cache.get(`v${index}`)).filter((pseudonym) => pseudonym !== undefined);
    expect(held.length).toBeLessThanOrEqual(4);
    expect(cache.get('v99')).toBe('p99');
    expect(cache.get('v0')).toBeUndefined();
  });

  it('keeps a value in use while new values pass through', () => {
    const cache = createPseudonymCache(4);
    cache.add('popular', 'ps-popular');
    for (let index = 0; index < 50; index += 1) {
      if (cache.get(`rare-${index}`) === undefined) cache.add(`rare-${index}`, `ps-${index}`);
      expect(cache.get('popular')).toBe('ps-popular');
    }
  });

  it('remembers nothing with capacity 0', () => {
    const cache = createPseudonymCache(0);
    cache.add('a', 'ps-a');
    expect(cache.get('a')).toBeUndefined();
  });

  it('gives each value its own pseudonym from the recent values and the maps alike', () => {
    const withRecent = createPseudonymCache(6, 3);
    const values = ['a', 'b', 'c', 'd', 'a', 'e', 'f', 'g', 'a', 'b', 'h', 'i', 'a', 'j', 'k', 'l', 'm', 'b'];
    for (const value of values) {
      const found = withRecent.get(value);
      if (found === undefined) withRecent.add(value, `ps-${value}`);
      else expect(found).toBe(`ps-${value}`);
    }
    expect(withRecent.get('b')).toBe('ps-b');
    expect(withRecent.get('zzz')).toBeUndefined();
  });
});
