import { createFakeClock } from '@strata/testing';
import { describe, expect, it } from 'vitest';
import { approximateBytes, createMemoryCacheStore } from '../src/index.js';

const MINUTE = 60_000;
const options = (tags: string[] = [], ttlMs = 5 * MINUTE) => ({ ttlMs, tags });

describe('memory cache store', () => {
  it('holds at most maxEntries, evicting the least recently used and counting each eviction', async () => {
    const store = createMemoryCacheStore({ maxEntries: 3, clock: createFakeClock() });
    for (const key of ['a', 'b', 'c']) await store.set(key, { key }, options());
    await store.get('a'); // a is now the most recently used: b goes first
    await store.set('d', { key: 'd' }, options());
    await store.set('e', { key: 'e' }, options());
    expect(await store.get('b')).toBeUndefined();
    expect(await store.get('c')).toBeUndefined();
    expect(await store.get('a')).toEqual({ key: 'a' });
    expect(await store.get('e')).toEqual({ key: 'e' });
    expect(store.stats()).toEqual({ hits: 3, misses: 2, evictions: 2, errors: 0, entries: 3 });
  });

  it('keeps its approximate size within maxBytes', async () => {
    const value = { text: 'x'.repeat(1_000) };
    const entryBytes = approximateBytes('k00', JSON.stringify(value), ['t']);
    const store = createMemoryCacheStore({ maxEntries: 1_000, maxBytes: entryBytes * 4, clock: createFakeClock() });
    for (let index = 0; index < 10; index += 1) await store.set(`k0${index}`, value, options(['t']));
    expect(store.stats()).toMatchObject({ entries: 4, evictions: 6 });
    expect(await store.get('k09')).toEqual(value);
    expect(await store.get('k00')).toBeUndefined();
  });

  it('stores nothing larger than the whole byte budget, and evicts nothing for it', async () => {
    const store = createMemoryCacheStore({ maxBytes: 64 * 1024, clock: createFakeClock() });
    await store.set('small', { ok: true }, options(['t']));
    await store.set('huge', { text: 'x'.repeat(64 * 1024) }, options(['t']));
    expect(await store.get('huge')).toBeUndefined();
    expect(await store.get('small')).toEqual({ ok: true });
    expect(store.stats().evictions).toBe(0);
  });

  it('expires each entry at its own TTL on the injected clock', async () => {
    const clock = createFakeClock();
    const store = createMemoryCacheStore({ clock });
    await store.set('short', 1, options([], MINUTE));
    await store.set('long', 2, options([], 10 * MINUTE));
    // Fresh through its TTL (as in Redis), gone a millisecond later.
    clock.advance(MINUTE);
    expect(await store.get('short')).toBe(1);
    clock.advance(1);
    expect(await store.get('short')).toBeUndefined();
    expect(await store.get('long')).toBe(2);
    clock.advance(9 * MINUTE);
    expect(await store.get('long')).toBeUndefined();
  });

  it('does not count expired entries pushed out for room as evictions', async () => {
    const clock = createFakeClock();
    const store = createMemoryCacheStore({ maxEntries: 2, clock });
    await store.set('a', 1, options([], MINUTE));
    await store.set('b', 2, options([], MINUTE));
    clock.advance(2 * MINUTE);
    await store.set('c', 3, options());
    await store.set('d', 4, options());
    expect(store.stats().evictions).toBe(0);
    await store.set('e', 5, options());
    expect(store.stats().evictions).toBe(1);
  });

  it('invalidating a tag removes only the entries carrying it', async () => {
    const store = createMemoryCacheStore({ clock: createFakeClock() });
    await store.set('day-10', 10, options(['businessMetrics', 'businessMetrics@2026-03-10']));
    await store.set('day-11', 11, options(['businessMetrics', 'businessMetrics@2026-03-11']));
    await store.set('both', 12, options(['businessMetrics@2026-03-10', 'businessMetrics@2026-03-11']));
    await store.invalidateTags(['businessMetrics@2026-03-10', 'unknown-tag']);
    expect(await store.get('day-10')).toBeUndefined();
    expect(await store.get('both')).toBeUndefined();
    expect(await store.get('day-11')).toBe(11);
    await store.invalidateTags(['businessMetrics']);
    expect(await store.get('day-11')).toBeUndefined();
    expect(store.stats().entries).toBe(0);
  });

  it('indexes a replaced entry by its new tags only', async () => {
    const store = createMemoryCacheStore({ clock: createFakeClock() });
    await store.set('k', 'old', options(['old', 'shared']));
    await store.set('k', 'new', options(['new', 'shared']));
    await store.invalidateTags(['old']);
    expect(await store.get('k')).toBe('new');
    await store.invalidateTags(['shared']);
    expect(await store.get('k')).toBeUndefined();
    await store.set('k', 'again', options(['new']));
    await store.invalidateTags(['new']);
    expect(await store.get('k')).toBeUndefined();
  });

  it('gives each reader its own copy, so a caller mutating an answer cannot change the cache', async () => {
    const store = createMemoryCacheStore({ clock: createFakeClock() });
    const value = { items: [{ asks: 3 }] };
    await store.set('k', value, options());
    value.items[0]!.asks = 100;
    const first = await store.get<typeof value>('k');
    first!.items[0]!.asks = 200;
    expect(await store.get('k')).toEqual({ items: [{ asks: 3 }] });
  });

  it('ignores entries with no TTL left and values JSON cannot hold', async () => {
    const store = createMemoryCacheStore({ clock: createFakeClock() });
    await store.set('zero', 1, options([], 0));
    await store.set('undefined', undefined, options());
    expect(await store.get('zero')).toBeUndefined();
    expect(await store.get('undefined')).toBeUndefined();
    expect(store.stats().entries).toBe(0);
  });

  it('is empty after close', async () => {
    const store = createMemoryCacheStore({ clock: createFakeClock() });
    await store.set('k', 1, options(['t']));
    await store.close();
    expect(await store.get('k')).toBeUndefined();
    await store.close();
  });
});
