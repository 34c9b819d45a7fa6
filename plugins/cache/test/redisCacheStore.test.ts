import { randomUUID } from 'node:crypto';
import { createClient } from '@redis/client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RedisCacheStore, createRedisCacheStore, type RedisConnection } from '../src/index.js';
import { SHARED_REDIS_PORT, recordingLogger, sharedRedisUnavailable } from './helpers.js';

const URL = `redis://127.0.0.1:${SHARED_REDIS_PORT}`;
const MINUTE = 60_000;
const reason = await sharedRedisUnavailable();

describe.skipIf(reason !== undefined)('redis cache store (shared server)', () => {
  const raw = createClient({ url: URL });
  const stores: RedisCacheStore[] = [];
  let prefix: string;

  beforeAll(async () => {
    await raw.connect();
  });

  afterAll(async () => {
    await raw.close();
  });

  afterEach(async () => {
    await Promise.all(stores.splice(0).map((store) => store.close()));
    for await (const keys of raw.scanIterator({ MATCH: `${prefix}*`, COUNT: 1_000 })) if (keys.length > 0) await raw.unlink(keys);
  });

  async function openStore(): Promise<RedisCacheStore> {
    prefix = `strata-test:${randomUUID()}:`;
    const store = await createRedisCacheStore({ url: URL, keyPrefix: prefix, connectTimeoutMs: 2_000, commandTimeoutMs: 2_000, logger: recordingLogger().logger });
    stores.push(store);
    expect(await store.connect()).toBe(true);
    return store;
  }

  it('stores JSON under its key prefix and reads it back, counting hits and misses', async () => {
    const store = await openStore();
    const answer = { items: [{ query: 'how do i deploy', asks: 3, avgRating: null }], nextCursor: null, range: { from: 1, to: null } };
    await store.set('insights:v1:commonQuestions:abc', answer, { ttlMs: MINUTE, tags: ['commonQuestions'] });
    expect(await store.get('insights:v1:commonQuestions:abc')).toEqual(answer);
    expect(await store.get('insights:v1:commonQuestions:missing')).toBeUndefined();
    expect(store.stats()).toEqual({ hits: 1, misses: 1, evictions: 0, errors: 0 });
    expect(JSON.parse((await raw.get(`${prefix}e:insights:v1:commonQuestions:abc`))!)).toEqual(answer);
    const keys: string[] = [];
    for await (const batch of raw.scanIterator({ MATCH: `${prefix}*` })) keys.push(...batch);
    expect(keys.sort()).toEqual([`${prefix}e:insights:v1:commonQuestions:abc`, `${prefix}t:commonQuestions`]);
  });

  it('gives each entry its TTL, and each tag the TTL of its longest-lived entry', async () => {
    const store = await openStore();
    await store.set('short', 1, { ttlMs: MINUTE, tags: ['shared'] });
    await store.set('long', 2, { ttlMs: 10 * MINUTE, tags: ['shared'] });
    await store.set('shorter', 3, { ttlMs: 10_000, tags: ['shared'] });
    const entryTtl = await raw.pTTL(`${prefix}e:short`);
    expect(entryTtl).toBeGreaterThan(0);
    expect(entryTtl).toBeLessThanOrEqual(MINUTE);
    const tagTtl = await raw.pTTL(`${prefix}t:shared`);
    expect(tagTtl).toBeGreaterThan(MINUTE);
    expect(tagTtl).toBeLessThanOrEqual(10 * MINUTE);
  });

  it('invalidating tags deletes exactly the entries carrying them, and the tags themselves', async () => {
    const store = await openStore();
    await store.set('day-10', 10, { ttlMs: MINUTE, tags: ['businessMetrics', 'businessMetrics@2026-03-10'] });
    await store.set('day-11', 11, { ttlMs: MINUTE, tags: ['businessMetrics', 'businessMetrics@2026-03-11'] });
    await store.set('both', 12, { ttlMs: MINUTE, tags: ['businessMetrics@2026-03-10', 'businessMetrics@2026-03-11'] });
    await store.invalidateTags(['businessMetrics@2026-03-10', 'never-used']);
    expect(await store.get('day-10')).toBeUndefined();
    expect(await store.get('both')).toBeUndefined();
    expect(await store.get('day-11')).toBe(11);
    expect(await raw.exists(`${prefix}t:businessMetrics@2026-03-10`)).toBe(0);
    await store.invalidateTags(['businessMetrics']);
    expect(await store.get('day-11')).toBeUndefined();
  });

  it('invalidates any number of tags in one round trip', async () => {
    prefix = `strata-test:${randomUUID()}:`;
    const client = createClient({ url: URL });
    const sent: string[] = [];
    // The real client, counting what the store sends: each sendCommand is one request and its reply.
    const counted: RedisConnection = {
      get isOpen() {
        return client.isOpen;
      },
      get isReady() {
        return client.isReady;
      },
      connect: () => client.connect(),
      sendCommand: <T>(args: readonly string[]) => {
        sent.push(args[0]!);
        return client.sendCommand(args) as Promise<T>;
      },
      on: (event, listener) => client.on(event, listener),
      close: () => client.close(),
      destroy: () => client.destroy(),
    };
    const store = new RedisCacheStore(counted, { url: URL, keyPrefix: prefix, connectTimeoutMs: 2_000, commandTimeoutMs: 2_000, logger: recordingLogger().logger });
    stores.push(store);
    expect(await store.connect()).toBe(true);
    const tags = Array.from({ length: 300 }, (_, index) => `commonQuestions#${index}`);
    for (let index = 0; index < 50; index += 1) await store.set(`k${index}`, index, { ttlMs: MINUTE, tags: [tags[index]!, tags[index + 100]!] });
    await store.invalidateTags(['warm-up']);
    sent.length = 0;
    await store.invalidateTags(tags);
    expect(sent).toEqual(['EVALSHA']);
    for (let index = 0; index < 50; index += 1) expect(await store.get(`k${index}`)).toBeUndefined();
  });

  it('prunes the members of a tag whose entries expired whenever the tag is written', async () => {
    const store = await openStore();
    // A member scored in the past stands for an entry that expired.
    await raw.zAdd(`${prefix}t:trendingQueries`, { score: 1, value: `${prefix}e:long-gone` });
    await store.set('fresh', 1, { ttlMs: MINUTE, tags: ['trendingQueries'] });
    expect(await raw.zRange(`${prefix}t:trendingQueries`, 0, -1)).toEqual([`${prefix}e:fresh`]);
  });

  it('treats a value that is not its JSON as a miss, counted as an error', async () => {
    const store = await openStore();
    await raw.set(`${prefix}e:corrupt`, '{not json');
    expect(await store.get('corrupt')).toBeUndefined();
    expect(store.stats()).toMatchObject({ hits: 0, errors: 1 });
  });

  it('answers uncached after close, and closes once', async () => {
    const store = await openStore();
    await store.set('k', 1, { ttlMs: MINUTE, tags: [] });
    await store.close();
    await store.close();
    expect(store.state).toBe('closed');
    expect(await store.get('k')).toBeUndefined();
    expect(await raw.get(`${prefix}e:k`)).toBe('1');
  });
});
